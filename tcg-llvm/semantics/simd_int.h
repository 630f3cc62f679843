// MMX/SSE2/SSSE3 integer semantics: lanewise arithmetic with wrap-around and
// saturation, logic, compares, multiplies, averages, min/max, sums of
// absolute differences, unpacks and packs, shifts, shuffles, moves between
// vector registers, general registers and memory, PMOVMSKB and EMMS.
// One template per shape; each operation is a small struct over lanes, and
// the same operation serves MMX (8 bytes) and SSE (16 bytes).
#pragma once

#include "tcg-llvm/semantics/simd.h"

namespace rwd::tcg {

// ---- lanewise helpers ---------------------------------------------------------

template <unsigned L, class F> inline void each_lane(Vec& d, const Vec& s, unsigned bytes, F f) {
  for (unsigned i = 0; i < bytes / L; ++i) set_lane<L>(d, i, f(lane<L>(d, i), lane<L>(s, i)));
}

template <unsigned L> inline S<L> sat_signed(int64_t v) {
  constexpr int64_t kMax = int64_t((1ull << (8 * L - 1)) - 1), kMin = -kMax - 1;
  return S<L>(v > kMax ? kMax : v < kMin ? kMin : v);
}
template <unsigned L> inline U<L> sat_unsigned(int64_t v) {
  constexpr int64_t kMax = int64_t((1ull << (8 * L)) - 1);
  return U<L>(v > kMax ? kMax : v < 0 ? 0 : v);
}

// Binary operations: calc(dst, src, bytes) with dst the first operand.
template <unsigned L> struct PAdd {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<L>(d, s, n, [](U<L> a, U<L> b) { return U<L>(a + b); });
  }
};
template <unsigned L> struct PSub {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<L>(d, s, n, [](U<L> a, U<L> b) { return U<L>(a - b); });
  }
};
template <unsigned L> struct PAddS {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<L>(d, s, n, [](U<L> a, U<L> b) { return U<L>(sat_signed<L>(int64_t(S<L>(a)) + S<L>(b))); });
  }
};
template <unsigned L> struct PSubS {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<L>(d, s, n, [](U<L> a, U<L> b) { return U<L>(sat_signed<L>(int64_t(S<L>(a)) - S<L>(b))); });
  }
};
template <unsigned L> struct PAddUS {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<L>(d, s, n, [](U<L> a, U<L> b) { return sat_unsigned<L>(int64_t(a) + b); });
  }
};
template <unsigned L> struct PSubUS {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<L>(d, s, n, [](U<L> a, U<L> b) { return sat_unsigned<L>(int64_t(a) - b); });
  }
};
struct PAnd {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<8>(d, s, n, [](U<8> a, U<8> b) { return a & b; });
  }
};
struct PAndN {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<8>(d, s, n, [](U<8> a, U<8> b) { return ~a & b; });
  }
};
struct POr {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<8>(d, s, n, [](U<8> a, U<8> b) { return a | b; });
  }
};
struct PXor {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<8>(d, s, n, [](U<8> a, U<8> b) { return a ^ b; });
  }
};
template <unsigned L> struct PCmpEq {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<L>(d, s, n, [](U<L> a, U<L> b) { return a == b ? U<L>(~U<L>(0)) : U<L>(0); });
  }
};
template <unsigned L> struct PCmpGt {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<L>(d, s, n, [](U<L> a, U<L> b) { return S<L>(a) > S<L>(b) ? U<L>(~U<L>(0)) : U<L>(0); });
  }
};
struct PMinUB {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<1>(d, s, n, [](U<1> a, U<1> b) { return a < b ? a : b; });
  }
};
struct PMaxUB {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<1>(d, s, n, [](U<1> a, U<1> b) { return a > b ? a : b; });
  }
};
struct PMinSW {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<2>(d, s, n, [](U<2> a, U<2> b) { return S<2>(a) < S<2>(b) ? a : b; });
  }
};
struct PMaxSW {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<2>(d, s, n, [](U<2> a, U<2> b) { return S<2>(a) > S<2>(b) ? a : b; });
  }
};
template <unsigned L> struct PAvg {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<L>(d, s, n, [](U<L> a, U<L> b) { return U<L>((uint32_t(a) + b + 1) >> 1); });
  }
};
struct PMulLW {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<2>(d, s, n, [](U<2> a, U<2> b) { return U<2>(uint32_t(a) * b); });
  }
};
struct PMulHW {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<2>(d, s, n, [](U<2> a, U<2> b) { return U<2>(uint32_t(int32_t(S<2>(a)) * S<2>(b)) >> 16); });
  }
};
struct PMulHUW {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<2>(d, s, n, [](U<2> a, U<2> b) { return U<2>((uint32_t(a) * b) >> 16); });
  }
};
// PMULUDQ: the low doublewords of each quadword, multiplied to 64 bits.
struct PMulUDQ {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<8>(d, s, n, [](U<8> a, U<8> b) { return (a & 0xffffffffull) * (b & 0xffffffffull); });
  }
};
// PMADDWD: pairs of signed words multiplied and added into doublewords.
struct PMAddWD {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    Vec r{};
    for (unsigned i = 0; i < n / 4; ++i) {
      int32_t lo = int32_t(S<2>(lane<2>(d, 2 * i))) * S<2>(lane<2>(s, 2 * i));
      int32_t hi = int32_t(S<2>(lane<2>(d, 2 * i + 1))) * S<2>(lane<2>(s, 2 * i + 1));
      set_lane<4>(r, i, uint32_t(lo) + uint32_t(hi));  // wraps for 0x8000 * 0x8000 * 2, as silicon
    }
    __builtin_memcpy(d.b, r.b, n);
  }
};
// PSADBW: per quadword, the sum of absolute byte differences in its low word.
struct PSadBW {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    for (unsigned q = 0; q < n / 8; ++q) {
      uint32_t sum = 0;
      for (unsigned i = 0; i < 8; ++i) {
        int a = lane<1>(d, q * 8 + i), b = lane<1>(s, q * 8 + i);
        sum += uint32_t(a > b ? a - b : b - a);
      }
      set_lane<8>(d, q, sum);
    }
  }
};
// PUNPCKL*/PUNPCKH*: interleave the low (or high) halves, dst lanes first.
template <unsigned L, bool High> struct PUnpck {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    Vec r{};
    unsigned half = n / L / 2;
    for (unsigned i = 0; i < half; ++i) {
      set_lane<L>(r, 2 * i, lane<L>(d, (High ? half : 0) + i));
      set_lane<L>(r, 2 * i + 1, lane<L>(s, (High ? half : 0) + i));
    }
    __builtin_memcpy(d.b, r.b, n);
  }
};
// PACKSSWB/PACKSSDW/PACKUSWB: both operands narrowed with saturation, dst first.
template <unsigned L, bool Signed> struct PPack {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    Vec r{};
    unsigned lanes = n / L;
    for (unsigned i = 0; i < 2 * lanes; ++i) {
      int64_t v = int64_t(S<L>(lane<L>(i < lanes ? d : s, i % lanes)));
      if constexpr (Signed) set_lane<L / 2>(r, i, U<L / 2>(sat_signed<L / 2>(v)));
      else set_lane<L / 2>(r, i, sat_unsigned<L / 2>(v));
    }
    __builtin_memcpy(d.b, r.b, n);
  }
};
// PSHUFB (SSSE3): each byte picks a byte of dst by the low bits of the
// selector, or 0 when the selector's top bit is set.
struct PShufB {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    Vec r{};
    for (unsigned i = 0; i < n; ++i) {
      uint8_t sel = s.b[i];
      r.b[i] = (sel & 0x80) ? 0 : d.b[sel & (n - 1)];
    }
    __builtin_memcpy(d.b, r.b, n);
  }
};

