// Hand-written 64-bit snippets, branches and loops included (which the
// random sequences leave out), run on the host CPU and in the interpreter
// through the difftest harness (tests/difftest/difftest.h): registers,
// the given flags and the data area must agree. The snippets address the
// data area at 0x1800000.
#define BOOST_TEST_MODULE test_difftest_snippets
#include "tests/unit/test_interp_machine.h"

#include "tests/difftest/difftest.h"

#include <cmath>
#include <cstring>

using namespace rwd;
using namespace rwd::difftest;
namespace fl = core::rflags;

namespace {

void diff(const char* name, const std::string& body, uint64_t flag_mask = fl::kArith, int rounds = 40,
          tcg::DecodeMode mode = tcg::DecodeMode::k64) {
  const bool m64 = mode == tcg::DecodeMode::k64;
  std::vector<uint8_t> code = tcg::test::assemble((m64 ? ".code64\n" : ".code32\n") + body + "\n", kCodeAddr);
  static NativeRunner native;
  Generator gen(std::hash<std::string>()(body), mode);
  for (int round = 0; round < rounds; ++round) {
    Sequence s = gen.next(1);
    s.insns = {Insn{tcg::Form::kInvalid, code, 0, fl::kArith & ~flag_mask, 0}};
    s.in.gpr[core::kRsp] = kStackTop;
    Outcome n = native.run(s), r = run_interpreter(s);
    BOOST_REQUIRE_MESSAGE(n.ran && r.ran, name << ": " << n.problem << r.problem);
    std::string why = compare(s, n, r);
    if (!why.empty()) {
      BOOST_ERROR(name << " round " << round << ": " << why);
      return;
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(moves_and_extensions) {
  diff("movzx/movsx", "movzbl %al, %ebx\n movsbq %cl, %rdx\n movswl %dx, %esi\n movzwq %si, %rdi\n movslq %edi, %r8\n"
                      "mov %ah, %dl\n movb %bh, %ch\n mov %eax, %r10d\n xchg %r11, %r12\n xchg %eax, %r13d\n");
  diff("cbw family", "cbw\n cwde\n cdqe\n mov %rbx, %rax\n cwd\n cdq\n cqo\n");
  diff("lea", "lea 0x12(%rax,%rbx,4), %rcx\n lea -8(%rcx,%rdx,8), %esi\n lea (%r8,%r9), %di\n lea 0x7fffffff(%r10), %r11\n");
  diff("bswap", "bswap %eax\n bswap %rbx\n bswap %r9\n bswap %r10d\n");
}

BOOST_AUTO_TEST_CASE(conditions) {
  for (const char* cc : {"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"}) {
    std::string s = std::string("cmp %rbx, %rax\n set") + cc + " %cl\n cmov" + cc + " %rdx, %rsi\n cmov" + cc +
                    " %r8d, %r9d\n j" + cc + " 1f\n inc %r10\n1:\n";
    diff(cc, s);
  }
}

BOOST_AUTO_TEST_CASE(arithmetic_forms) {
  diff("alu imm", "add $0x7f, %al\n adc $-3, %bx\n sbb $0x12345678, %ecx\n sub $-1, %rdx\n and $0x0f0f0f0f, %esi\n"
                  "or $0x80, %dil\n xor $-0x80000000, %r8\n cmp $5, %r9w\n test $0x40, %r10b\n");
  diff("alu mem", "mov $0x1800040, %r8\n add %rax, (%r8)\n adc (%r8), %ebx\n subw %cx, 8(%r8)\n sbb 9(%r8), %dl\n"
                  "andl $0x55, 16(%r8)\n orq $-2, 24(%r8)\n xorb %cl, 32(%r8)\n cmpl %esi, 40(%r8)\n"
                  "testq %rdi, 48(%r8)\n incb 56(%r8)\n decw 57(%r8)\n negl 60(%r8)\n notq 64(%r8)\n");
  diff("mul/div", "mov $0x1800080, %r8\n imul %rbx, %rcx\n imul $-77, %edx, %esi\n imul $1000, %di, %di\n"
                  "mulb %cl\n mull 4(%r8)\n imulq 8(%r8)\n mov $0, %edx\n mov $7, %ebx\n or $1, %r9\n div %r9\n"
                  "mov $0, %edx\n divl %ebx\n cwd\n mov $3, %cx\n idiv %cx\n", 0);
  diff("xadd/cmpxchg", "mov $0x18000c0, %r8\n xadd %rax, %rbx\n xaddl %ecx, (%r8)\n cmpxchg %rdx, %rsi\n"
                       "cmpxchgl %edi, 4(%r8)\n mov 8(%r8), %eax\n cmpxchgl %r9d, 8(%r8)\n"
                       "mov 16(%r8), %eax\n mov 20(%r8), %edx\n cmpxchg8b 16(%r8)\n cmpxchg8b 24(%r8)\n"
                       "mov $0x1800100, %r8\n mov (%r8), %rax\n mov 8(%r8), %rdx\n cmpxchg16b (%r8)\n");
}

BOOST_AUTO_TEST_CASE(shifts_bits_and_scans) {
  diff("shift imm", "shl $3, %al\n shr $1, %bx\n sar $7, %ecx\n rol $13, %rdx\n ror $1, %esi\n rcl $1, %di\n rcr $1, %r8b\n"
                    "shld $5, %r9, %r10\n shrd $33, %r11, %r12\n sal %r13\n", fl::kCf | fl::kZf | fl::kSf | fl::kPf);
  diff("bt", "mov $0x1800200, %r8\n bt %rax, %rbx\n bts $5, %ecx\n btr %dx, %si\n btc $63, %rdi\n"
             "and $0x3ff, %r9\n bts %r9, (%r8)\n btr %r9d, 8(%r8)\n", fl::kCf);
  diff("scans", "or $1, %rbx\n bsf %rbx, %rax\n or $0x100, %ecx\n bsr %ecx, %edx\n popcnt %rsi, %rdi\n"
                "lzcnt %r8, %r9\n tzcnt %r10d, %r11d\n", fl::kZf);
}

BOOST_AUTO_TEST_CASE(stack_and_calls) {
  diff("push/pop", "push %rax\n push $-5\n pushw $7\n push 0x1800000\n pop %rbx\n popw %cx\n pop %rdx\n pop 0x1800008\n"
                   "pushf\n pop %rsi\n mov %rdi, %r15\n and $0xcd5, %r15\n push %r15\n popf\n enter $32, $0\n leave\n mov %rsp, %rbp\n enter $16, $3\n leave\n");
  diff("call/ret", "call 1f\n jmp 2f\n1: add $1, %rax\n ret\n2: lea 3f(%rip), %rbx\n call *%rbx\n jmp 4f\n3: ret $0\n4:\n", fl::kArith, 40);
  diff("loop", "mov $5, %ecx\n1: add %rcx, %rax\n loop 1b\n mov $3, %ecx\n2: cmp $1, %rcx\n loopne 2b\n jrcxz 3f\n inc %r9\n3:\n");
}

BOOST_AUTO_TEST_CASE(string_instructions) {
  diff("movs/stos", "cld\n mov $0x1800000, %rsi\n mov $0x1800400, %rdi\n mov $37, %ecx\n rep movsb\n mov $9, %ecx\n"
                    "rep movsq\n mov $5, %ecx\n rep stosw\n std\n mov $0x1800800, %rdi\n mov $4, %ecx\n rep stosl\n cld\n"
                    "lodsb\n lodsq\n", fl::kArith | fl::kDf);
  diff("cmps/scas", "cld\n mov $0x1800000, %rsi\n mov $0x1800000, %rdi\n mov $64, %ecx\n repe cmpsb\n"
                    "mov $0x1800100, %rdi\n mov (%rdi), %rax\n mov $12, %ecx\n xor $1, %al\n repne scasb\n"
                    "mov $0x1800300, %rsi\n mov $0x1800308, %rdi\n mov $4, %ecx\n repe cmpsl\n", fl::kArith | fl::kDf);
}

BOOST_AUTO_TEST_CASE(flag_instructions) {
  diff("flags", "stc\n cmc\n setc %al\n clc\n setc %ah\n sahf\n lahf\n add %rbx, %rcx\n pushf\n pop %rdx\n", fl::kArith);
}

// x87 programs: each starts from FNINIT (or a control word it loads) and
// leaves its results in registers, the status word (FNSTSW AX) and the data
// area, so the comparison sees them. Operands come from the random data area.
BOOST_AUTO_TEST_CASE(x87_constants_in_every_rounding_mode) {
  for (int rc = 0; rc < 4; ++rc) {
    std::string cw = std::to_string(0x037f | rc << 10);
    diff("constants", "fninit\n movw $" + cw + ", 0x1800000\n fldcw 0x1800000\n fldpi\n fldl2e\n fldl2t\n fldlg2\n"
                      "fldln2\n fld1\n fldz\n mov $0x1800100, %r8\n fstpt (%r8)\n fstpt 10(%r8)\n fstpt 20(%r8)\n"
                      "fstpt 30(%r8)\n fstpt 40(%r8)\n fstpt 50(%r8)\n fstpt 60(%r8)\n fnstsw %ax\n", 0, 4);
  }
}

BOOST_AUTO_TEST_CASE(x87_arithmetic_under_each_precision_and_rounding) {
  for (int pc : {0, 2, 3})
    for (int rc = 0; rc < 4; ++rc) {
      std::string cw = std::to_string(0x003f | pc << 8 | rc << 10);
      diff("arith", "fninit\n movw $" + cw + ", 0x1800000\n fldcw 0x1800000\n mov $0x1800040, %r8\n"
                    "fildq (%r8)\n fildl 8(%r8)\n fdivr %st(1), %st\n fld %st(0)\n fmul %st(0), %st\n fsqrt\n"
                    "fadds 16(%r8)\n fsubl 24(%r8)\n fmull 32(%r8)\n fdivs 40(%r8)\n fxch %st(2)\n fsubrp\n"
                    "faddp\n fstl 48(%r8)\n fsts 56(%r8)\n fistpll 64(%r8)\n fnstsw %ax\n", 0, 10);
    }
}

BOOST_AUTO_TEST_CASE(x87_partial_remainder_loop) {
  diff("fprem", "fninit\n mov $0x1800040, %r8\n movl $0x3f800001, (%r8)\n flds (%r8)\n fldt 16(%r8)\n"
                "fabs\n1: fprem\n fnstsw %ax\n test $4, %ah\n jnz 1b\n fstpt 32(%r8)\n fldt 48(%r8)\n"
                "fldt 64(%r8)\n2: fprem1\n fnstsw %ax\n test $4, %ah\n jnz 2b\n fnstsw %ax\n", 0, 20);
}

BOOST_AUTO_TEST_CASE(x87_integer_and_bcd_conversions) {
  for (int rc = 0; rc < 4; ++rc) {
    std::string cw = std::to_string(0x037f | rc << 10);
    diff("fist/fbstp", "fninit\n movw $" + cw + ", 0x1800000\n fldcw 0x1800000\n mov $0x1800040, %r8\n"
                       "fldl (%r8)\n fld %st(0)\n fistps 8(%r8)\n fld %st(0)\n fistpl 12(%r8)\n fld %st(0)\n"
                       "fisttpl 16(%r8)\n fld %st(0)\n fisttpll 24(%r8)\n fld %st(0)\n frndint\n fstpt 32(%r8)\n"
                       "fildll 48(%r8)\n fbstp 64(%r8)\n fbld 64(%r8)\n fistpll 80(%r8)\n filds 96(%r8)\n"
                       "fimull 100(%r8)\n fidivrs 104(%r8)\n ficompl 108(%r8)\n fnstsw %ax\n", 0, 10);
  }
}

BOOST_AUTO_TEST_CASE(x87_compares_and_branches) {
  diff("fcomi", "fninit\n mov $0x1800040, %r8\n fldl (%r8)\n fldl 8(%r8)\n fcomi %st(1), %st\n jb 1f\n"
                "inc %rbx\n1: fucomi %st(1), %st\n jp 2f\n inc %rcx\n2: fcom %st(1)\n fnstsw %ax\n sahf\n ja 3f\n"
                "inc %rdx\n3: ftst\n fxam\n fnstsw %ax\n fucompp\n fnstsw %ax\n", fl::kCf | fl::kZf | fl::kPf, 20);
  diff("fcmov", "fninit\n mov $0x1800040, %r8\n fldl (%r8)\n fldl 8(%r8)\n cmp %rax, %rbx\n fcmovb %st(1), %st\n"
                "fcmovnbe %st(1), %st\n fcmovu %st(1), %st\n fstpl 16(%r8)\n fnstsw %ax\n", 0, 20);
}

BOOST_AUTO_TEST_CASE(x87_environment_and_state_images) {
  diff("fnsave/frstor", "fninit\n mov $0x1800040, %r8\n fldl (%r8)\n fldt 8(%r8)\n fldpi\n fnsave 32(%r8)\n"
                        "fld1\n frstor 32(%r8)\n fnstenv 160(%r8)\n fldenv 160(%r8)\n fxch\n data16 fnstenv 200(%r8)\n"
                        "fstpt 220(%r8)\n data16 fnsave 240(%r8)\n data16 frstor 240(%r8)\n fnstsw %ax\n", 0, 10);
  diff("fxtract/fscale", "fninit\n mov $0x1800040, %r8\n fldl (%r8)\n fxtract\n fstpt 16(%r8)\n fstpt 32(%r8)\n"
                         "fildl 48(%r8)\n fldl 56(%r8)\n fscale\n fstpt 64(%r8)\n fnstsw %ax\n", 0, 10);
}

BOOST_AUTO_TEST_CASE(x87_unmasked_exceptions_reach_the_next_waiting_instruction) {
  // Unmasks zero-divide, divides by zero (the flag and ES set, no fault
  // yet), reads the status, then FWAIT takes #MF.
  diff("#MF", "fninit\n movw $0x037b, 0x1800000\n fldcw 0x1800000\n fld1\n fldz\n fdivrp\n fnstsw %ax\n"
              "mov %eax, %ebx\n fwait\n inc %rcx\n", 0, 4);
  diff("fnclex", "fninit\n movw $0x0372, 0x1800000\n fldcw 0x1800000\n fld1\n fldz\n fdivrp\n fnclex\n"
                 "fld1\n fnstsw %ax\n", 0, 4);
}

// Square roots are exact in every format: SQRTSD/SQRTSS under each MXCSR
// rounding mode (with DAZ+FTZ once), FSQRT under each precision and rounding
// control, on perfect squares, their neighbours one unit either side, random
// significands of both exponent parities and denormals, placed in the data
// area. Every result, the status word and MXCSR must match the host's.
BOOST_AUTO_TEST_CASE(square_roots_of_squares_neighbours_and_random_values) {
  constexpr unsigned kCount = 96;                     // operands per format
  constexpr uint64_t kDoubles = 0x100, kFloats = 0x800, kExtended = 0xa00;  // offsets in the data area
  std::vector<uint8_t> code;
  std::string body;
  for (int rc = 0; rc < 5; ++rc) {  // the fifth pass: round to nearest with DAZ and FTZ
    const uint32_t mxcsr = rc < 4 ? 0x1f80u | rc << 13 : 0x9fc0u;
    const uint64_t out = 0x2000 + rc * 0x800;
    body += "movl $" + std::to_string(mxcsr) + ", 0x1800000\n ldmxcsr 0x1800000\n";
    body += "mov $" + std::to_string(kDataAddr + kDoubles) + ", %rsi\n mov $" + std::to_string(kDataAddr + out) +
            ", %rdi\n mov $" + std::to_string(kCount) + ", %ecx\n" + std::to_string(10 + rc) +
            ": sqrtsd (%rsi), %xmm0\n movsd %xmm0, (%rdi)\n sqrtss " + std::to_string(kFloats - kDoubles) + "(%rsi), %xmm1\n movss %xmm1, 0x400(%rdi)\n"
            " add $8, %rsi\n add $8, %rdi\n loop " + std::to_string(10 + rc) + "b\n stmxcsr " +
            std::to_string(kDataAddr + out + 0x7f0) + "\n";
  }
  for (int pc : {0, 2, 3})
    for (int rc = 0; rc < 4; ++rc) {
      const int pass = pc * 4 + rc;
      const uint64_t out = 0x5000 + pass * 0x400;
      body += "fninit\n movw $" + std::to_string(0x007f | pc << 8 | rc << 10) + ", 0x1800000\n fldcw 0x1800000\n";
      body += "mov $" + std::to_string(kDataAddr + kExtended) + ", %rsi\n mov $" + std::to_string(kDataAddr + out) +
              ", %rdi\n mov $" + std::to_string(kCount / 2) + ", %ecx\n" + std::to_string(20 + pass) +
              ": fldt (%rsi)\n fsqrt\n fstpt (%rdi)\n add $10, %rsi\n add $10, %rdi\n loop " +
              std::to_string(20 + pass) + "b\n fnstsw " + std::to_string(kDataAddr + out + 0x3f0) + "\n";
    }
  code = tcg::test::assemble(".code64\n" + body, kCodeAddr);
  static NativeRunner native;
  Generator gen(2024);
  uint64_t state = 777;
  auto next = [&] { return state = state * 6364136223846793005ull + 1442695040888963407ull; };
  for (int round = 0; round < 6; ++round) {
    Sequence s = gen.next(1);
    s.insns = {Insn{tcg::Form::kInvalid, code, 0, fl::kArith, 0}};
    s.in.gpr[core::kRsp] = kStackTop;
    auto put = [&](uint64_t offset, const void* p, size_t n) { std::memcpy(&s.data[offset], p, n); };
    for (unsigned i = 0; i < kCount; ++i) {
      const uint64_t r = next(), kind = i % 4;
      // Doubles: a square of a 26-bit integer is exact; kinds 1 and 2 step one unit off it.
      uint64_t root26 = (r >> 38) | 1u << 25, bits;
      double sq = double(root26 * root26) * std::ldexp(1.0, int(r % 200) - 100);
      std::memcpy(&bits, &sq, 8);
      if (kind == 1) ++bits;
      if (kind == 2) --bits;
      if (kind == 3) bits = (r & 0x000fffffffffffffull) | (i % 8 == 3 ? 0 : (0x3ffull + r % 64 - 32) << 52);
      put(kDoubles + i * 8, &bits, 8);
      // Floats: the same from a 12-bit root.
      uint32_t root12 = uint32_t(r >> 52) | 1u << 11, fbits;
      float fsq = float(root12 * root12) * std::ldexp(1.0f, int(r % 60) - 30);
      std::memcpy(&fbits, &fsq, 4);
      if (kind == 1) ++fbits;
      if (kind == 2) --fbits;
      if (kind == 3) fbits = uint32_t(r >> 9 & 0x7fffff) | (i % 8 == 3 ? 0 : uint32_t(127 + r % 32 - 16) << 23);
      put(kFloats + i * 4, &fbits, 4);
    }
    for (unsigned i = 0; i < kCount / 2; ++i) {
      // Extended: squares of 32-bit integers fill the 64-bit significand exactly.
      const uint64_t r = next(), kind = i % 4, root32 = (r >> 32) | 1u << 31;
      uint64_t mant = root32 * root32;
      uint16_t exp = uint16_t(16383 + 63 + (r & 63) - 32);
      if (!(mant >> 63)) {  // normalise the squares below 2^63
        mant <<= 1;
        --exp;
      }
      if (kind == 1) ++mant;
      if (kind == 2) --mant;  // leaves the integer bit set: root32^2 >= 2^62 was normalised
      if (kind == 3) {
        mant = next() | 1ull << 63;
        if (i % 8 == 3) {  // a denormal
          mant >>= 1 + (r & 15);
          exp = 0;
        }
      }
      put(kExtended + i * 10, &mant, 8);
      put(kExtended + i * 10 + 8, &exp, 2);
    }
    Outcome n = native.run(s), w = run_interpreter(s);
    BOOST_REQUIRE_MESSAGE(n.ran && w.ran, n.problem << w.problem);
    BOOST_TEST(n.vector == 3);
    std::string why = compare(s, n, w);
    BOOST_TEST(why.empty(), "round " << round << ": " << why);
  }
}

// RCPPS and RSQRTPS are bounded, not defined, by the SDM (relative error at
// most 1.5 * 2^-12), and vendors' tables differ: the host CPU and rewind
// must both stay within the bound of the exact value (computed here in
// double precision), and agree exactly on zeros, infinities and NaNs.
BOOST_AUTO_TEST_CASE(reciprocal_approximations_within_the_sdm_bound) {
  std::vector<uint8_t> code = tcg::test::assemble(".code64\n rcpps %xmm0, %xmm1\n rsqrtps %xmm0, %xmm2\n"
                                                  " rcpss %xmm3, %xmm4\n rsqrtss %xmm3, %xmm5\n", kCodeAddr);
  static NativeRunner native;
  Generator gen(99);
  uint64_t state = 12345;
  auto next = [&] { return state = state * 6364136223846793005ull + 1442695040888963407ull; };
  int checked = 0;
  for (int round = 0; round < 500; ++round) {
    Sequence s = gen.next(1);
    s.insns = {Insn{tcg::Form::kInvalid, code, 0, 0, 0}};
    s.in.fx.mxcsr = 0x1f80;
    for (int r : {0, 3})
      for (int l = 0; l < 4; ++l) {
        uint32_t x = uint32_t(next() >> 32);
        if (l == 0 && round % 8 == 0) x = uint32_t(next() % 4) * 0x7f800000u / 3;  // zeros, infinities, NaNs
        std::memcpy(s.in.fx.xmm[r] + 4 * l, &x, 4);
      }
    Outcome n = native.run(s), w = run_interpreter(s);
    BOOST_REQUIRE(n.ran && w.ran);
    BOOST_REQUIRE_EQUAL(int(n.vector), int(w.vector));
    for (int reg : {1, 2, 4, 5}) {
      const int src = reg <= 2 ? 0 : 3;
      for (int l = 0; l < (reg <= 2 ? 4 : 1); ++l) {
        uint32_t xb, nb, wb;
        std::memcpy(&xb, s.in.fx.xmm[src] + 4 * l, 4);
        std::memcpy(&nb, n.regs.fx.xmm[reg] + 4 * l, 4);
        std::memcpy(&wb, w.regs.fx.xmm[reg] + 4 * l, 4);
        float x, nf, wf;
        std::memcpy(&x, &xb, 4);
        std::memcpy(&nf, &nb, 4);
        std::memcpy(&wf, &wb, 4);
        const bool sqrt = reg == 2 || reg == 5;
        const double exact = sqrt ? 1.0 / std::sqrt(double(x)) : 1.0 / double(x);
        if (std::isfinite(exact) && std::fabs(exact) >= 0x1p-126 && std::fabs(exact) < 0x1p127 &&
            std::fpclassify(x) == FP_NORMAL) {
          BOOST_TEST(std::fabs(nf - exact) <= 0x1.8p-12 * std::fabs(exact), "host " << nf << " for " << x);
          BOOST_TEST(std::fabs(wf - exact) <= 0x1.8p-12 * std::fabs(exact), "rewind " << wf << " for " << x);
          ++checked;
        } else {
          BOOST_TEST(nb == wb, std::hex << "x " << xb << " host " << nb << " rewind " << wb << (sqrt ? " rsqrt" : " rcp"));
        }
      }
    }
    BOOST_TEST(n.regs.fx.mxcsr == w.regs.fx.mxcsr);
  }
  BOOST_TEST(checked > 1500);
}

// XSAVE/XSAVEOPT/XRSTOR for the x87 and SSE components (EDX:EAX = 3, the
// part of the host's XCR0 rewind has), 64-byte aligned in the data area.
// The stored MXCSR_MASK is overwritten: the host's (AMD) has bit 17.
BOOST_AUTO_TEST_CASE(xsave_images_of_the_x87_and_sse_components) {
  diff("xsave", "mov $3, %eax\n xor %edx, %edx\n mov $0x1800400, %r8\n movq $0, 512(%r8)\n movq $0, 520(%r8)\n"
                "xsave (%r8)\n movl $0, 28(%r8)\n xsave64 0x240(%r8)\n movl $0, 0x25c(%r8)\n mov $2, %eax\n"
                "xsaveopt 0x480(%r8)\n movl $0, 0x49c(%r8)\n fldpi\n mov $3, %eax\n xrstor (%r8)\n fnstsw %ax\n", 0, 20);
  diff("xrstor init", "mov $0x1800400, %r8\n mov $3, %eax\n xor %edx, %edx\n xsave (%r8)\n movl $0, 28(%r8)\n"
                      "andq $-3, 512(%r8)\n xrstor (%r8)\n movq $0, 512(%r8)\n mov $1, %eax\n xrstor (%r8)\n"
                      "xsave 0x240(%r8)\n movl $0, 0x25c(%r8)\n", 0, 20);
  diff("xgetbv", "xor %ecx, %ecx\n xgetbv\n and $3, %eax\n xor %edx, %edx\n", 0, 2);
  // The 64-bit image has no FCS/FDS: FXRSTOR64 clears them (a 32-bit
  // FNSTENV after it stores 0), the 32-bit FXRSTOR loads them from the image.
  // (The image's FOP, FIP and FDP are cleared first: the host saves them
  // only with an exception pending.)
  diff("fxrstor64 fcs", "mov $0x1800400, %r8\n fninit\n fld1\n fxsave64 (%r8)\n movw $0, 6(%r8)\n"
                        "movq $0, 8(%r8)\n movq $0, 16(%r8)\n frndint\n fxrstor64 (%r8)\n movl $0, 28(%r8)\n"
                        "fnstenv 0x200(%r8)\n movl $0, 0x20c(%r8)\n movl $0, 0x214(%r8)\n fldcw 0x200(%r8)\n", 0, 4);
}

// Page faults on the memory images: which byte CR2 names is the host's
// order of checking them (FXSAVE/FXRSTOR: the last byte, then the first;
// FNSAVE/FRSTOR/FNSTENV/FLDENV and XSAVE: the first, then the last; XRSTOR:
// the first, then the header), and ordinary operands crossing into a
// missing page name that page's first byte. The data area ends at
// 0x1810000; the page below 0x1800000 is missing too.
BOOST_AUTO_TEST_CASE(faults_on_images_name_the_hosts_byte) {
  for (const char* at : {"0x17fff00", "0x180ff00", "0x17ff000", "0x180fe40"}) {
    const std::string base = std::string("mov $") + at + ", %ebx\n";
    diff("fxsave", base + "fxsave (%rbx)\n", 0, 4);
    diff("fxrstor", base + "fxrstor (%rbx)\n", 0, 4);
    diff("xsave", base + "mov $3, %eax\n xor %edx, %edx\n xsave (%rbx)\n", 0, 4);
    diff("xrstor", base + "mov $3, %eax\n xor %edx, %edx\n xrstor (%rbx)\n", 0, 4);
  }
  for (const char* at : {"0x17fff90", "0x180ffa0", "0x180fff0", "0x17ff000"}) {
    const std::string base = std::string("mov $") + at + ", %ebx\n";
    diff("fnsave", base + "fnsave (%rbx)\n", 0, 4);
    diff("frstor", base + "frstor (%rbx)\n", 0, 4);
    diff("fnstenv", base + "fnstenv (%rbx)\n", 0, 4);
    diff("fldenv", base + "fldenv (%rbx)\n", 0, 4);
  }
  diff("movups crossing", "mov $0x180fff8, %ebx\n movups (%rbx), %xmm0\n", 0, 4);
  diff("fld m80 crossing", "mov $0x180fffa, %ebx\n fldt (%rbx)\n", 0, 4);
  diff("fstp m80 crossing", "mov $0x180fffa, %ebx\n fstpt (%rbx)\n", 0, 4);
}

// 32-bit code at the top of the 4 GiB segments: each piece of an operand
// has its own limit check (an m80's first 8 bytes fit: #PF; a 16-byte
// vector operand is checked whole: #GP), and an image's offsets wrap around
// 4 GiB (FXSAVE at 0xfffffff0 faults on its last byte, at 0x1ef).
BOOST_AUTO_TEST_CASE(operands_at_the_top_of_32bit_segments) {
  const auto k32 = tcg::DecodeMode::k32;
  diff("fldt", "mov $0xfffffff8, %ebx\n fldt (%ebx)\n", 0, 4, k32);
  diff("fldt over the limit", "mov $0xfffffffa, %ebx\n fldt (%ebx)\n", 0, 4, k32);
  diff("fstpt", "mov $0xfffffff8, %ebx\n fld1\n fstpt (%ebx)\n", 0, 4, k32);
  diff("les", "mov $0xfffffffc, %ebx\n les (%ebx), %eax\n", 0, 4, k32);
  diff("movq", "mov $0xfffffffc, %ebx\n movq (%ebx), %xmm0\n", 0, 4, k32);
  diff("movups", "mov $0xfffffff4, %ebx\n movups (%ebx), %xmm0\n", 0, 4, k32);
  diff("fxsave wrapping", "mov $0xfffffff0, %ebx\n fxsave (%ebx)\n", 0, 4, k32);
  diff("fldenv16", "mov $0xfffffff3, %ebx\n data16 fldenv (%ebx)\n", 0, 4, k32);
  diff("fnstenv32", "mov $0xfffffffd, %ebx\n fnstenv (%ebx)\n", 0, 4, k32);
  diff("bound", "mov $0xfffffffb, %ebx\n bound %eax, (%ebx)\n", 0, 4, k32);
  diff("maskmovdqu", "mov $0xfffffff8, %edi\n pcmpeqb %xmm1, %xmm1\n maskmovdqu %xmm1, %xmm0\n", 0, 4, k32);
  // FXSAVE/FXRSTOR check their first 4 bytes before alignment (#SS through
  // SS when those cross the limit), XSAVE and XRSTOR their first byte; both
  // images wrap around 4 GiB.
  diff("fxrstor ss first dword", "mov $0xfffffffd, %ebp\n fxrstor (%ebp)\n", 0, 4, k32);
  diff("fxrstor ss misaligned", "mov $0xfffffffc, %ebp\n fxrstor (%ebp)\n", 0, 4, k32);
  diff("fxsave ss first dword", "mov $0xffffffff, %ebp\n fxsave (%ebp)\n", 0, 4, k32);
  const std::string xsave = "mov $3, %eax\n xor %edx, %edx\n";
  diff("xsave ss misaligned", xsave + "mov $0xfffffffd, %ebp\n xsave (%ebp)\n", 0, 4, k32);
  diff("xsave wrapping", xsave + "mov $0xffffffc0, %ebp\n xsave (%ebp)\n", 0, 4, k32);
  diff("xsaveopt wrapping", xsave + "mov $0xffffffc0, %ebx\n xsaveopt (%ebx)\n", 0, 4, k32);
  diff("xrstor wrapping", xsave + "mov $0xffffffc0, %ebp\n xrstor (%ebp)\n", 0, 4, k32);
}
