// Differential test against the host CPU: each snippet of 64-bit code is run
// natively (copied into an executable page, called through a trampoline that
// loads and saves every general register and RFLAGS) and in the interpreter
// (long mode, identity-mapped), from the same random registers and the same
// data area at the same address; registers, defined flags and memory must
// match. Exercises decoder, form binding and semantics end to end.
#define BOOST_TEST_MODULE test_interp_native_diff
#include "tests/unit/test_interp_machine.h"

#include <sys/mman.h>

using namespace rwd;
using namespace rwd::tcg;
using namespace rwd::tcg::test;
namespace fl = core::rflags;

namespace {

constexpr uint64_t kData = 0x1800000;  // same address in the guest and in this process
constexpr uint64_t kDataSize = 0x10000;
constexpr uint64_t kStackTop = kData + 0xf000;
constexpr uint64_t kCompared = 0xe000;          // data bytes compared (below the stack)
constexpr uint64_t kGuestCode = 0x100000;
constexpr uint64_t kSnippet = 0x101000;

struct Regs {
  uint64_t gpr[16];
  uint64_t rflags;
};

uint64_t splitmix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Trampoline: rdi = Regs*, rsi = snippet. Runs the snippet on the data-area
// stack with every register loaded from Regs, then stores them back.
const char* kTrampoline = R"(.code64
  push %rbx
  push %rbp
  push %r12
  push %r13
  push %r14
  push %r15
  mov %rsp, 0x180ff00
  mov %rdi, 0x180ff08
  mov %rsi, 0x180ff18
  mov $0x180f000, %rsp
  pushq 128(%rdi)
  popfq
  mov 0(%rdi), %rax
  mov 8(%rdi), %rcx
  mov 16(%rdi), %rdx
  mov 24(%rdi), %rbx
  mov 40(%rdi), %rbp
  mov 48(%rdi), %rsi
  mov 64(%rdi), %r8
  mov 72(%rdi), %r9
  mov 80(%rdi), %r10
  mov 88(%rdi), %r11
  mov 96(%rdi), %r12
  mov 104(%rdi), %r13
  mov 112(%rdi), %r14
  mov 120(%rdi), %r15
  mov 56(%rdi), %rdi
  call *0x180ff18
  mov %rdi, 0x180ff10
  mov 0x180ff08, %rdi
  mov %rax, 0(%rdi)
  mov %rcx, 8(%rdi)
  mov %rdx, 16(%rdi)
  mov %rbx, 24(%rdi)
  mov %rsp, 32(%rdi)
  mov %rbp, 40(%rdi)
  mov %rsi, 48(%rdi)
  mov %r8, 64(%rdi)
  mov %r9, 72(%rdi)
  mov %r10, 80(%rdi)
  mov %r11, 88(%rdi)
  mov %r12, 96(%rdi)
  mov %r13, 104(%rdi)
  mov %r14, 112(%rdi)
  mov %r15, 120(%rdi)
  pushfq
  popq 128(%rdi)
  mov 0x180ff10, %rax
  mov %rax, 56(%rdi)
  mov 0x180ff00, %rsp
  cld                     # the C ABI wants DF = 0 whatever the snippet left
  pop %r15
  pop %r14
  pop %r13
  pop %r12
  pop %rbp
  pop %rbx
  ret
)";