// ---- SSSE3 ----------------------------------------------------------------------

// PHADD*/PHSUB*: adjacent lanes of dst, then of src, added (or subtracted),
// with signed saturation for the S forms.
template <unsigned L, bool Sub, bool Sat> struct PHadd {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    Vec r{};
    unsigned half = n / L / 2;
    for (unsigned i = 0; i < 2 * half; ++i) {
      const Vec& v = i < half ? d : s;
      unsigned j = 2 * (i % half);
      int64_t a = S<L>(lane<L>(v, j)), b = S<L>(lane<L>(v, j + 1));
      int64_t x = Sub ? a - b : a + b;
      set_lane<L>(r, i, Sat ? U<L>(sat_signed<L>(x)) : U<L>(uint64_t(x)));
    }
    __builtin_memcpy(d.b, r.b, n);
  }
};
// PMADDUBSW: unsigned bytes of dst times signed bytes of src, pairs summed
// into words with signed saturation.
struct PMAddUBSW {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    Vec r{};
    for (unsigned i = 0; i < n / 2; ++i) {
      int64_t x = int64_t(d.b[2 * i]) * int8_t(s.b[2 * i]) + int64_t(d.b[2 * i + 1]) * int8_t(s.b[2 * i + 1]);
      set_lane<2>(r, i, U<2>(sat_signed<2>(x)));
    }
    __builtin_memcpy(d.b, r.b, n);
  }
};
// PSIGN*: dst negated, zeroed or kept by the sign of src.
template <unsigned L> struct PSign {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<L>(d, s, n, [](U<L> a, U<L> b) { return S<L>(b) < 0 ? U<L>(U<L>(0) - a) : b == 0 ? U<L>(0) : a; });
  }
};
// PMULHRSW: signed words multiplied, rounded, the high half of the 17-bit result.
struct PMulHRSW {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<2>(d, s, n, [](U<2> a, U<2> b) {
      int32_t p = int32_t(S<2>(a)) * S<2>(b);
      return U<2>(uint32_t(((p >> 14) + 1) >> 1));
    });
  }
};
// PABS*: the absolute value of each src lane (the most negative stays as is).
template <unsigned L> struct PAbs {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<L>(d, s, n, [](U<L>, U<L> b) { return S<L>(b) < 0 ? U<L>(U<L>(0) - b) : b; });
  }
};

