// Differential testing of the interpreter against the host CPU (issue 7,
// point 5). A generator draws random straight-line sequences of user-mode
// 64-bit instructions from the forms table; each runs natively in a
// sandboxed child process and under the interpreter at CPL 3 from the same
// registers and the same data area at the same address, and everything the
// two leave behind is compared: every general register, RIP, the flags the
// sequence defines, the x87 control, status and tag words, the non-empty x87
// registers, MXCSR and the XMM registers, the data area, and the fault
// (vector and error code) when one occurs. Every sequence ends with INT3.
#pragma once

#include <cstddef>
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

// The x87, MMX and SSE state as an FXSAVE image (64-bit layout, SDM Vol. 1
// table 10-2): what the native trampoline loads with FXRSTOR64, what the
// signal frame gives back, and what interp_runner.cc converts to and from
// core::X87State. Regs holds the one copy of that state.
struct alignas(16) FxState {
  uint16_t fcw;
  uint16_t fsw;         // TOP in bits 11-13
  uint8_t ftw;          // abridged tag word: bit r set = physical register r is not empty
  uint8_t reserved0;
  uint16_t fop;         // FOP, FIP and FDP are carried but never compared (rewind does not promise them yet)
  uint64_t fip, fdp;
  uint32_t mxcsr, mxcsr_mask;
  uint8_t st[8][16];    // ST(i) in stack order: 8 bytes of mantissa, then sign and exponent
  uint8_t xmm[16][16];
  uint8_t reserved[96];  // the signal frame keeps the kernel's fpx_sw_bytes in the last 48

  unsigned top() const { return (fsw >> 11) & 7; }
  bool valid(unsigned r) const { return ftw >> r & 1; }
  // Physical register r (0-7); MMX register r is its mantissa.
  uint8_t* phys(unsigned r) { return st[(r - top()) & 7]; }
  const uint8_t* phys(unsigned r) const { return st[(r - top()) & 7]; }
};
static_assert(sizeof(FxState) == 512);

// The trampoline in native_runner.cc reads this layout by offset.
struct Regs {
  uint64_t gpr[16];
  uint64_t rip;
  uint64_t rflags;
  FxState fx;  // offset 144, 16-byte aligned for FXRSTOR64
};
static_assert(offsetof(Regs, fx) == 144 && alignof(Regs) == 16);

// One generated instruction, with the arithmetic flags it reads, leaves
// undefined and always defines.
struct Insn {
  tcg::Form form;
  std::vector<uint8_t> bytes;
  uint64_t flags_read = 0, flags_undefined = 0, flags_defined = 0;
};

struct Sequence {
  // 64-bit mode, or 32-bit code in compatibility mode (CS 0x23, as a Linux
  // process runs i386 code): the forms only legacy modes have (BCD adjust,
  // PUSHA/POPA, BOUND, INTO, ...) are checked there.
  tcg::DecodeMode mode = tcg::DecodeMode::k64;
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
  uint64_t cr2 = 0;       // the faulting address of a #PF
  std::vector<uint8_t> data;
  std::string problem;
  std::string warning;    // the interpreter's first warning (a form without semantics)
};

class Generator {
 public:
  // mode: k64, or k32 for compatibility-mode sequences (EBX is the base of
  // the memory operands there, as R15 is in 64-bit mode).
  explicit Generator(uint64_t seed, tcg::DecodeMode mode = tcg::DecodeMode::k64);
  Sequence next(unsigned max_len);
  // A random starting state and one instance of `f`, any form of the table
  // (with semantics or not; for tests of the encoder): no instruction when
  // the generator cannot encode it.
  Sequence next_with(tcg::Form f);
  // Forms the generator draws from (user-mode 64-bit, with semantics).
  const std::vector<tcg::Form>& forms() const { return forms_; }
  // Leaves the form named `name` out of the draw; false if the table has no such form.
  bool exclude(const std::string& name);

 private:
  Sequence start();  // the registers and the data area of a new sequence
  bool encode(tcg::Form f, Insn& out, uint64_t& undefined_flags, uint64_t& read_flags);
  uint64_t rnd();
  uint64_t pick_value();
  void pick_x87(uint8_t* st);              // an 80-bit value: sign/exponent at st[8..9]
  uint64_t pick_ieee(unsigned bits);       // a float (32) or double (64) bit pattern
  void pick_fx(FxState& fx);               // a whole x87/SSE starting state
  void fill_pool();
  static constexpr unsigned kPoolReuse = 16;
  tcg::DecodeMode mode_;
  uint64_t state_;
  std::vector<uint8_t> pool_;
  uint64_t sequences_since_pool_ = 0;
  bool exact_form_ = false;  // next_with: encode the form asked for, nothing else
  std::vector<tcg::Form> forms_;
  bool x87_ie_unmasked_ = false;  // the sequence starts with FCW.IM clear (FCOMI may leave the flags alone)
};

// Runs sequences natively in a child process (forked on first use, again
// after it dies); faults come back as signals and are reported by vector.
class NativeRunner {
 public:
  static constexpr size_t kBatchMax = 64;
  NativeRunner();
  ~NativeRunner();
  Outcome run(const Sequence& s);
  // A batch of up to kBatchMax sequences: start_batch hands them to the
  // child and returns at once (false: nothing started, see finish_batch),
  // finish_batch waits for their outcomes, in order.
  bool start_batch(const Sequence* seqs, size_t n);
  std::vector<Outcome> finish_batch();

 private:
  bool start();
  void stop();
  size_t pending_ = 0;
  std::string start_problem_;
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

// Forms whose results rewind and the host may round differently: the x87
// transcendentals (F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS,
// FSINCOS), which rewind rounds correctly and the host to within one ulp.
// The generator draws nothing that reads the x87 state after one of them,
// and compare lets ST(0) and ST(1) differ by one ulp and C1 differ when a
// sequence has one; everything else must still agree exactly.
bool approximate(tcg::Form f);

// A description of the first difference, or "" when the outcomes agree.
std::string compare(const Sequence& s, const Outcome& native, const Outcome& rewind);

// The sequence as text: one line per instruction (form name and bytes),
// then the starting flags, general registers and x87/SSE control words, and
// the starting x87 registers when an instruction may use them.
std::string describe(const Sequence& s);

// FCW, FSW, the abridged tags and the x87 registers in stack order (each
// with its physical number; the empty ones only if asked) as text, the
// registers as sign, exponent and mantissa.
std::string x87_text(const FxState& fx, const char* separator = " ", bool empty_too = false);

// Shrinks a mismatching sequence: the shortest prefix that still differs,
// then drops instructions one at a time while it keeps differing.
Sequence shrink(const Sequence& s, NativeRunner& native);

}  // namespace rwd::difftest
