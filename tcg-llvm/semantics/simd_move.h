// SSE/SSE2/SSE3/SSSE3/SSE4.1 forms that move, select or test bits without
// floating-point arithmetic: scalar and half-register moves, MOVMSKPS/PD,
// duplicating moves, SHUFPS/SHUFPD, PALIGNR, PINSRW/PEXTRW, MASKMOVQ/
// MASKMOVDQU, PTEST, LDMXCSR/STMXCSR, and FXSAVE/FXRSTOR.
#pragma once

#include "tcg-llvm/semantics/flags.h"
#include "tcg-llvm/semantics/simd_int.h"

namespace rwd::tcg {

// ---- binary operations with an immediate: calc(dst, src, bytes, imm) ------------

struct ShufPS {
  static void calc(Vec& d, const Vec& s, unsigned, unsigned imm) {
    Vec r;
    set_lane<4>(r, 0, lane<4>(d, imm & 3));
    set_lane<4>(r, 1, lane<4>(d, (imm >> 2) & 3));
    set_lane<4>(r, 2, lane<4>(s, (imm >> 4) & 3));
    set_lane<4>(r, 3, lane<4>(s, (imm >> 6) & 3));
    d = r;
  }
};
struct ShufPD {
  static void calc(Vec& d, const Vec& s, unsigned, unsigned imm) {
    Vec r;
    set_lane<8>(r, 0, lane<8>(d, imm & 1));
    set_lane<8>(r, 1, lane<8>(s, (imm >> 1) & 1));
    d = r;
  }
};
// PALIGNR: dst:src shifted right by imm bytes, the low n bytes kept.
struct PAlignR {
  static void calc(Vec& d, const Vec& s, unsigned n, unsigned imm) {
    uint8_t cat[32];
    for (unsigned i = 0; i < n; ++i) cat[i] = s.b[i], cat[n + i] = d.b[i];
    for (unsigned i = 0; i < n; ++i) d.b[i] = i + imm < 2 * n ? cat[i + imm] : 0;
  }
};

// ---- partial moves -----------------------------------------------------------------

// MOVSS/MOVSD xmm, xmm/m (N = 4 or 8): a register source replaces the low
// lane only, a memory source zeroes the rest. The store forms write N bytes
// (a register destination keeps its other lanes).
template <unsigned N, bool Mem, bool Store> struct MovScalar {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    if constexpr (Store) {
      Vec v = get_xmm(m, d.reg);
      if constexpr (Mem) {
        RWD_TRY(store_vec<N>(m, operand_segment(d), effective_address(m, d), d.addr_size, v));
      } else {
        Vec r = get_xmm(m, d.rm);
        __builtin_memcpy(r.b, v.b, N);
        set_xmm(m, d.rm, r);
      }
    } else {
      Vec r;
      if constexpr (Mem) {
        r = Vec{};
        RWD_TRY(load_vec<N>(m, operand_segment(d), effective_address(m, d), d.addr_size, r));
      } else {
        r = get_xmm(m, d.reg);
        Vec v = get_xmm(m, d.rm);
        __builtin_memcpy(r.b, v.b, N);
      }
      set_xmm(m, d.reg, r);
    }
    return Status::kNext;
  }
};

// The 8-byte half moves: MOVLPS/MOVLPD/MOVHPS/MOVHPD with memory, MOVHLPS and
// MOVLHPS between registers. Dst half and source half are 0 (low) or 1 (high).
template <unsigned DstHalf, unsigned SrcHalf, bool Mem, bool Store> struct MovHalf {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    if constexpr (Store) {  // memory <- xmm half
      Vec v = get_xmm(m, d.reg), t{};
      __builtin_memcpy(t.b, v.b + 8 * SrcHalf, 8);
      RWD_TRY(store_vec<8>(m, operand_segment(d), effective_address(m, d), d.addr_size, t));
    } else {
      Vec t{};
      if constexpr (Mem) {
        RWD_TRY(load_vec<8>(m, operand_segment(d), effective_address(m, d), d.addr_size, t));
      } else {
        Vec s = get_xmm(m, d.rm);
        __builtin_memcpy(t.b, s.b + 8 * SrcHalf, 8);
      }
      Vec r = get_xmm(m, d.reg);
      __builtin_memcpy(r.b + 8 * DstHalf, t.b, 8);
      set_xmm(m, d.reg, r);
    }
    return Status::kNext;
  }
};