// ---- SSE4.1 / SSE4.2 integer ----------------------------------------------------

template <unsigned L, bool Signed, bool Max> struct PMinMax {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<L>(d, s, n, [](U<L> a, U<L> b) {
      bool less = Signed ? S<L>(a) < S<L>(b) : a < b;
      return (less != Max) ? a : b;
    });
  }
};
struct PMulLD {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<4>(d, s, n, [](U<4> a, U<4> b) { return U<4>(a * b); });
  }
};
// PMULDQ: the signed low doublewords of each quadword multiplied to 64 bits.
struct PMulDQ {
  static void calc(Vec& d, const Vec& s, unsigned n) {
    each_lane<8>(d, s, n, [](U<8> a, U<8> b) { return uint64_t(int64_t(int32_t(a)) * int32_t(b)); });
  }
};
// PHMINPOSUW: the least unsigned word of src and its index, the rest zeroed.
struct PHMinPosUW {
  static void calc(Vec& d, const Vec& s, unsigned) {
    unsigned best = 0;
    for (unsigned i = 1; i < 8; ++i)
      if (lane<2>(s, i) < lane<2>(s, best)) best = i;
    Vec r{};
    set_lane<2>(r, 0, lane<2>(s, best));
    set_lane<2>(r, 1, U<2>(best));
    d = r;
  }
};
// BLENDPS/BLENDPD/PBLENDW: lane i from src where imm bit i is set.
template <unsigned L> struct PBlendI {
  static void calc(Vec& d, const Vec& s, unsigned n, unsigned imm) {
    for (unsigned i = 0; i < n / L; ++i)
      if ((imm >> i) & 1) set_lane<L>(d, i, lane<L>(s, i));
  }
};

// Shifts by a count (the source's low quadword, or an immediate): counts of
// the lane width or more clear the lane (or fill it with the sign).
enum class ShiftKind : uint8_t { kLeft, kRightLogical, kRightArith };
template <unsigned L, ShiftKind K> inline void shift_lanes(Vec& d, unsigned n, uint64_t count) {
  for (unsigned i = 0; i < n / L; ++i) {
    U<L> a = lane<L>(d, i), r;
    if (K == ShiftKind::kRightArith) {
      unsigned c = count >= 8 * L ? 8 * L - 1 : unsigned(count);
      r = U<L>(uint64_t(int64_t(S<L>(a)) >> c));
    } else if (count >= 8 * L) {
      r = 0;
    } else if (K == ShiftKind::kLeft) {
      r = U<L>(uint64_t(a) << count);
    } else {
      r = U<L>(uint64_t(a) >> count);
    }
    set_lane<L>(d, i, r);
  }
}
template <unsigned L, ShiftKind K> struct PShift {
  static void calc(Vec& d, const Vec& s, unsigned n) { shift_lanes<L, K>(d, n, lane<8>(s, 0)); }
};

// ---- shapes ---------------------------------------------------------------------

// op mm, mm/m64 (Xmm = false) or op xmm, xmm/m128 (aligned), with the
// form's imm8 for the operations that take one (calc(dst, src, n, imm)).
// The bytes a form's memory operand reads: the whole register, except for
// MMX's low unpacks (PUNPCKLBW/WD/DQ mm, m32), which read 4 (the SDM's
// operand, and what the host faults on).
template <class Op, bool Xmm> inline constexpr unsigned kPackedMemBytes = Xmm ? 16 : 8;
template <unsigned L> inline constexpr unsigned kPackedMemBytes<PUnpck<L, false>, false> = 4;

