// The state images: FXSAVE/FXRSTOR (512 bytes, 16-byte aligned) and the
// XSAVE family for the x87 and SSE components (XSAVE, XSAVEOPT, XRSTOR in
// the standard format, 64-byte aligned, with XGETBV/XSETBV for XCR0). Both
// share the legacy region's layout (SDM vol. 1, 10.5.1 and 13.4.1), written
// and read here one component at a time.
#pragma once

#include "tcg-llvm/semantics/simd_move.h"
#include "tcg-llvm/semantics/system.h"
#include "tcg-llvm/semantics/x87_control.h"

namespace rwd::tcg {

// XCR0 components rewind implements: x87 (bit 0, always set) and SSE (bit 1).
inline constexpr uint64_t kXcr0Supported = 0x3;
inline constexpr unsigned kXsaveAreaSize = 576;  // legacy region + header

// The legacy region's x87 part: FCW, FSW, abridged tags, FOP, FIP/FDP
// (64-bit with REX.W, else 32-bit with FCS/FDS), ST(0)-ST(7).
template <class M> inline bool image_store_x87(M& m, const DecodedInsn& d, int seg, uint64_t off) {
  auto at = [&](uint64_t o) { return (off + o) & size_mask(d.addr_size); };
  const auto& x = m.s.x87;
  uint8_t abridged = 0;
  for (unsigned i = 0; i < 8; ++i)
    if (((x.ftw >> (2 * i)) & 3) != 3) abridged |= uint8_t(1u << i);
  const bool wide = d.rex & 8;
  const uint64_t fip = wide ? x.fip : (x.fip & 0xffffffffull) | uint64_t(x.fcs) << 32;
  const uint64_t fdp = wide ? x.fdp : (x.fdp & 0xffffffffull) | uint64_t(x.fds) << 32;
  if (!m.template write<2>(seg, at(0), x.fcw) || !m.template write<2>(seg, at(2), x.fsw) ||
      !m.template write<2>(seg, at(4), abridged) || !m.template write<2>(seg, at(6), x.fop) ||
      !m.template write<8>(seg, at(8), fip) || !m.template write<8>(seg, at(16), fdp))
    return false;
  const unsigned top = (x.fsw >> 11) & 7;
  for (unsigned i = 0; i < 8; ++i) {
    const uint8_t* st = x.st[(top + i) & 7];  // ST(i), stack order
    U<8> lo;
    __builtin_memcpy(&lo, st, 8);
    if (!m.template write<8>(seg, at(32 + 16 * i), lo) ||
        !m.template write<8>(seg, at(40 + 16 * i), U<8>(st[8] | unsigned(st[9]) << 8)))
      return false;
  }
  return true;
}
template <class M> inline bool image_store_mxcsr(M& m, const DecodedInsn& d, int seg, uint64_t off) {
  auto at = [&](uint64_t o) { return (off + o) & size_mask(d.addr_size); };
  return m.template write<4>(seg, at(24), m.s.mxcsr) && m.template write<4>(seg, at(28), kMxcsrMask);
}
// XMM8-15 exist only in 64-bit mode.
template <class M> inline bool image_store_xmm(M& m, const DecodedInsn& d, int seg, uint64_t off) {
  const unsigned count = m.mode() == DecodeMode::k64 ? 16 : 8;
  for (unsigned i = 0; i < count; ++i)
    if (!store_vec<16>(m, seg, (off + 160 + 16 * i) & size_mask(d.addr_size), d.addr_size, get_xmm(m, i)))
      return false;
  return true;
}

// The x87 part read back, committed only when every read succeeded.
struct X87Image {
  uint16_t fcw, fsw, tags, fop;
  uint64_t fip, fdp;
  uint8_t st[8][10];
};
template <class M> inline bool image_read_x87(M& m, const DecodedInsn& d, int seg, uint64_t off, X87Image& img) {
  auto at = [&](uint64_t o) { return (off + o) & size_mask(d.addr_size); };
  U<2> fcw, fsw, tags, fop;
  U<8> fip, fdp;
  if (!m.template read<2>(seg, at(0), fcw) || !m.template read<2>(seg, at(2), fsw) ||
      !m.template read<2>(seg, at(4), tags) || !m.template read<2>(seg, at(6), fop) ||
      !m.template read<8>(seg, at(8), fip) || !m.template read<8>(seg, at(16), fdp))
    return false;
  img = {fcw, fsw, tags, fop, fip, fdp, {}};
  for (unsigned i = 0; i < 8; ++i) {
    U<8> lo;
    U<2> hi;
    if (!m.template read<8>(seg, at(32 + 16 * i), lo) || !m.template read<2>(seg, at(40 + 16 * i), hi)) return false;
    __builtin_memcpy(img.st[i], &lo, 8);
    img.st[i][8] = uint8_t(hi), img.st[i][9] = uint8_t(hi >> 8);
  }
  return true;
}
// Loads the x87 part: FCW as FLDCW leaves it, the full tag word rebuilt
// from the abridged one and the contents, ES and B from the flags and masks.
template <class M> inline void image_commit_x87(M& m, const DecodedInsn& d, const X87Image& img) {
  auto& x = m.s.x87;
  const bool wide = d.rex & 8;
  x.fcw = x87_control_word(img.fcw);
  x.fsw = img.fsw;
  x.fop = uint16_t(img.fop & 0x7ff);
  x.fip = wide ? img.fip : img.fip & 0xffffffffull;
  x.fdp = wide ? img.fdp : img.fdp & 0xffffffffull;
  // The 64-bit layout has no FCS/FDS: they become 0 (as on the host).
  x.fcs = wide ? 0 : uint16_t(img.fip >> 32);
  x.fds = wide ? 0 : uint16_t(img.fdp >> 32);
  const unsigned top = (img.fsw >> 11) & 7;
  for (unsigned i = 0; i < 8; ++i) __builtin_memcpy(x.st[(top + i) & 7], img.st[i], 10);
  uint16_t ftw = 0;
  for (unsigned r = 0; r < 8; ++r) ftw = uint16_t(ftw | ((img.tags >> r) & 1 ? x87_tag_of(x.st[r]) : 3u) << (2 * r));
  x.ftw = ftw;
  x87_update_summary(m);
}
template <class M> inline bool image_read_mxcsr(M& m, const DecodedInsn& d, int seg, uint64_t off, uint32_t& v) {
  U<4> x;
  if (!m.template read<4>(seg, (off + 24) & size_mask(d.addr_size), x)) return false;
  if (x & ~kMxcsrMask) return fail(m, vec::kGp, 0);
  v = x;
  return true;
}
template <class M> inline bool image_read_xmm(M& m, const DecodedInsn& d, int seg, uint64_t off, Vec* xmm) {
  const unsigned count = m.mode() == DecodeMode::k64 ? 16 : 8;
  for (unsigned i = 0; i < count; ++i)
    if (!load_vec<16>(m, seg, (off + 160 + 16 * i) & size_mask(d.addr_size), d.addr_size, xmm[i])) return false;
  return true;
}
template <class M> inline void image_commit_xmm(M& m, const Vec* xmm) {
  const unsigned count = m.mode() == DecodeMode::k64 ? 16 : 8;
  for (unsigned i = 0; i < count; ++i) set_xmm(m, i, xmm[i]);
}

// FXSAVE / FXRSTOR m512byte. FXRSTOR refuses reserved MXCSR bits (#GP).
template <bool Restore> struct Fxsave {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (m.s.cr0 & core::cr0::kEm) return raise(m, vec::kUd);
    if (m.s.cr0 & core::cr0::kTs) return raise(m, vec::kNm);
    const uint64_t off = effective_address(m, d);
    const int seg = operand_segment(d);
    // The host's order: the segment checks of the image's first 4 bytes, alignment
    // checking (#AC wants 4 bytes), the #GP for an image not 16-aligned,
    // then the image's last and first bytes (segment, page).
    RWD_TRY(m.check_segment(seg, off, 4, !Restore));
    RWD_TRY(m.check_alignment(seg, off, 4));
    if (m.linear_address(seg, off) & 15) return raise_err(m, vec::kGp, 0);
    // The image's last byte, then its first (the host's order).
    RWD_TRY(probe_ends(m, seg, off, 512, d.addr_size, !Restore, true));
    if constexpr (!Restore) {
      RWD_TRY(image_store_x87(m, d, seg, off));
      RWD_TRY(image_store_mxcsr(m, d, seg, off));
      RWD_TRY(image_store_xmm(m, d, seg, off));
    } else {
      uint32_t mxcsr;
      X87Image x87;
      Vec xmm[16];
      RWD_TRY(image_read_mxcsr(m, d, seg, off, mxcsr));
      RWD_TRY(image_read_x87(m, d, seg, off, x87));
      RWD_TRY(image_read_xmm(m, d, seg, off, xmm));
      image_commit_x87(m, d, x87);
      m.s.mxcsr = mxcsr;
      image_commit_xmm(m, xmm);
    }
    return Status::kNext;
  }
};

