// Hand-written 64-bit snippets, branches and loops included (which the
// random sequences leave out), run on the host CPU and in the interpreter
// through the difftest harness (tests/difftest/difftest.h): registers,
// the given flags and the data area must agree. The snippets address the
// data area at 0x1800000.
#define BOOST_TEST_MODULE test_difftest_snippets
#include "tests/unit/test_interp_machine.h"

#include "tests/difftest/difftest.h"

using namespace rwd;
using namespace rwd::difftest;
namespace fl = core::rflags;

namespace {

void diff(const char* name, const std::string& body, uint64_t flag_mask = fl::kArith, int rounds = 40,
          uint64_t = ~0ull) {
  std::vector<uint8_t> code = tcg::test::assemble(".code64\n" + body + "\n", kCodeAddr);
  static NativeRunner native;
  Generator gen(std::hash<std::string>()(body));
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
  diff("call/ret", "call 1f\n jmp 2f\n1: add $1, %rax\n ret\n2: lea 3f(%rip), %rbx\n call *%rbx\n jmp 4f\n3: ret $0\n4:\n", fl::kArith, 40,
       ~0ull);
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
