// Sequences on the host CPU, in a child process that does nothing else: it
// maps the code page and the data area at the guest's addresses, loads the
// registers and jumps to the code. The run ends with a signal (the final
// INT3, or a fault); the handler takes the registers, the trap number and
// the error code from the signal frame and jumps back to the loop. The
// parent talks to the child through shared memory and two pipes, a batch of
// sequences per round trip (so the child runs while the parent interprets
// them), and starts a new child when one dies or stops answering. The code
// page is a memfd mapped twice: executable at kCodeAddr, writable elsewhere,
// so no mprotect is needed between sequences.
#include <csetjmp>
#include <csignal>
#include <cstring>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "tests/difftest/difftest.h"

// difftest_enter(const Regs*): loads the x87/MMX/SSE state with FXRSTOR64,
// then RFLAGS and every general register from the Regs (RSP last but one,
// RDI last) and jumps to kCodeAddr. FXRSTOR raises no pending x87 exception:
// an unmasked one the image flags faults at the sequence's first waiting
// x87 or MMX instruction, as in the interpreter.
// difftest_enter32 does the same for 32-bit code: DS and ES get Linux's
// user data selector (0x2b, as SS has), and a far jump enters Linux's
// 32-bit user code segment (0x23) at kCodeAddr: compatibility mode.
extern "C" void difftest_enter(const rwd::difftest::Regs*);
extern "C" void difftest_enter32(const rwd::difftest::Regs*);
asm(R"(
  .text
  .macro load_state
  fxrstor64 144(%rdi)
  pushq 136(%rdi)
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
  mov 32(%rdi), %rsp
  mov 56(%rdi), %rdi
  .endm
  .globl difftest_enter32
  .type difftest_enter32, @function
difftest_enter32:
  mov $0x2b, %eax
  mov %eax, %ds
  mov %eax, %es
  load_state
  ljmpl *difftest_target32(%rip)
  .p2align 3  /* read with the sequence's EFLAGS.AC */
difftest_target32:
  .long 0x1000000
  .word 0x23
  .size difftest_enter32, .-difftest_enter32
  .globl difftest_enter
  .type difftest_enter, @function
difftest_enter:
  xor %eax, %eax       /* null DS and ES, as a 64-bit Linux process has them */
  mov %eax, %ds
  mov %eax, %es
  load_state
  jmp *difftest_target(%rip)
  .p2align 3  /* the jump reads it with the sequence's EFLAGS.AC */
difftest_target:
  .quad 0x1000000
  .size difftest_enter, .-difftest_enter
)");

namespace rwd::difftest {

namespace {

// One sequence's place in the shared memory: its input, then its outcome.
struct Slot {
  bool compat;  // 32-bit code (difftest_enter32)
  uint32_t code_len;
  uint8_t code[kCodeMax];
  Regs in;
  uint8_t data[kDataSize];
  // results
  uint8_t vector;
  uint32_t error;
  uint64_t cr2;
  Regs out;
};

struct Shared {
  Slot slots[NativeRunner::kBatchMax];
};

Slot* g_slot;
sigjmp_buf g_return;

void on_signal(int, siginfo_t*, void* ctx) {
  // The kernel delivers the signal with the sequence's EFLAGS.AC: clear it
  // before anything here makes a misaligned access.
  asm volatile("pushfq\n andq $~0x40000, (%%rsp)\n popfq" ::: "memory", "cc");
  auto* uc = static_cast<ucontext_t*>(ctx);
  const greg_t* g = uc->uc_mcontext.gregs;
  Regs& r = g_slot->out;
  static const int kOrder[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
                                 REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15};
  for (int i = 0; i < 16; ++i) r.gpr[i] = uint64_t(g[kOrder[i]]);
  r.rip = uint64_t(g[REG_RIP]);
  r.rflags = uint64_t(g[REG_EFL]);
  g_slot->vector = uint8_t(g[REG_TRAPNO]);
  g_slot->error = uint32_t(g[REG_ERR]);
  g_slot->cr2 = uint64_t(g[REG_CR2]);
  // The kernel's FXSAVE image of the state at the fault (64-bit layout; a
  // #MF or #XM reaches here as SIGFPE with trap number 16 or 19).
  static_assert(sizeof(_libc_fpstate) == sizeof(FxState));
  std::memcpy(&r.fx, uc->uc_mcontext.fpregs, sizeof r.fx);
  siglongjmp(g_return, 1);
}

[[noreturn]] void child_main(Shared* shared, int in_fd, int out_fd) {
  int fd = memfd_create("difftest-code", 0);
  if (fd < 0 || ftruncate(fd, 4096) != 0) _exit(3);
  void* code = mmap(reinterpret_cast<void*>(kCodeAddr), 4096, PROT_READ | PROT_EXEC,
                    MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
  auto* code_rw = static_cast<uint8_t*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  void* data = mmap(reinterpret_cast<void*>(kDataAddr), kDataSize, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (code != reinterpret_cast<void*>(kCodeAddr) || code_rw == MAP_FAILED || data != reinterpret_cast<void*>(kDataAddr))
    _exit(3);
  static uint8_t alt_stack[64 * 1024];
  stack_t ss{};
  ss.ss_sp = alt_stack;
  ss.ss_size = sizeof alt_stack;
  sigaltstack(&ss, nullptr);
  struct sigaction sa{};
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP}) sigaction(sig, &sa, nullptr);
  rlimit core_limit{0, 0};
  setrlimit(RLIMIT_CORE, &core_limit);
  uint32_t count;
  while (read(in_fd, &count, sizeof count) == sizeof count) {
    for (uint32_t i = 0; i < count && i < NativeRunner::kBatchMax; ++i) {
      Slot& slot = shared->slots[i];
      g_slot = &slot;
      std::memset(code_rw, 0xcc, 4096);
      std::memcpy(code_rw, slot.code, slot.code_len);
      std::memcpy(data, slot.data, kDataSize);
      if (sigsetjmp(g_return, 1) == 0) (slot.compat ? difftest_enter32 : difftest_enter)(&slot.in);
      std::memcpy(slot.data, data, kDataSize);
    }
    char c = 1;
    if (write(out_fd, &c, 1) != 1) _exit(4);
  }
  _exit(0);
}

}  // namespace

NativeRunner::NativeRunner() = default;
NativeRunner::~NativeRunner() {
  stop();
  if (shared_) munmap(shared_, sizeof(Shared));
}

bool NativeRunner::start() {
  if (!shared_) {
    shared_ = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared_ == MAP_FAILED) {
      shared_ = nullptr;
      return false;
    }
  }
  int down[2], up[2];
  if (pipe(down) != 0) return false;
  if (pipe(up) != 0) {
    close(down[0]), close(down[1]);
    return false;
  }
  pid_ = fork();
  if (pid_ < 0) return false;
  if (pid_ == 0) {
    close(down[1]);
    close(up[0]);
    child_main(static_cast<Shared*>(shared_), down[0], up[1]);
  }
  close(down[0]);
  close(up[1]);
  to_child_ = down[1];
  from_child_ = up[0];
  return true;
}