class Native {
 public:
  Native() {
    data_ = mmap(reinterpret_cast<void*>(kData), kDataSize, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    BOOST_REQUIRE_MESSAGE(data_ == reinterpret_cast<void*>(kData), "cannot map the data area at 0x1800000");
    code_ = static_cast<uint8_t*>(mmap(nullptr, 0x10000, PROT_READ | PROT_WRITE | PROT_EXEC,
                                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    BOOST_REQUIRE(code_ != MAP_FAILED);
    std::vector<uint8_t> t = assemble(kTrampoline, 0);
    std::memcpy(code_, t.data(), t.size());
  }
  ~Native() {
    munmap(data_, kDataSize);
    munmap(code_, 0x10000);
  }
  void run(const std::vector<uint8_t>& snippet, Regs& r) {
    std::memcpy(code_ + 0x8000, snippet.data(), snippet.size());
    using Fn = void (*)(Regs*, void*);
    reinterpret_cast<Fn>(code_)(&r, code_ + 0x8000);
  }
  uint8_t* data() { return static_cast<uint8_t*>(data_); }

 private:
  void* data_;
  uint8_t* code_;
};

Native& native() {
  static Native n;
  return n;
}

void diff(const char* name, const std::string& body, uint64_t flag_mask = fl::kArith, int rounds = 40,
          uint64_t reg_mask_bits = ~0ull) {
  std::string src = std::string(".code64\n") + body + "\nret\n";
  std::vector<uint8_t> code = assemble(src, kSnippet);
  static const std::vector<uint8_t> caller = assemble(".code64\n call 0x101000\n hlt\n", kGuestCode);
  uint64_t seed = std::hash<std::string>()(body);
  TestMachine m;  // one per snippet: a fresh vCPU and fresh memory contents per round
  for (int round = 0; round < rounds; ++round) {
    Regs in{};
    for (int i = 0; i < 16; ++i) {
      uint64_t v = splitmix(seed);
      switch (v & 3) {
        case 0: v &= 0xff; break;
        case 1: v = (v & 1) ? 0 : ~0ull; break;
        default: break;
      }
      in.gpr[i] = v;
    }
    in.gpr[core::kRsp] = kStackTop;
    in.rflags = (splitmix(seed) & fl::kArith) | fl::kFixed1;
    std::vector<uint8_t> data(kDataSize);
    for (auto& b : data) b = uint8_t(splitmix(seed));

    BOOST_TEST_CHECKPOINT(name << " round " << round << " (native)");
    Regs nat = in;
    std::memcpy(native().data(), data.data(), kDataSize);
    native().run(code, nat);

    // Interpreter: CALL snippet; HLT.
    BOOST_TEST_CHECKPOINT(name << " round " << round << " (rewind)");
    std::fill(m.ram.begin() + kData, m.ram.begin() + kData + kDataSize, 0);
    core::X86CpuState s = long_mode_state(m, kGuestCode);
    for (int i = 0; i < 16; ++i) s.gpr[i] = in.gpr[i];
    s.rflags = in.rflags | fl::kIf;  // as in a host user process
    m.start(s);
    m.load(kGuestCode, caller);
    m.load(kSnippet, code);
    m.load(kData, data);
    core::VcpuExit e = m.vcpu->run(1000000);
    BOOST_REQUIRE_MESSAGE(e == core::VcpuExit::kHalted, name << ": did not halt (warnings: "
                                                               << (m.warnings.empty() ? "" : m.warnings[0]) << ")");
    bool ok = true;
    std::ostringstream why;
    for (int i = 0; i < 16; ++i) {
      if (!((reg_mask_bits >> i) & 1)) continue;
      if (m.reg(core::Gpr(i)) != nat.gpr[i]) {
        ok = false;
        why << " r" << i << ": native 0x" << std::hex << nat.gpr[i] << " rewind 0x" << m.reg(core::Gpr(i)) << std::dec;
      }
    }
    if ((m.st().rflags ^ nat.rflags) & flag_mask) {
      ok = false;
      why << " flags: native 0x" << std::hex << (nat.rflags & flag_mask) << " rewind 0x"
          << (m.st().rflags & flag_mask) << std::dec;
    }
    // The top 8 KiB hold the stack, where return addresses differ by design.
    if (std::memcmp(m.ram.data() + kData, native().data(), kCompared) != 0) {
      ok = false;
      for (uint64_t k = 0; k < kCompared; ++k)
        if (m.ram[kData + k] != native().data()[k]) {
          why << " memory differs first at +0x" << std::hex << k << std::dec;
          break;
        }
    }
    if (!ok) {
      BOOST_ERROR(name << " round " << round << ":" << why.str());
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
       ~(1ull << core::kRbx));  // RBX holds a code address, which differs
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
