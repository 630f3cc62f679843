// Differential testing of the interpreter against the host CPU (issue 7,
// point 5). A generator draws random straight-line sequences of user-mode
// 64-bit instructions from the forms table; each runs natively in a
// sandboxed child process and under the interpreter at CPL 3 from the same
// registers and the same data area at the same address, and everything the
// two leave behind is compared: every general register, RIP, the flags the
// sequence defines, the data area, and the fault (vector and error code)
// when one occurs. Every sequence ends with INT3.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tcg-llvm/decoder/decoded_insn.h"

namespace rwd::difftest {

// The same addresses in the child process and in the guest.
inline constexpr uint64_t kCodeAddr = 0x1000000;  // one page, read/execute
inline constexpr uint64_t kDataAddr = 0x1800000;  // kDataSize bytes, read/write
inline constexpr uint64_t kDataSize = 0x10000;
inline constexpr uint64_t kDataMid = kDataAddr + 0x8000;  // R15, the base of memory operands
inline constexpr uint64_t kStackTop = kDataAddr + 0xc000;
inline constexpr unsigned kCodeMax = 4096;

// The trampoline in native_runner.cc reads this layout by offset.
struct Regs {
  uint64_t gpr[16];
  uint64_t rip;
  uint64_t rflags;
  alignas(16) uint8_t xmm[16][16];  // offset 144
  uint8_t mm[8][8];                 // offset 400: the MMX registers (x87 mantissas)
  uint32_t mxcsr;                   // offset 464
};

// The x87/SSE state a run leaves besides the registers in Regs.
struct VectorState {
  uint16_t mm_exponent[8] = {};  // sign and exponent of each x87 register
  uint8_t tags_valid = 0;        // bit i: physical x87 register i is not empty
  uint16_t top = 0;              // x87 TOP
  uint32_t mxcsr = 0;
};

// One generated instruction, with the arithmetic flags it reads, leaves
// undefined and always defines.
struct Insn {
  tcg::Form form;
  std::vector<uint8_t> bytes;
  uint64_t flags_read = 0, flags_undefined = 0, flags_defined = 0;
};

struct Sequence {
  std::vector<Insn> insns;
  Regs in;                    // the registers it starts from (RIP = kCodeAddr)
  std::vector<uint8_t> data;  // the data area it starts from
  std::vector<uint8_t> code() const;  // the instructions followed by INT3
  // False when an instruction reads a flag an earlier one left undefined
  // (the outcome is then not comparable).
  bool flags_comparable() const;
  // The RFLAGS bits with a defined value when the run stopped at `rip`
  // (a faulting instruction, or past the final INT3).
  uint64_t compared_flags(uint64_t rip) const;
};

// How a run ended: the vector of the exception that stopped it (3 for the
// final INT3), its error code, and the state at that point (RIP is the
// faulting instruction, or the one after INT3).
struct Outcome {
  bool ran = false;       // false: the harness could not run it (see `problem`)
  uint8_t vector = 0;
  uint32_t error = 0;
  Regs regs{};
  VectorState vec{};
  uint64_t cr2 = 0;       // the faulting address of a #PF
  std::vector<uint8_t> data;
  std::string problem;
  std::string warning;    // the interpreter's first warning (a form without semantics)
};

class Generator {
 public:
  explicit Generator(uint64_t seed);
  Sequence next(unsigned max_len);
  // Forms the generator draws from (user-mode 64-bit, with semantics).
  const std::vector<tcg::Form>& forms() const { return forms_; }

 private:
  bool encode(tcg::Form f, Insn& out, uint64_t& undefined_flags, uint64_t& read_flags);
  uint64_t rnd();
  uint64_t pick_value();
  uint64_t state_;
  std::vector<tcg::Form> forms_;
};

// Runs sequences natively in a child process (forked on first use, again
// after it dies); faults come back as signals and are reported by vector.
class NativeRunner {
 public:
  NativeRunner();
  ~NativeRunner();
  Outcome run(const Sequence& s);

 private:
  bool start();
  void stop();
  int pid_ = -1;
  void* shared_ = nullptr;
  int to_child_ = -1, from_child_ = -1;
};

// Runs a sequence in rewind's interpreter at CPL 3 in long mode.
Outcome run_interpreter(const Sequence& s);

// Whether a native run used what only the host has: an MXCSR bit outside
// rewind's MXCSR mask (AMD's misaligned-exception mask, bit 17, which
// LDMXCSR and FXRSTOR accept there and rewind's Intel-like model refuses).
// Such runs are counted and left out of the comparison.
bool host_specific(const Outcome& native);

// A description of the first difference, or "" when the outcomes agree.
std::string compare(const Sequence& s, const Outcome& native, const Outcome& rewind);

// The sequence as text: one line per instruction (form name and bytes).
std::string describe(const Sequence& s);

// Shrinks a mismatching sequence: the shortest prefix that still differs,
// then drops instructions one at a time while it keeps differing.
Sequence shrink(const Sequence& s, NativeRunner& native);

}  // namespace rwd::difftest
