// Multiplication, division and the BCD adjustments.
//
// Fixed values for undefined flags:
//  - MUL/IMUL: SF, ZF, PF from the low half of the result (the truncated
//    product for the 2/3-operand IMUL), AF = 0;
//  - DIV/IDIV: all arithmetic flags unchanged;
//  - DAA/DAS: OF = 0; AAA/AAS: OF = 0, SF/ZF/PF from the final AL;
//  - AAM/AAD: OF = AF = CF = 0.
#pragma once

#include "tcg-llvm/semantics/flags.h"
#include "tcg-llvm/semantics/operands.h"

namespace rwd::tcg {

using U128 = unsigned __int128;

// MUL / IMUL r/m (one operand): rDX:rAX (AX for bytes) = rAX * r/m.
template <unsigned N, bool Mem, bool Signed> struct MulE {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<N, Mem> src(m, d);
    U<N> b;
    RWD_TRY(src.read(m, d, b));
    U<N> a = U<N>(m.s.gpr[core::kRax]);
    U<N> lo, hi;
    bool overflow;
    if constexpr (N == 8) {
      U128 p = Signed ? static_cast<U128>(static_cast<__int128>(static_cast<int64_t>(a)) *
                                          static_cast<__int128>(static_cast<int64_t>(b)))
                      : static_cast<U128>(a) * b;
      lo = U<8>(p);
      hi = U<8>(p >> 64);
    } else {
      uint64_t p = Signed ? sext<N>(a) * sext<N>(b) : uint64_t(a) * uint64_t(b);
      lo = U<N>(p);
      hi = U<N>(p >> kBits<N>);
    }
    overflow = Signed ? hi != U<N>(sext<N>(lo) >> 63 ? ~0ull : 0) : hi != 0;
    if constexpr (N == 1) {
      set_reg_n(m, core::kRax, 2, (uint64_t(hi) << 8) | lo);
    } else {
      set_reg<N>(m, d, core::kRax, lo);
      set_reg<N>(m, d, core::kRdx, hi);
    }
    uint64_t cfof = overflow ? (fl::kCf | fl::kOf) : 0;
    m.s.rflags = (m.s.rflags & ~fl::kArith) | cfof | flags_szp<N>(lo);
    return Status::kNext;
  }
};

// IMUL reg, r/m [, imm]: truncated signed product.
template <unsigned N, bool Mem, bool HasImm> struct ImulGE {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<N, Mem> src(m, d);
    U<N> b;
    RWD_TRY(src.read(m, d, b));
    U<N> a = HasImm ? U<N>(d.imm) : get_reg<N>(m, d, d.reg);
    U<N> lo;
    bool overflow;
    if constexpr (N == 8) {
      __int128 p = static_cast<__int128>(static_cast<int64_t>(a)) * static_cast<int64_t>(b);
      lo = U<8>(static_cast<U128>(p));
      overflow = p != static_cast<__int128>(static_cast<int64_t>(lo));
    } else {
      uint64_t p = sext<N>(a) * sext<N>(b);
      lo = U<N>(p);
      overflow = p != sext<N>(lo);
    }
    set_reg<N>(m, d, d.reg, lo);
    uint64_t cfof = overflow ? (fl::kCf | fl::kOf) : 0;
    m.s.rflags = (m.s.rflags & ~fl::kArith) | cfof | flags_szp<N>(lo);
    return Status::kNext;
  }
};

// DIV / IDIV r/m: #DE on a zero divisor or a quotient that does not fit.
template <unsigned N, bool Mem, bool Signed> struct DivE {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<N, Mem> src(m, d);
    U<N> dv;
    RWD_TRY(src.read(m, d, dv));
    if (dv == 0) return raise(m, vec::kDe);
    U128 dividend;
    if constexpr (N == 1) dividend = m.s.gpr[core::kRax] & 0xffff;
    else dividend = (static_cast<U128>(U<N>(m.s.gpr[core::kRdx])) << kBits<N>) | U<N>(m.s.gpr[core::kRax]);
    U<N> q, r;
    if constexpr (!Signed) {
      U128 qq = dividend / dv;
      if (qq > kMask<N>) return raise(m, vec::kDe);
      q = U<N>(qq);
      r = U<N>(dividend % dv);
    } else {
      // Sign-magnitude division in unsigned arithmetic: no overflow UB.
      constexpr unsigned kDivBits = 2 * kBits<N>;
      bool neg_dd = (dividend >> (kDivBits - 1)) & 1;
      constexpr U128 kDivMask = kDivBits == 128 ? ~U128(0) : (U128(1) << (kDivBits % 128)) - 1;
      U128 mag_dd = neg_dd ? (U128(0) - dividend) & kDivMask : dividend;
      bool neg_dv = dv & kSignBit<N>;
      uint64_t mag_dv = neg_dv ? (U<N>(0) - dv) & kMask<N> : dv;
      if (neg_dv && mag_dv == 0) mag_dv = uint64_t(kSignBit<N>);
      U128 qq = mag_dd / mag_dv;
      U128 rr = mag_dd % mag_dv;
      bool neg_q = neg_dd != neg_dv;
      U128 limit = neg_q ? (U128(1) << (kBits<N> - 1)) : (U128(1) << (kBits<N> - 1)) - 1;
      if (qq > limit) return raise(m, vec::kDe);
      q = U<N>(neg_q ? U<N>(0) - U<N>(qq) : U<N>(qq));
      r = U<N>(neg_dd ? U<N>(0) - U<N>(rr) : U<N>(rr));
    }
    if constexpr (N == 1) {
      set_reg_n(m, core::kRax, 2, (uint64_t(r) << 8) | q);
    } else {
      set_reg<N>(m, d, core::kRax, q);
      set_reg<N>(m, d, core::kRdx, r);
    }
    return Status::kNext;
  }
};