template <class Op, bool Xmm, bool Mem> struct PackedBinary {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(vec_available<Xmm>(m));
    VecRm<Xmm, Mem, kPackedMemBytes<Op, Xmm>> src(m, d);
    Vec b;
    RWD_TRY(src.read(m, d, b, true));
    Vec a = get_vreg<Xmm>(m, d.reg);
    if constexpr (requires { Op::calc(a, b, 16u, 0u); }) Op::calc(a, b, Xmm ? 16 : 8, unsigned(d.imm & 0xff));
    else Op::calc(a, b, Xmm ? 16 : 8);
    set_vreg<Xmm>(m, d.reg, a);
    return Status::kNext;
  }
};

// PSxLW/D/Q mm/xmm, imm8 (the register is ModRM.rm).
template <unsigned L, ShiftKind K, bool Xmm> struct PackedShiftImm {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(vec_available<Xmm>(m));
    Vec a = get_vreg<Xmm>(m, d.rm);
    shift_lanes<L, K>(a, Xmm ? 16 : 8, d.imm & 0xff);
    set_vreg<Xmm>(m, d.rm, a);
    return Status::kNext;
  }
};
// PSRLDQ/PSLLDQ xmm, imm8: whole-register byte shifts.
template <bool Left> struct ByteShiftImm {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    Vec a = get_xmm(m, d.rm), r{};
    unsigned c = unsigned(d.imm & 0xff);
    for (unsigned i = 0; i < 16; ++i) {
      if (Left) r.b[i] = i >= c ? a.b[i - c] : 0;
      else r.b[i] = i + c < 16 ? a.b[i + c] : 0;
    }
    set_xmm(m, d.rm, r);
    return Status::kNext;
  }
};

// PSHUFD / PSHUFHW / PSHUFLW xmm, xmm/m128, imm8 and PSHUFW mm, mm/m64, imm8.
enum class ShufKind : uint8_t { kD, kHW, kLW, kW };
template <ShufKind K, bool Mem> struct PShufImm {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    constexpr bool kXmm = K != ShufKind::kW;
    RWD_TRY(vec_available<kXmm>(m));
    VecRm<kXmm, Mem> src(m, d);
    Vec s;
    RWD_TRY(src.read(m, d, s, true));
    Vec r = s;
    unsigned imm = unsigned(d.imm & 0xff);
    for (unsigned i = 0; i < 4; ++i) {
      unsigned sel = (imm >> (2 * i)) & 3;
      if (K == ShufKind::kD) set_lane<4>(r, i, lane<4>(s, sel));
      else if (K == ShufKind::kLW || K == ShufKind::kW) set_lane<2>(r, i, lane<2>(s, sel));
      else set_lane<2>(r, 4 + i, lane<2>(s, 4 + sel));
    }
    set_vreg<kXmm>(m, d.reg, r);
    return Status::kNext;
  }
};

// PBLENDVB/BLENDVPS/BLENDVPD xmm, xmm/m128: lane i from src where the top
// bit of lane i of XMM0 (the implicit mask) is set.
template <unsigned L, bool Mem> struct BlendV {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    VecRm<true, Mem> src(m, d);
    Vec b;
    RWD_TRY(src.read(m, d, b, true));
    Vec a = get_xmm(m, d.reg), mask = get_xmm(m, 0);
    for (unsigned i = 0; i < 16 / L; ++i)
      if (lane<L>(mask, i) >> (8 * L - 1)) set_lane<L>(a, i, lane<L>(b, i));
    set_xmm(m, d.reg, a);
    return Status::kNext;
  }
};

// PMOVSX*/PMOVZX*: the low From-byte lanes of src (xmm, or 16 / (To / From)
// bytes of memory, unaligned) widened to To bytes.
template <unsigned From, unsigned To, bool Signed, bool Mem> struct PMovX {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    constexpr unsigned kCount = 16 / To, kBytes = kCount * From;
    Vec s{};
    if constexpr (Mem) RWD_TRY(load_vec<kBytes>(m, operand_segment(d), effective_address(m, d), d.addr_size, s));
    else s = get_xmm(m, d.rm);
    Vec r;
    for (unsigned i = 0; i < kCount; ++i) {
      U<From> x = lane<From>(s, i);
      set_lane<To>(r, i, Signed ? U<To>(sext<From>(x)) : U<To>(x));
    }
    set_xmm(m, d.reg, r);
    return Status::kNext;
  }
};

