// Shared vocabulary of the instruction semantics: the status an instruction
// ends with, operand-size types, and small pure helpers.
//
// The semantics dialect (DESIGN.md "one semantics, two tiers"): templates over
// a machine type M (the interpreter's InterpCpu, later the JIT's bitcode glue),
// no exceptions, RTTI, globals, host headers other than <cstdint>, and no
// undefined behaviour (shift counts are masked, signed overflow is done in
// unsigned arithmetic). Everything not computable from the CPU state (memory,
// ports, TSC, descriptor tables) goes through M's glue functions, which report
// faults by returning false after recording the exception in M.
#pragma once

#include <cstdint>

#include "core/x86_cpu_state.h"
#include "tcg-llvm/decoder/decoded_insn.h"

namespace rwd::tcg {

// How an instruction ended. The block loop acts on everything but kNext.
enum class Status : uint8_t {
  kNext,      // retired; continue with the next instruction of the block
  kEndBlock,  // retired; control flow or machine mode changed, look up a new block
  kRepeat,    // one REP iteration retired; RIP stays on the instruction
  kFault,     // did not retire; M holds the pending exception (RIP rewound)
  kSoftInt,   // retired (INT n / INT3 / INTO); M holds the vector to deliver
  kHalt,      // HLT retired; the vCPU waits for an interrupt
};

// Fault-propagating call of a glue function or sub-step.
#define RWD_TRY(expr)                       \
  do {                                      \
    if (!(expr)) return ::rwd::tcg::Status::kFault; \
  } while (0)

// The architectural state, the first base of every machine type: `m.s` then
// sits at offset 0, so the register accesses on the hot path need no offset.
struct CpuStateBase {
  core::X86CpuState s{};
};

// The event an instruction leaves for its tier to deliver: a fault (when it
// returns kFault) or a software interrupt (kSoftInt). Every machine type
// derives from it, so the semantics record events the same way in each tier.
struct PendingEvent {
  uint8_t exc_vector = 0;
  bool exc_has_error = false;
  uint32_t exc_error = 0;
  uint8_t soft_vector = 0;
  bool soft_privileged = false;  // INT1: delivered as an exception, no gate DPL check

  void set_exception(uint8_t vector, bool has_error, uint32_t error) {
    exc_vector = vector;
    exc_has_error = has_error;
    exc_error = error;
  }
  void set_soft_int(uint8_t vector, bool privileged = false) {
    soft_vector = vector;
    soft_privileged = privileged;
  }
};

// What a change of the paging state invalidates (M::paging_changed): nothing
// (a CR3 write with CR4.PCIDE and bit 63 to the same PCID), the non-global
// translations (other CR3 writes), or every one (CR0, CR4 and EFER changes).
enum class TlbFlush : uint8_t { kNone, kNonGlobal, kAll };

// INVPCID's invalidation types (SDM Vol. 2, INVPCID).
enum class InvpcidType : uint8_t { kAddress, kSingleContext, kAllContexts, kAllNonGlobal };

// Exception vectors.
namespace vec {
inline constexpr uint8_t kDe = 0, kDb = 1, kNmi = 2, kBp = 3, kOf = 4, kBr = 5, kUd = 6, kNm = 7,
                         kDf = 8, kTs = 10, kNp = 11, kSs = 12, kGp = 13, kPf = 14, kMf = 16,
                         kAc = 17;
}

// Unsigned type of an N-byte operand.
template <unsigned N> struct UIntOf;
template <> struct UIntOf<1> { using T = uint8_t; };
template <> struct UIntOf<2> { using T = uint16_t; };
template <> struct UIntOf<4> { using T = uint32_t; };
template <> struct UIntOf<8> { using T = uint64_t; };
template <unsigned N> using U = typename UIntOf<N>::T;

template <unsigned N> struct SIntOf;
template <> struct SIntOf<1> { using T = int8_t; };
template <> struct SIntOf<2> { using T = int16_t; };
template <> struct SIntOf<4> { using T = int32_t; };
template <> struct SIntOf<8> { using T = int64_t; };
template <unsigned N> using S = typename SIntOf<N>::T;

template <unsigned N> inline constexpr unsigned kBits = N * 8;
template <unsigned N> inline constexpr uint64_t kMask = N == 8 ? ~0ull : (1ull << (N * 8)) - 1;
template <unsigned N> inline constexpr U<N> kSignBit = U<N>(1ull << (N * 8 - 1));

inline uint64_t size_mask(unsigned n) { return n >= 8 ? ~0ull : (1ull << (n * 8)) - 1; }

// Sign extension of an N-byte value to 64 bits (two's complement, no UB).
template <unsigned N> inline uint64_t sext(U<N> v) {
  return static_cast<uint64_t>(static_cast<int64_t>(static_cast<S<N>>(v)));
}
inline uint64_t sext_n(uint64_t v, unsigned n) {
  switch (n) {
    case 1: return sext<1>(static_cast<uint8_t>(v));
    case 2: return sext<2>(static_cast<uint16_t>(v));
    case 4: return sext<4>(static_cast<uint32_t>(v));
    default: return v;
  }
}

inline constexpr int kSegEs = 0, kSegCs = 1, kSegSs = 2, kSegDs = 3, kSegFs = 4, kSegGs = 5;

}  // namespace rwd::tcg
