// Segmentation as the semantics see it: the code size and stack size a CPU
// state implies, and the limit/type/presence check of a data access. One
// definition for every tier: the interpreter caches what it derives from here
// (InterpCpu::segments_changed), the JIT's glue machine computes it inline.
#pragma once

#include "tcg-llvm/semantics/types.h"

namespace rwd::tcg {

// The code size CS implies: 64-bit with CS.L in long mode, else CS.D.
inline DecodeMode decode_mode_of(const core::X86CpuState& s) {
  namespace sa = core::seg_attr;
  const auto& cs = s.seg[kSegCs];
  if (s.long_mode_active() && (cs.attrs & sa::kL)) return DecodeMode::k64;
  if (s.protected_mode() && (cs.attrs & sa::kDb)) return DecodeMode::k32;
  return DecodeMode::k16;
}

// Stack pointer width in bytes: 8 in 64-bit mode, else SS.B.
inline unsigned stack_size_of(const core::X86CpuState& s, DecodeMode mode) {
  if (mode == DecodeMode::k64) return 8;
  return (s.protected_mode() && (s.seg[kSegSs].attrs & core::seg_attr::kDb)) ? 4 : 2;
}

// Accesses that rewind checks segment by segment (outside 64-bit mode):
// protected-mode segments that are not present or expand down.
inline bool segment_needs_full_check(const core::X86CpuState& s, int seg) {
  namespace sa = core::seg_attr;
  const auto& c = s.seg[seg];
  bool pm = s.protected_mode() && !(s.rflags & core::rflags::kVm);
  unsigned type = c.attrs & sa::kTypeMask;
  return pm && (!(c.attrs & sa::kP) || (!(type & 8) && (type & 4)));
}

// Code or read-only data segments refuse writes (protected mode only).
inline bool segment_read_only(const core::X86CpuState& s, int seg) {
  unsigned type = s.seg[seg].attrs & core::seg_attr::kTypeMask;
  bool pm = s.protected_mode() && !(s.rflags & core::rflags::kVm);
  return pm && ((type & 8) || !(type & 2));
}

// The checks of an N-byte access at `off` in segment `seg` outside 64-bit
// mode. Returns 0xff when it is allowed, else the vector to raise (error
// code 0): #SS for SS, #GP otherwise.
inline uint8_t segment_access_fault(const core::X86CpuState& s, int seg, uint64_t off, unsigned n, bool write) {
  namespace sa = core::seg_attr;
  const auto& c = s.seg[seg];
  uint8_t v = seg == kSegSs ? vec::kSs : vec::kGp;
  bool pm = s.protected_mode() && !(s.rflags & core::rflags::kVm);
  if (pm && !(c.attrs & sa::kP)) return v;
  if (write && segment_read_only(s, seg)) return vec::kGp;
  unsigned type = c.attrs & sa::kTypeMask;
  uint64_t last = off + n - 1;
  if (pm && !(type & 8) && (type & 4)) {
    // Expand-down: valid offsets are (limit, 0xffff or 0xffffffff].
    uint64_t top = (c.attrs & sa::kDb) ? 0xffffffffull : 0xffff;
    if (off <= c.limit || last > top) return v;
  } else if (last > c.limit) {
    return v;
  }
  return 0xff;
}

// Linear addresses are 48-bit sign-extended in 64-bit mode.
inline bool canonical(uint64_t lin) { return uint64_t(int64_t(lin << 16) >> 16) == lin; }
// Whether all n bytes from lin are canonical (one compare: an access may
// not run from the lower half into the hole).
inline bool canonical_range(uint64_t lin, unsigned n) {
  return lin + 0x0000800000000000ull <= 0x0001000000000000ull - n;
}

}  // namespace rwd::tcg