// Vector loads and stores between a register (ModRM.reg) and r/m:
//   MOVDQA/MOVDQU/LDDQU/MOVNTDQ (16 bytes, Aligned as the form requires),
//   MOVQ mm, mm/m64 and back, MOVNTQ.
template <bool Xmm, bool Mem, bool Store, bool Aligned> struct VecMove {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(vec_available<Xmm>(m));
    VecRm<Xmm, Mem> rm(m, d);
    if constexpr (Store) {
      Vec v = get_vreg<Xmm>(m, d.reg);
      RWD_TRY(rm.write(m, d, v, Aligned));
    } else {
      Vec v;
      RWD_TRY(rm.read(m, d, v, Aligned));
      if constexpr (Xmm) set_xmm(m, d.reg, v);
      else set_mm(m, d.reg, v);
    }
    if constexpr (!Xmm) enter_mmx_state(m);
    return Status::kNext;
  }
};

// MOVD/MOVQ between a vector register and r/m32/64 (op_size 4 or 8): loads
// zero the rest of the vector register.
template <bool Xmm, unsigned N, bool Mem, bool ToVec> struct MovdGpr {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(vec_available<Xmm>(m));
    Rm<N, Mem> rm(m, d);
    if constexpr (ToVec) {
      U<N> x;
      RWD_TRY(rm.read(m, d, x));
      Vec v{};
      set_lane<N>(v, 0, x);
      if constexpr (Xmm) set_xmm(m, d.reg, v);
      else set_mm(m, d.reg, v);
    } else {
      Vec v = get_vreg<Xmm>(m, d.reg);
      RWD_TRY(rm.write(m, d, lane<N>(v, 0)));
    }
    if constexpr (!Xmm) enter_mmx_state(m);
    return Status::kNext;
  }
};

// MOVQ xmm, xmm/m64 (F3 0F 7E): low quadword, upper zeroed. MOVQ xmm/m64,
// xmm (66 0F D6): a register destination gets its upper quadword zeroed.
template <bool Mem, bool Store> struct MovqXmm {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    if constexpr (Store) {
      Vec v = get_xmm(m, d.reg), r{};
      if constexpr (Mem) {
        RWD_TRY(store_vec<8>(m, operand_segment(d), effective_address(m, d), d.addr_size, v));
      } else {
        __builtin_memcpy(r.b, v.b, 8);
        set_xmm(m, d.rm, r);
      }
    } else {
      Vec v{};
      if constexpr (Mem) {
        RWD_TRY(load_vec<8>(m, operand_segment(d), effective_address(m, d), d.addr_size, v));
      } else {
        Vec s = get_xmm(m, d.rm);
        __builtin_memcpy(v.b, s.b, 8);
      }
      set_xmm(m, d.reg, v);
    }
    return Status::kNext;
  }
};

// MOVQ2DQ xmm, mm / MOVDQ2Q mm, xmm.
template <bool ToXmm> struct MovqBetween {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    RWD_TRY(mmx_available(m));
    Vec v{};
    if constexpr (ToXmm) {
      Vec s = get_mm(m, d.rm);
      __builtin_memcpy(v.b, s.b, 8);
      set_xmm(m, d.reg, v);
    } else {
      Vec s = get_xmm(m, d.rm);
      __builtin_memcpy(v.b, s.b, 8);
      set_mm(m, d.reg, v);
    }
    enter_mmx_state(m);
    return Status::kNext;
  }
};

// PMOVMSKB r32, mm/xmm: the top bit of every byte.
template <bool Xmm> struct PMovMskB {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(vec_available<Xmm>(m));
    Vec v = get_vreg<Xmm>(m, d.rm);
    uint32_t mask = 0;
    for (unsigned i = 0; i < (Xmm ? 16u : 8u); ++i) mask |= uint32_t(v.b[i] >> 7) << i;
    set_reg_n(m, d.reg, d.op_size == 8 ? 8 : 4, mask);
    if constexpr (!Xmm) enter_mmx_state(m);
    return Status::kNext;
  }
};

// EMMS: every x87 register empty again, and TOP = 0 (the SDM names only
// the tags; the host, tests/difftest, also resets TOP).
struct Emms {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    RWD_TRY((mmx_available<M, false>(m)));
    m.s.x87.ftw = 0xffff;
    m.s.x87.fsw = uint16_t(m.s.x87.fsw & ~0x3800);
    return Status::kNext;
  }
};

}  // namespace rwd::tcg