// ---- XSAVE ---------------------------------------------------------------------

// Which components are not in their initial configuration (XINUSE). The
// SDM lets an implementation report 1 for a component in its initial
// state; rewind reports 0 exactly when it is: x87 as FNINIT leaves the
// control state and every register zero, SSE with every XMM register zero.
template <class M> inline uint64_t xinuse(M& m) {
  const auto& x = m.s.x87;
  bool x87_init = x.fcw == 0x37f && x.fsw == 0 && x.ftw == 0xffff && x.fop == 0 && x.fip == 0 && x.fdp == 0 &&
                  x.fcs == 0 && x.fds == 0;
  for (unsigned r = 0; r < 8 && x87_init; ++r)
    for (unsigned b = 0; b < 10; ++b) x87_init = x87_init && x.st[r][b] == 0;
  bool sse_init = true;
  for (unsigned r = 0; r < 16 && sse_init; ++r)
    for (unsigned b = 0; b < 16; ++b) sse_init = sse_init && m.s.xmm[r][b] == 0;
  return (x87_init ? 0 : 1) | (sse_init ? 0 : 2);
}

// XSAVE, XSAVEOPT (Opt: components in their initial state are not written)
// and XRSTOR m (standard format). #UD without CR4.OSXSAVE, #NM with CR0.TS,
// #GP for an address not 64-byte aligned; the components are those of
// XCR0 AND EDX:EAX (RFBM).
enum class XsaveOp : uint8_t { kSave, kSaveOpt, kRestore };
template <XsaveOp Op> struct Xsave {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (!(m.s.cr4 & core::cr4::kOsxsave)) return raise(m, vec::kUd);
    if (m.s.cr0 & core::cr0::kTs) return raise(m, vec::kNm);
    const uint64_t off = effective_address(m, d);
    const int seg = operand_segment(d);
    auto at = [&](uint64_t o) { return (off + o) & size_mask(d.addr_size); };
    // The host's order: the segment check of the area's first byte, the #GP
    // for an area not 64-aligned, then the area's bytes (offsets wrap like
    // FXSAVE's image: an area at 0xffffffc0 in 32-bit code faults on a page).
    RWD_TRY(m.check_segment(seg, off, 1, Op != XsaveOp::kRestore));
    if (m.linear_address(seg, off) & 63) return raise_err(m, vec::kGp, 0);
    const uint64_t rfbm = m.s.xcr0 & ((m.s.gpr[core::kRax] & 0xffffffffull) | m.s.gpr[core::kRdx] << 32);
    if constexpr (Op != XsaveOp::kRestore) {
      RWD_TRY(probe_ends(m, seg, off, kXsaveAreaSize, d.addr_size, true, false));  // first byte, then last
      U<8> bv;
      RWD_TRY(m.template read<8>(seg, at(512), bv));
      const uint64_t inuse = xinuse(m);
      const uint64_t write = Op == XsaveOp::kSaveOpt ? rfbm & inuse : rfbm;
      if (write & 1) RWD_TRY(image_store_x87(m, d, seg, off));
      if (rfbm & 2) RWD_TRY(image_store_mxcsr(m, d, seg, off));
      if (write & 2) RWD_TRY(image_store_xmm(m, d, seg, off));
      RWD_TRY(m.template write<8>(seg, at(512), (bv & ~rfbm) | (inuse & rfbm)));
    } else {
      U<8> bv, comp, reserved;
      RWD_TRY(m.check_read(seg, off, 1));  // the first byte, then the header (the host's order)
      RWD_TRY(m.template read<8>(seg, at(512), bv));
      RWD_TRY(m.template read<8>(seg, at(520), comp));
      RWD_TRY(m.template read<8>(seg, at(528), reserved));
      // The standard format: header bytes 8-23 (XCOMP_BV and the next eight)
      // zero, no component outside XCR0. Bytes 24-63 are not checked (SDM
      // Vol. 1 §13.8.1; the host agrees).
      if (comp != 0 || reserved != 0 || (bv & ~m.s.xcr0)) return raise_err(m, vec::kGp, 0);
      uint32_t mxcsr = m.s.mxcsr;
      X87Image x87;
      Vec xmm[16];
      if (rfbm & 2) RWD_TRY(image_read_mxcsr(m, d, seg, off, mxcsr));
      if (rfbm & bv & 1) RWD_TRY(image_read_x87(m, d, seg, off, x87));
      if (rfbm & bv & 2) RWD_TRY(image_read_xmm(m, d, seg, off, xmm));
      // Everything read: commit. A component of RFBM absent from XSTATE_BV
      // goes to its initial state.
      if (rfbm & 1) {
        if (bv & 1) {
          image_commit_x87(m, d, x87);
        } else {
          x87_init(m);
          for (auto& st : m.s.x87.st)
            for (auto& b : st) b = 0;
        }
      }
      if (rfbm & 2) {
        m.s.mxcsr = mxcsr;
        if (bv & 2) image_commit_xmm(m, xmm);
        else
          for (auto& x : m.s.xmm)
            for (auto& b : x) b = 0;
      }
    }
    return Status::kNext;
  }
};

// XGETBV: XCR0 for ECX = 0, else #GP. XSETBV (CPL 0): ECX = 0, x87 set, only
// supported components, else #GP. Both #UD without CR4.OSXSAVE or with a
// LOCK, 66, F2 or F3 prefix (host).
template <bool Set> struct Xcr {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (!(m.s.cr4 & core::cr4::kOsxsave) || d.lock || d.opsize_prefix || d.rep != RepPrefix::kNone)
      return raise(m, vec::kUd);
    if (uint32_t(m.s.gpr[core::kRcx]) != 0) return raise_err(m, vec::kGp, 0);
    if constexpr (Set) {
      if (!cpl0(m)) return raise_err(m, vec::kGp, 0);
      const uint64_t v = (m.s.gpr[core::kRax] & 0xffffffffull) | m.s.gpr[core::kRdx] << 32;
      if (!(v & 1) || (v & ~kXcr0Supported)) return raise_err(m, vec::kGp, 0);
      m.s.xcr0 = v;
    } else {
      m.s.gpr[core::kRax] = m.s.xcr0 & 0xffffffffull;
      m.s.gpr[core::kRdx] = m.s.xcr0 >> 32;
    }
    return Status::kNext;
  }
};

}  // namespace rwd::tcg