// MOVSLDUP / MOVSHDUP (dwords 0,0,2,2 / 1,1,3,3; aligned) and MOVDDUP
// (the low quadword twice; an 8-byte memory operand, no alignment).
enum class DupKind : uint8_t { kLow, kHigh, kDouble };
template <DupKind K, bool Mem> struct MovDup {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    Vec s{};
    if constexpr (K == DupKind::kDouble) {
      if constexpr (Mem) RWD_TRY(load_vec<8>(m, operand_segment(d), effective_address(m, d), d.addr_size, s));
      else s = get_xmm(m, d.rm);
    } else {
      VecRm<true, Mem> src(m, d);
      RWD_TRY(src.read(m, d, s, true));
    }
    Vec r;
    if (K == DupKind::kDouble) {
      set_lane<8>(r, 0, lane<8>(s, 0));
      set_lane<8>(r, 1, lane<8>(s, 0));
    } else {
      unsigned o = K == DupKind::kHigh ? 1 : 0;
      for (unsigned i = 0; i < 4; ++i) set_lane<4>(r, i, lane<4>(s, (i & 2) + o));
    }
    set_xmm(m, d.reg, r);
    return Status::kNext;
  }
};

// MOVMSKPS / MOVMSKPD r32, xmm: the sign bit of each lane.
template <unsigned L> struct MovMskP {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    Vec v = get_xmm(m, d.rm);
    uint32_t mask = 0;
    for (unsigned i = 0; i < 16 / L; ++i) mask |= uint32_t(lane<L>(v, i) >> (8 * L - 1)) << i;
    set_reg_n(m, d.reg, 4, mask);
    return Status::kNext;
  }
};

// PINSRW mm/xmm and PINSRB/PINSRD/PINSRQ xmm (SSE4.1), r/m, imm8: the low
// L bytes of a general register (or L bytes of memory) into lane
// (imm mod lanes).
template <unsigned L, bool Xmm, bool Mem> struct PInsr {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(vec_available<Xmm>(m));
    U<L> v;
    if constexpr (Mem) RWD_TRY(m.template read<L>(operand_segment(d), effective_address(m, d), v));
    else v = U<L>(m.s.gpr[d.rm]);
    Vec x = get_vreg<Xmm>(m, d.reg);
    set_lane<L>(x, unsigned(d.imm) & ((Xmm ? 16 : 8) / L - 1), v);
    set_vreg<Xmm>(m, d.reg, x);
    return Status::kNext;
  }
};
// PEXTRW r32, mm/xmm, imm8.
template <bool Xmm> struct PExtrW {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(vec_available<Xmm>(m));
    Vec v = get_vreg<Xmm>(m, d.rm);
    set_reg_n(m, d.reg, 4, lane<2>(v, unsigned(d.imm) & (Xmm ? 7 : 3)));
    if constexpr (!Xmm) enter_mmx_state(m);
    return Status::kNext;
  }
};

// SSE4.1 PEXTRB/PEXTRW/PEXTRD/PEXTRQ/EXTRACTPS r/m, xmm, imm8: lane
// (imm mod lanes) of the XMM register into a general register (zero-extended)
// or L bytes of memory.
template <unsigned L, bool Mem> struct PExtr {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    U<L> v = lane<L>(get_xmm(m, d.reg), unsigned(d.imm) & (16 / L - 1));
    if constexpr (Mem) RWD_TRY(m.template write<L>(operand_segment(d), effective_address(m, d), v));
    else set_reg_n(m, d.rm, L == 8 ? 8 : 4, v);
    return Status::kNext;
  }
};
// INSERTPS xmm, xmm/m32, imm8: a dword (source lane imm[7:6], or m32) into
// lane imm[5:4], then the lanes of imm[3:0] zeroed.
template <bool Mem> struct InsertPS {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    unsigned imm = unsigned(d.imm & 0xff);
    U<4> v;
    if constexpr (Mem) RWD_TRY(m.template read<4>(operand_segment(d), effective_address(m, d), v));
    else v = lane<4>(get_xmm(m, d.rm), (imm >> 6) & 3);
    Vec x = get_xmm(m, d.reg);
    set_lane<4>(x, (imm >> 4) & 3, v);
    for (unsigned i = 0; i < 4; ++i)
      if ((imm >> i) & 1) set_lane<4>(x, i, 0);
    set_xmm(m, d.reg, x);
    return Status::kNext;
  }
};