// ---- BCD (16/32-bit modes only; #UD in 64-bit mode) -------------------------

template <class M> inline bool bcd_invalid(M& m) { return m.mode() == DecodeMode::k64; }

template <class M> inline void set_al(M& m, uint64_t al) {
  m.s.gpr[core::kRax] = (m.s.gpr[core::kRax] & ~0xffull) | (al & 0xff);
}

struct Daa {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    if (bcd_invalid(m)) return raise(m, vec::kUd);
    uint64_t al = m.s.gpr[core::kRax] & 0xff, old_al = al;
    bool old_cf = m.s.rflags & fl::kCf, cf = false, af = false;
    if ((al & 0xf) > 9 || (m.s.rflags & fl::kAf)) {
      cf = old_cf || al + 6 > 0xff;
      al = (al + 6) & 0xff;
      af = true;
    }
    if (old_al > 0x99 || old_cf) { al = (al + 0x60) & 0xff; cf = true; }
    else cf = false;
    set_al(m, al);
    set_arith_flags(m.s, (cf ? fl::kCf : 0) | (af ? fl::kAf : 0) | flags_szp<1>(U<1>(al)));
    return Status::kNext;
  }
};
struct Das {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    if (bcd_invalid(m)) return raise(m, vec::kUd);
    uint64_t al = m.s.gpr[core::kRax] & 0xff, old_al = al;
    bool old_cf = m.s.rflags & fl::kCf, cf = false, af = false;
    if ((al & 0xf) > 9 || (m.s.rflags & fl::kAf)) {
      cf = old_cf || al < 6;
      al = (al - 6) & 0xff;
      af = true;
    }
    if (old_al > 0x99 || old_cf) { al = (al - 0x60) & 0xff; cf = true; }
    set_al(m, al);
    set_arith_flags(m.s, (cf ? fl::kCf : 0) | (af ? fl::kAf : 0) | flags_szp<1>(U<1>(al)));
    return Status::kNext;
  }
};
template <bool Sub> struct AaaAas {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    if (bcd_invalid(m)) return raise(m, vec::kUd);
    uint64_t ax = m.s.gpr[core::kRax] & 0xffff;
    bool adj = (ax & 0xf) > 9 || (m.s.rflags & fl::kAf);
    if (adj) {
      // AAS: AX - 6 (AL's borrow reaches AH), then AH - 1, as the SDM's
      // current text and the host have it.
      if (Sub) ax = (ax - 6) & 0xffff, ax = (ax & 0xff) | ((((ax >> 8) - 1) & 0xff) << 8);
      else ax = (ax + 0x106) & 0xffff;
    }
    ax &= 0xff0f;
    set_reg_n(m, core::kRax, 2, ax);
    set_arith_flags(m.s, (adj ? fl::kCf | fl::kAf : 0) | flags_szp<1>(U<1>(ax)));
    return Status::kNext;
  }
};
using Aaa = AaaAas<false>;
using Aas = AaaAas<true>;
struct Aam {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (bcd_invalid(m)) return raise(m, vec::kUd);
    uint64_t base = d.imm & 0xff;
    if (base == 0) return raise(m, vec::kDe);
    uint64_t al = m.s.gpr[core::kRax] & 0xff;
    uint64_t ax = ((al / base) << 8) | (al % base);
    set_reg_n(m, core::kRax, 2, ax);
    set_arith_flags(m.s, flags_szp<1>(U<1>(ax)));
    return Status::kNext;
  }
};
struct Aad {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (bcd_invalid(m)) return raise(m, vec::kUd);
    uint64_t ax = m.s.gpr[core::kRax];
    uint64_t al = ((ax & 0xff) + ((ax >> 8) & 0xff) * (d.imm & 0xff)) & 0xff;
    set_reg_n(m, core::kRax, 2, al);
    set_arith_flags(m.s, flags_szp<1>(U<1>(al)));
    return Status::kNext;
  }
};

}  // namespace rwd::tcg
