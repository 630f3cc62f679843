// Flags oracle: every ALU form's semantics against the host CPU executing the
// same instruction (real silicon as the oracle), on many pseudo-random and
// boundary operands, comparing the result and the flags the SDM defines.
#define BOOST_TEST_MODULE test_interp_flags
#include "tests/unit/test_interp_machine.h"

#include "tcg-llvm/interp/interp_cpu.h"
#include "tcg-llvm/semantics/alu.h"
#include "tcg-llvm/semantics/bits.h"
#include "tcg-llvm/semantics/muldiv.h"
#include "tcg-llvm/semantics/shift.h"

using namespace rwd;
using namespace rwd::tcg;
using namespace rwd::tcg::test;
namespace fl = core::rflags;

namespace {

constexpr int kCases = 20000;
constexpr uint64_t kAll = fl::kArith;

uint64_t splitmix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
// Operands biased towards the interesting edges (0, 1, all-ones, sign bits).
uint64_t operand(uint64_t& seed) {
  uint64_t r = splitmix(seed);
  switch (r & 7) {
    case 0: return 0;
    case 1: return ~0ull;
    case 2: return 0x8000000000000000ull >> (splitmix(seed) & 63);
    case 3: return (1ull << (splitmix(seed) & 63)) - 1;
    case 4: return splitmix(seed) & 0xff;
    default: return splitmix(seed);
  }
}

// Runs `asm_insn` natively with a in RAX, b in RCX (count in CL), flags_in loaded.
// The red zone is stepped over because the asm pushes.
#define NATIVE(name, insn)                                                                  \
  void name(uint64_t& a, uint64_t& b, uint64_t flags_in, uint64_t& flags_out) {             \
    uint64_t fo;                                                                            \
    asm volatile("add $-128, %%rsp\n\tpush %[fi]\n\tpopfq\n\t" insn                         \
                 "\n\tpushfq\n\tpop %[fo]\n\tsub $-128, %%rsp"                              \
                 : "+a"(a), "+c"(b), "+d"(fixed_rdx), [fo] "=&r"(fo)                        \
                 : [fi] "r"(flags_in)                                                      \
                 : "cc", "memory");                                                         \
    flags_out = fo;                                                                         \
  }

uint64_t fixed_rdx = 0;

struct Harness {
  TestMachine m;
  BlockCache blocks;
  InterpCpu cpu{m.env, blocks};
  Harness() {
    cpu.s = flat32_state(0x1000);
    cpu.s.cr0 = core::cr0::kPe | core::cr0::kEt;
    cpu.s.efer = core::efer::kLma | core::efer::kLme;
    cpu.s.seg[int(core::SegReg::kCs)].attrs = 0xa09b;  // 64-bit code: all operand sizes
    cpu.segments_changed();
  }
  // rm = RAX (destination), reg = RCX (source / count).
  DecodedInsn insn(uint8_t op_size, uint64_t imm = 0) {
    DecodedInsn d{};
    d.has_modrm = true;
    d.mod = 3;
    d.rm = 0;
    d.reg = 1;
    d.base = kNoReg;
    d.index = kNoReg;
    d.rex = 0x48;
    d.op_size = op_size;
    d.addr_size = 8;
    d.imm = imm;
    return d;
  }
};

using Native = void (*)(uint64_t&, uint64_t&, uint64_t, uint64_t&);
using Sem = Status (*)(InterpCpu&, const DecodedInsn&);

// Defined-flag mask for a case (some flags are defined only for some counts).
using MaskFn = uint64_t (*)(uint64_t a, uint64_t b, unsigned bits);

void check(const char* name, unsigned bits, Native native, Sem sem, MaskFn mask, bool check_rcx = false,
           bool rdx_result = false) {
  Harness h;
  uint64_t seed = 0x1234 + bits * 77 + uint64_t(name[0]) * 1000 + uint64_t(name[1]);
  int failures = 0;
  for (int i = 0; i < kCases && failures < 5; ++i) {
    uint64_t a = operand(seed), b = operand(seed);
    uint64_t fin = (splitmix(seed) & kAll) | fl::kFixed1;
    uint64_t rdx = operand(seed);
    uint64_t na = a, nb = b, nf;
    fixed_rdx = rdx;
    native(na, nb, fin, nf);
    uint64_t nrdx = fixed_rdx;
    h.cpu.s.gpr[core::kRax] = a;
    h.cpu.s.gpr[core::kRcx] = b;
    h.cpu.s.gpr[core::kRdx] = rdx;
    h.cpu.s.rflags = fin;
    DecodedInsn d = h.insn(uint8_t(bits == 8 ? 1 : bits / 8));
    Status st = sem(h.cpu, d);
    uint64_t m = mask(a, b, bits);
    bool ok = st == Status::kNext && h.cpu.s.gpr[core::kRax] == na && ((h.cpu.s.rflags ^ nf) & m) == 0;
    if (check_rcx) ok = ok && h.cpu.s.gpr[core::kRcx] == nb;
    if (rdx_result) ok = ok && h.cpu.s.gpr[core::kRdx] == nrdx;
    if (!ok) {
      ++failures;
      BOOST_ERROR(name << bits << " a=0x" << std::hex << a << " b=0x" << b << " rdx=0x" << rdx << " fin=0x" << fin
                       << ": native rax=0x" << na << " rdx=0x" << nrdx << " flags=0x" << (nf & m)
                       << ", rewind rax=0x" << h.cpu.s.gpr[core::kRax] << " rdx=0x" << h.cpu.s.gpr[core::kRdx]
                       << " flags=0x" << (h.cpu.s.rflags & m));
    }
  }
}

uint64_t all_flags(uint64_t, uint64_t, unsigned) { return kAll; }
uint64_t logic_flags(uint64_t, uint64_t, unsigned) { return kAll & ~fl::kAf; }
uint64_t cf_only(uint64_t, uint64_t, unsigned) { return fl::kCf; }
unsigned masked_count(uint64_t b, unsigned bits) { return unsigned(b) & (bits == 64 ? 63 : 31); }
uint64_t shift_flags(uint64_t, uint64_t b, unsigned bits) {
  unsigned c = masked_count(b, bits);
  if (c == 0) return kAll;
  uint64_t m = fl::kCf | fl::kZf | fl::kSf | fl::kPf;
  if (c > bits) m &= ~fl::kCf;
  if (c == 1) m |= fl::kOf;
  return m;
}
uint64_t rot_flags(uint64_t, uint64_t b, unsigned bits) {
  unsigned c = masked_count(b, bits);
  if (c == 0) return kAll;
  return fl::kCf | (c == 1 ? fl::kOf : 0) | (kAll & ~(fl::kCf | fl::kOf));
}

#define SIZES(X, NAME, INSN)                      \
  X(NAME##8, INSN "b %%cl, %%al")                  \
  X(NAME##16, INSN "w %%cx, %%ax")                 \
  X(NAME##32, INSN "l %%ecx, %%eax")               \
  X(NAME##64, INSN "q %%rcx, %%rax")
#define UNARY_SIZES(X, NAME, INSN) \
  X(NAME##8, INSN "b %%al")         \
  X(NAME##16, INSN "w %%ax")        \
  X(NAME##32, INSN "l %%eax")       \
  X(NAME##64, INSN "q %%rax")
#define SHIFT_SIZES(X, NAME, INSN)  \
  X(NAME##8, INSN "b %%cl, %%al")    \
  X(NAME##16, INSN "w %%cl, %%ax")   \
  X(NAME##32, INSN "l %%cl, %%eax")  \
  X(NAME##64, INSN "q %%cl, %%rax")

SIZES(NATIVE, add, "add")
SIZES(NATIVE, adc, "adc")
SIZES(NATIVE, sub, "sub")
SIZES(NATIVE, sbb, "sbb")
SIZES(NATIVE, and, "and")
SIZES(NATIVE, or, "or")
SIZES(NATIVE, xor, "xor")
SIZES(NATIVE, cmp, "cmp")
SIZES(NATIVE, test, "test")
UNARY_SIZES(NATIVE, inc, "inc")
UNARY_SIZES(NATIVE, dec, "dec")
UNARY_SIZES(NATIVE, neg, "neg")
UNARY_SIZES(NATIVE, not, "not")
SHIFT_SIZES(NATIVE, shl, "shl")
SHIFT_SIZES(NATIVE, shr, "shr")
SHIFT_SIZES(NATIVE, sar, "sar")
SHIFT_SIZES(NATIVE, rol, "rol")
SHIFT_SIZES(NATIVE, ror, "ror")
SHIFT_SIZES(NATIVE, rcl, "rcl")
SHIFT_SIZES(NATIVE, rcr, "rcr")
NATIVE(mul8, "mulb %%cl")
NATIVE(mul16, "mulw %%cx")
NATIVE(mul32, "mull %%ecx")
NATIVE(mul64, "mulq %%rcx")
NATIVE(imul8, "imulb %%cl")
NATIVE(imul16, "imulw %%cx")
NATIVE(imul32, "imull %%ecx")
NATIVE(imul64, "imulq %%rcx")
NATIVE(imul2_16, "imulw %%cx, %%ax")
NATIVE(imul2_32, "imull %%ecx, %%eax")
NATIVE(imul2_64, "imulq %%rcx, %%rax")
NATIVE(bt16, "btw %%cx, %%ax")
NATIVE(bt32, "btl %%ecx, %%eax")
NATIVE(bt64, "btq %%rcx, %%rax")
NATIVE(bts32, "btsl %%ecx, %%eax")
NATIVE(btr64, "btrq %%rcx, %%rax")
NATIVE(btc16, "btcw %%cx, %%ax")
NATIVE(shld32, "shldl %%cl, %%edx, %%eax")
NATIVE(shrd32, "shrdl %%cl, %%edx, %%eax")
NATIVE(shld64, "shldq %%cl, %%rdx, %%rax")
NATIVE(shrd64, "shrdq %%cl, %%rdx, %%rax")
NATIVE(shld16, "shldw %%cl, %%dx, %%ax")
NATIVE(shrd16, "shrdw %%cl, %%dx, %%ax")

template <class T> constexpr Sem sem() { return &T::template run<InterpCpu>; }

}  // namespace

#define CHECK_BIN(OP, name, mask)                                              \
  check(#name, 8, name##8, sem<AluEG<OP, 1, false>>(), mask);                  \
  check(#name, 16, name##16, sem<AluEG<OP, 2, false>>(), mask);                \
  check(#name, 32, name##32, sem<AluEG<OP, 4, false>>(), mask);                \
  check(#name, 64, name##64, sem<AluEG<OP, 8, false>>(), mask)
#define CHECK_UN(OP, name, mask)                                               \
  check(#name, 8, name##8, sem<UnaryE<OP, 1, false>>(), mask);                 \
  check(#name, 16, name##16, sem<UnaryE<OP, 2, false>>(), mask);               \
  check(#name, 32, name##32, sem<UnaryE<OP, 4, false>>(), mask);               \
  check(#name, 64, name##64, sem<UnaryE<OP, 8, false>>(), mask)
#define CHECK_SH(OP, name, mask)                                                        \
  check(#name, 8, name##8, sem<ShiftE<OP, 1, false, CountFrom::kCl>>(), mask);          \
  check(#name, 16, name##16, sem<ShiftE<OP, 2, false, CountFrom::kCl>>(), mask);        \
  check(#name, 32, name##32, sem<ShiftE<OP, 4, false, CountFrom::kCl>>(), mask);        \
  check(#name, 64, name##64, sem<ShiftE<OP, 8, false, CountFrom::kCl>>(), mask)

BOOST_AUTO_TEST_CASE(binary_alu_ops_match_the_host) {
  CHECK_BIN(OpAdd, add, all_flags);
  CHECK_BIN(OpAdc, adc, all_flags);
  CHECK_BIN(OpSub, sub, all_flags);
  CHECK_BIN(OpSbb, sbb, all_flags);
  CHECK_BIN(OpAnd, and, logic_flags);
  CHECK_BIN(OpOr, or, logic_flags);
  CHECK_BIN(OpXor, xor, logic_flags);
  CHECK_BIN(OpCmp, cmp, all_flags);
  CHECK_BIN(OpTest, test, logic_flags);
}

BOOST_AUTO_TEST_CASE(unary_ops_match_the_host) {
  CHECK_UN(OpInc, inc, all_flags);
  CHECK_UN(OpDec, dec, all_flags);
  CHECK_UN(OpNeg, neg, all_flags);
  CHECK_UN(OpNot, not, all_flags);
}

BOOST_AUTO_TEST_CASE(shifts_and_rotates_match_the_host) {
  CHECK_SH(OpShl, shl, shift_flags);
  CHECK_SH(OpShr, shr, shift_flags);
  CHECK_SH(OpSar, sar, shift_flags);
  CHECK_SH(OpRol, rol, rot_flags);
  CHECK_SH(OpRor, ror, rot_flags);
  CHECK_SH(OpRcl, rcl, rot_flags);
  CHECK_SH(OpRcr, rcr, rot_flags);
}

BOOST_AUTO_TEST_CASE(double_shifts_match_the_host) {
  // SHLD/SHRD r/m=RAX, reg=RDX, CL: reg is RDX here.
  auto run = [](const char* name, unsigned bits, Native n, Sem s) {
    Harness h;
    uint64_t seed = 99 + bits;
    int failures = 0;
    for (int i = 0; i < kCases && failures < 5; ++i) {
      uint64_t a = operand(seed), c = splitmix(seed) & 0xff, dx = operand(seed);
      uint64_t fin = (splitmix(seed) & kAll) | fl::kFixed1;
      unsigned cnt = unsigned(c) & (bits == 64 ? 63 : 31);
      if (bits == 16 && cnt > 16) continue;  // undefined result
      uint64_t na = a, nc = c, nf;
      fixed_rdx = dx;
      n(na, nc, fin, nf);
      h.cpu.s.gpr[core::kRax] = a;
      h.cpu.s.gpr[core::kRcx] = c;
      h.cpu.s.gpr[core::kRdx] = dx;
      h.cpu.s.rflags = fin;
      DecodedInsn d = h.insn(uint8_t(bits / 8));
      d.reg = core::kRdx;
      s(h.cpu, d);
      uint64_t m = cnt == 0 ? kAll : (fl::kCf | fl::kZf | fl::kSf | fl::kPf | (cnt == 1 ? fl::kOf : 0));
      if (h.cpu.s.gpr[core::kRax] != na || ((h.cpu.s.rflags ^ nf) & m)) {
        ++failures;
        BOOST_ERROR(name << bits << " a=0x" << std::hex << a << " dx=0x" << dx << " cl=" << std::dec << cnt
                         << std::hex << ": native 0x" << na << " f=0x" << (nf & m) << ", rewind 0x"
                         << h.cpu.s.gpr[core::kRax] << " f=0x" << (h.cpu.s.rflags & m));
      }
    }
  };
  run("shld", 16, shld16, sem<ShiftDouble<2, false, true, true>>());
  run("shrd", 16, shrd16, sem<ShiftDouble<2, false, false, true>>());
  run("shld", 32, shld32, sem<ShiftDouble<4, false, true, true>>());
  run("shrd", 32, shrd32, sem<ShiftDouble<4, false, false, true>>());
  run("shld", 64, shld64, sem<ShiftDouble<8, false, true, true>>());
  run("shrd", 64, shrd64, sem<ShiftDouble<8, false, false, true>>());
}

BOOST_AUTO_TEST_CASE(multiplication_matches_the_host) {
  // One-operand forms: source is RCX (rm), results in RAX/RDX.
  struct Case { const char* name; unsigned bits; Native n; Sem s; };
  // The harness puts the r/m operand in RAX; for MUL we want it in RCX, so use rm = RCX.
  for (Case c : {Case{"mul", 8, mul8, sem<MulE<1, false, false>>()}, Case{"mul", 16, mul16, sem<MulE<2, false, false>>()},
                 Case{"mul", 32, mul32, sem<MulE<4, false, false>>()}, Case{"mul", 64, mul64, sem<MulE<8, false, false>>()},
                 Case{"imul", 8, imul8, sem<MulE<1, false, true>>()}, Case{"imul", 16, imul16, sem<MulE<2, false, true>>()},
                 Case{"imul", 32, imul32, sem<MulE<4, false, true>>()}, Case{"imul", 64, imul64, sem<MulE<8, false, true>>()}}) {
    Harness h;
    uint64_t seed = 7 + c.bits;
    int failures = 0;
    for (int i = 0; i < kCases && failures < 5; ++i) {
      uint64_t a = operand(seed), b = operand(seed), dx = operand(seed);
      uint64_t fin = (splitmix(seed) & kAll) | fl::kFixed1;
      uint64_t na = a, nb = b, nf;
      fixed_rdx = dx;
      c.n(na, nb, fin, nf);
      h.cpu.s.gpr[core::kRax] = a;
      h.cpu.s.gpr[core::kRcx] = b;
      h.cpu.s.gpr[core::kRdx] = dx;
      h.cpu.s.rflags = fin;
      DecodedInsn d = h.insn(uint8_t(c.bits / 8 ? c.bits / 8 : 1));
      d.rm = core::kRcx;
      c.s(h.cpu, d);
      bool ok = h.cpu.s.gpr[core::kRax] == na && h.cpu.s.gpr[core::kRdx] == fixed_rdx &&
                ((h.cpu.s.rflags ^ nf) & (fl::kCf | fl::kOf)) == 0;
      if (!ok) {
        ++failures;
        BOOST_ERROR(c.name << c.bits << " a=0x" << std::hex << a << " b=0x" << b << ": native 0x" << fixed_rdx
                           << ":" << na << " rewind 0x" << h.cpu.s.gpr[core::kRdx] << ":" << h.cpu.s.gpr[core::kRax]);
      }
    }
  }
  // IMUL reg, r/m: reg = RAX here (destination), r/m = RCX.
  for (Case c : {Case{"imul2_", 16, imul2_16, sem<ImulGE<2, false, false>>()},
                 Case{"imul2_", 32, imul2_32, sem<ImulGE<4, false, false>>()},
                 Case{"imul2_", 64, imul2_64, sem<ImulGE<8, false, false>>()}}) {
    Harness h;
    uint64_t seed = 17 + c.bits;
    for (int i = 0; i < kCases; ++i) {
      uint64_t a = operand(seed), b = operand(seed);
      uint64_t fin = fl::kFixed1;
      uint64_t na = a, nb = b, nf;
      c.n(na, nb, fin, nf);
      h.cpu.s.gpr[core::kRax] = a;
      h.cpu.s.gpr[core::kRcx] = b;
      h.cpu.s.rflags = fin;
      DecodedInsn d = h.insn(uint8_t(c.bits / 8));
      d.reg = core::kRax;
      d.rm = core::kRcx;
      c.s(h.cpu, d);
      BOOST_TEST_REQUIRE(h.cpu.s.gpr[core::kRax] == na);
      BOOST_TEST_REQUIRE(((h.cpu.s.rflags ^ nf) & (fl::kCf | fl::kOf)) == 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(bit_ops_match_the_host) {
  // BT* r/m=RAX, reg=RCX: only CF is defined; POPCNT reg=RAX, r/m=RCX.
  check("bt", 16, bt16, sem<BitTest<BitOp::kTest, 2, false, false>>(), cf_only);
  check("bt", 32, bt32, sem<BitTest<BitOp::kTest, 4, false, false>>(), cf_only);
  check("bt", 64, bt64, sem<BitTest<BitOp::kTest, 8, false, false>>(), cf_only);
  check("bts", 32, bts32, sem<BitTest<BitOp::kSet, 4, false, false>>(), cf_only);
  check("btr", 64, btr64, sem<BitTest<BitOp::kReset, 8, false, false>>(), cf_only);
  check("btc", 16, btc16, sem<BitTest<BitOp::kComplement, 2, false, false>>(), cf_only);
}

BOOST_AUTO_TEST_CASE(division_matches_the_host_or_raises_de) {
  Harness h;
  uint64_t seed = 4242;
  for (int i = 0; i < kCases; ++i) {
    uint64_t dx = operand(seed) & 0xffffffffull, ax = operand(seed) & 0xffffffffull, dv = operand(seed) & 0xffffffffull;
    bool sign = splitmix(seed) & 1;
    // The host answer, computed without executing a faulting DIV.
    h.cpu.s.gpr[core::kRax] = ax;
    h.cpu.s.gpr[core::kRdx] = dx;
    h.cpu.s.gpr[core::kRcx] = dv;
    DecodedInsn d = h.insn(4);
    d.rm = core::kRcx;
    Status st = sign ? sem<DivE<4, false, true>>()(h.cpu, d) : sem<DivE<4, false, false>>()(h.cpu, d);
    if (!sign) {
      uint64_t dd = (dx << 32) | ax;
      bool de = dv == 0 || dd / dv > 0xffffffffull;
      BOOST_TEST_REQUIRE((st == Status::kFault) == de);
      if (!de) {
        BOOST_TEST_REQUIRE(h.cpu.s.gpr[core::kRax] == dd / dv);
        BOOST_TEST_REQUIRE(h.cpu.s.gpr[core::kRdx] == dd % dv);
      }
    } else {
      int64_t dd = int64_t((dx << 32) | ax);
      int64_t v = int32_t(uint32_t(dv));
      bool de = v == 0 || (dd == INT64_MIN && v == -1) || dd / v > INT32_MAX || dd / v < INT32_MIN;
      BOOST_TEST_REQUIRE((st == Status::kFault) == de);
      if (!de) {
        BOOST_TEST_REQUIRE(h.cpu.s.gpr[core::kRax] == uint32_t(int32_t(dd / v)));
        BOOST_TEST_REQUIRE(h.cpu.s.gpr[core::kRdx] == uint32_t(int32_t(dd % v)));
      }
    }
    if (st == Status::kFault) BOOST_TEST_REQUIRE(h.cpu.exc_vector == 0);
  }
}