// MASKMOVQ / MASKMOVDQU: the bytes of the first operand whose mask byte (the
// second operand) has its top bit set are stored at DS:rDI (override allowed).
// The whole operand is checked as a store first, whatever the mask (a fault
// names its first byte, and a zero mask still faults, as on the host), so
// nothing is stored on a fault.
template <bool Xmm> struct MaskMov {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(vec_available<Xmm>(m));
    // MASKMOVQ's operand is implicit: MMX state comes first, a fault of
    // the store keeps it (the host's order).
    if constexpr (!Xmm) enter_mmx_state(m);
    constexpr unsigned n = Xmm ? 16 : 8;
    Vec v = get_vreg<Xmm>(m, d.reg);
    Vec mask = get_vreg<Xmm>(m, d.rm);
    int seg = d.seg == SegOverride::kNone ? kSegDs : static_cast<int>(d.seg);
    uint64_t base = m.s.gpr[core::kRdi] & size_mask(d.addr_size);
    RWD_TRY(m.check_alignment(seg, base, 8, false));  // 8 for both sizes, after MMX state is entered (host)
    // The store is checked as 8-byte pieces (segment, then pages), as the
    // host checks it.
    RWD_TRY(m.check_write(seg, base, 8));
    if constexpr (Xmm) RWD_TRY(m.check_write(seg, (base + 8) & size_mask(d.addr_size), 8));
    for (unsigned i = 0; i < n; ++i)
      if (mask.b[i] & 0x80) RWD_TRY(m.template write<1>(seg, (base + i) & size_mask(d.addr_size), v.b[i]));
    return Status::kNext;
  }
};

// PTEST xmm, xmm/m128 (SSE4.1): ZF = (dst AND src) == 0, CF = (NOT dst AND
// src) == 0; OF, SF, AF, PF cleared.
template <bool Mem> struct PTest {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    VecRm<true, Mem> src(m, d);
    Vec s;
    RWD_TRY(src.read(m, d, s, true));
    Vec a = get_xmm(m, d.reg);
    uint64_t and_ = (lane<8>(a, 0) & lane<8>(s, 0)) | (lane<8>(a, 1) & lane<8>(s, 1));
    uint64_t andn = (~lane<8>(a, 0) & lane<8>(s, 0)) | (~lane<8>(a, 1) & lane<8>(s, 1));
    set_arith_flags(m.s, (and_ == 0 ? fl::kZf : 0) | (andn == 0 ? fl::kCf : 0));
    return Status::kNext;
  }
};

// ---- MXCSR and the FXSAVE image -------------------------------------------------

// MXCSR bits rewind implements: flags, masks, rounding, FTZ and DAZ.
inline constexpr uint32_t kMxcsrMask = 0xffff;

template <bool Load> struct MxcsrMove {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    uint64_t off = effective_address(m, d);
    int seg = operand_segment(d);
    if constexpr (Load) {
      U<4> v;
      RWD_TRY(m.template read<4>(seg, off, v));
      if (v & ~kMxcsrMask) return raise_err(m, vec::kGp, 0);
      m.s.mxcsr = v;
    } else {
      RWD_TRY(m.template write<4>(seg, off, U<4>(m.s.mxcsr)));
    }
    return Status::kNext;
  }
};

}  // namespace rwd::tcg