void NativeRunner::stop() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
  if (to_child_ >= 0) close(to_child_);
  if (from_child_ >= 0) close(from_child_);
  to_child_ = from_child_ = -1;
}

bool NativeRunner::start_batch(const Sequence* seqs, size_t n) {
  pending_ = 0;
  start_problem_.clear();
  if (n == 0 || n > kBatchMax) {
    start_problem_ = "bad batch size";
    return false;
  }
  if (pid_ < 0 && !start()) {
    start_problem_ = "cannot start the native child";
    return false;
  }
  auto* sh = static_cast<Shared*>(shared_);
  for (size_t i = 0; i < n; ++i) {
    Slot& slot = sh->slots[i];
    std::vector<uint8_t> code = seqs[i].code();
    if (code.size() > kCodeMax) {
      start_problem_ = "sequence too long";
      return false;
    }
    slot.compat = seqs[i].mode == tcg::DecodeMode::k32;
    slot.code_len = uint32_t(code.size());
    std::memcpy(slot.code, code.data(), code.size());
    slot.in = seqs[i].in;
    std::memcpy(slot.data, seqs[i].data.data(), kDataSize);
  }
  uint32_t count = uint32_t(n);
  if (write(to_child_, &count, sizeof count) != sizeof count) {
    stop();
    start_problem_ = "the native child died";
    return false;
  }
  pending_ = n;
  return true;
}

std::vector<Outcome> NativeRunner::finish_batch() {
  std::vector<Outcome> out(pending_ ? pending_ : 1);
  if (!pending_) {
    out[0].problem = start_problem_.empty() ? "no batch was started" : start_problem_;
    return out;
  }
  char c;
  pollfd p{from_child_, POLLIN, 0};
  const int timeout_ms = 5000 + 100 * int(pending_);
  if (poll(&p, 1, timeout_ms) != 1 || read(from_child_, &c, 1) != 1) {
    stop();
    for (Outcome& o : out) o.problem = "the native child died or hung";
    pending_ = 0;
    return out;
  }
  auto* sh = static_cast<Shared*>(shared_);
  for (size_t i = 0; i < pending_; ++i) {
    const Slot& slot = sh->slots[i];
    Outcome& o = out[i];
    o.ran = true;
    o.vector = slot.vector;
    o.error = slot.error;
    o.cr2 = slot.cr2;
    o.regs = slot.out;
    o.data.assign(slot.data, slot.data + kDataSize);
  }
  pending_ = 0;
  return out;
}

Outcome NativeRunner::run(const Sequence& s) {
  if (!start_batch(&s, 1)) {
    Outcome out;
    out.problem = start_problem_;
    return out;
  }
  return finish_batch()[0];
}

}  // namespace rwd::difftest
