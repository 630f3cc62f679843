// SSE/SSE2/SSE3/SSE4.1 floating point on the softfloat core: arithmetic,
// minimum/maximum, square root, compares (CMPccPS and COMISS/UCOMISS), the
// horizontal and alternating forms, conversions between the formats and to
// and from integers, ROUNDxx and DPPS/DPPD. Every lane runs under MXCSR
// (rounding, masks, DAZ, FTZ); the flags of every lane are ORed into MXCSR,
// and an unmasked exception leaves the destination unchanged and raises #XM
// (#UD when CR4.OSXMMEXCPT is clear).
#pragma once

#include "tcg-llvm/semantics/flags.h"
#include "tcg-llvm/semantics/simd.h"
#include "tcg-llvm/semantics/softfloat.h"

namespace rwd::tcg {

inline constexpr uint8_t kVecXm = 19;  // SIMD floating-point exception

template <unsigned L> inline const fp::Format& sse_format() { return L == 4 ? fp::kSingle : fp::kDouble; }

template <class M> inline fp::Env sse_env(M& m) {
  const uint32_t x = m.s.mxcsr;
  fp::Env e;
  e.masks = uint8_t((x >> 7) & 0x3f);
  e.rounding = fp::Rounding((x >> 13) & 3);
  e.ftz = x & 0x8000;
  e.prec = 64;
  return e;
}
template <class M> inline bool sse_daz(M& m) { return m.s.mxcsr & 0x40; }

// A lane as an operand: denormals read as zero under DAZ.
template <unsigned L> inline fp::Value sse_unpack(U<L> bits, bool daz) {
  fp::Value v = fp::unpack(bits, sse_format<L>());
  if (daz && v.denormal) v = fp::zero(v.sign);
  return v;
}
template <unsigned L> inline U<L> sse_pack(const fp::Value& v) { return U<L>(fp::pack(v, sse_format<L>())); }

// The flags one step of an instruction reports: an unmasked invalid,
// denormal or zero-divide exception in any lane reports those alone, as no
// lane's result was delivered (host).
inline uint8_t sse_reported(uint8_t flags, uint8_t masks) {
  const uint8_t pre = flags & (fp::exc::kInvalid | fp::exc::kDenormal | fp::exc::kDivZero);
  return (pre & ~masks) ? pre : flags;
}
// Reported flags into MXCSR; an unmasked one raises #XM (#UD without
// CR4.OSXMMEXCPT) and the caller writes nothing.
template <class M> inline bool sse_raise(M& m, uint8_t reported) {
  m.s.mxcsr |= reported & 0x3f;
  if (!(reported & ~(m.s.mxcsr >> 7) & 0x3f)) return true;
  return fail_noerr(m, (m.s.cr4 & core::cr4::kOsxmmexcpt) ? kVecXm : vec::kUd);
}
// The exceptions of a one-step instruction.
template <class M> inline bool sse_commit(M& m, uint8_t flags) {
  return sse_raise(m, sse_reported(flags, uint8_t((m.s.mxcsr >> 7) & 0x3f)));
}

// NaN operands: a signalling NaN raises invalid; the result is the first
// source quietened when it is a NaN, else the second.
inline fp::Value sse_nan_result(fp::Env& e, const fp::Value& a, const fp::Value& b) {
  if (a.cls == fp::Class::kSnan || b.cls == fp::Class::kSnan) e.flags |= fp::exc::kInvalid;
  return fp::quieted(a.is_nan() ? a : b);
}

enum class SseOp : uint8_t { kAdd, kSub, kMul, kDiv, kMin, kMax, kSqrt };

// a op b for the arithmetic operations (SQRT: sqrt b), NaNs included.
inline fp::Value sse_value_op(fp::Env& e, const fp::Format& f, SseOp op, const fp::Value& a, const fp::Value& b) {
  if (op == SseOp::kSqrt) return b.is_nan() ? sse_nan_result(e, b, b) : fp::sqrt(e, f, b);
  if (a.is_nan() || b.is_nan()) return sse_nan_result(e, a, b);
  switch (op) {
    case SseOp::kAdd: return fp::add(e, f, a, b, false);
    case SseOp::kSub: return fp::add(e, f, a, b, true);
    case SseOp::kMul: return fp::mul(e, f, a, b);
    default: return fp::div(e, f, a, b);
  }
}

// One lane of a two-operand operation: x op y (SQRT: sqrt y).
template <unsigned L> inline U<L> sse_lane(fp::Env& e, SseOp op, U<L> x, U<L> y, bool daz) {
  const fp::Format& f = sse_format<L>();
  const fp::Value a = sse_unpack<L>(x, daz), b = sse_unpack<L>(y, daz);
  if (op == SseOp::kMin || op == SseOp::kMax) {
    // Any NaN, or two zeros: the second operand (a NaN as it is, a
    // denormal as DAZ leaves it).
    if (a.is_nan() || b.is_nan()) {
      e.flags |= fp::exc::kInvalid;
      return b.is_nan() ? y : sse_pack<L>(b);
    }
    if (a.denormal || b.denormal) e.flags |= fp::exc::kDenormal;
    if (a.cls == fp::Class::kZero && b.cls == fp::Class::kZero) return sse_pack<L>(b);
    const fp::Order o = fp::compare_values(a, b);
    const bool first = op == SseOp::kMin ? o == fp::Order::kLess : o == fp::Order::kGreater;
    return sse_pack<L>(first ? a : b);
  }
  return sse_pack<L>(sse_value_op(e, f, op, a, b));
}

// The source operand of an SSE floating-point form: a register, or memory
// (16 aligned bytes for packed forms, the lane alone for scalar ones).
template <unsigned L, bool Packed, bool Mem, class M> inline bool sse_source(M& m, const DecodedInsn& d, Vec& v) {
  if constexpr (Packed) {
    VecRm<true, Mem> src(m, d);
    return src.read(m, d, v, true);
  } else {
    VecRm<true, Mem, L> src(m, d);
    return src.read(m, d, v, false);
  }
}

// ADD/SUB/MUL/DIV/MIN/MAX/SQRT PS/PD/SS/SD.
template <SseOp Op, unsigned L, bool Packed, bool Mem> struct SseArith {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    Vec b;
    RWD_TRY((sse_source<L, Packed, Mem>(m, d, b)));
    Vec a = get_xmm(m, d.reg);
    const bool daz = sse_daz(m);
    uint8_t flags = 0;
    for (unsigned i = 0; i < (Packed ? 16 / L : 1); ++i) {
      fp::Env e = sse_env(m);
      set_lane<L>(a, i, sse_lane<L>(e, Op, lane<L>(a, i), lane<L>(b, i), daz));
      flags |= e.flags;
    }
    RWD_TRY(sse_commit(m, flags));
    set_xmm(m, d.reg, a);
    return Status::kNext;
  }
};

// HADD/HSUB PS/PD (pairs within each operand) and ADDSUB PS/PD (subtract in
// even lanes, add in odd ones).
enum class SsePairKind : uint8_t { kHadd, kHsub, kAddSub };
template <SsePairKind K, unsigned L, bool Mem> struct SsePairs {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    Vec b;
    RWD_TRY((sse_source<L, true, Mem>(m, d, b)));
    const Vec a = get_xmm(m, d.reg);
    Vec r;
    constexpr unsigned n = 16 / L;
    const bool daz = sse_daz(m);
    uint8_t flags = 0;
    for (unsigned i = 0; i < n; ++i) {
      fp::Env e = sse_env(m);
      U<L> res;
      if constexpr (K == SsePairKind::kAddSub) {
        res = sse_lane<L>(e, i & 1 ? SseOp::kAdd : SseOp::kSub, lane<L>(a, i), lane<L>(b, i), daz);
      } else {
        const Vec& src = i < n / 2 ? a : b;
        const unsigned j = 2 * (i % (n / 2));
        res = sse_lane<L>(e, K == SsePairKind::kHadd ? SseOp::kAdd : SseOp::kSub, lane<L>(src, j), lane<L>(src, j + 1),
                          daz);
      }
      set_lane<L>(r, i, res);
      flags |= e.flags;
    }
    RWD_TRY(sse_commit(m, flags));
    set_xmm(m, d.reg, r);
    return Status::kNext;
  }
};

// The eight SSE compare predicates (imm8 bits 2:0): EQ LT LE UNORD NEQ NLT
// NLE ORD. LT, LE, NLT and NLE signal on any NaN, the others on a
// signalling one only.
template <unsigned L> inline bool sse_compare(fp::Env& e, unsigned pred, U<L> x, U<L> y, bool daz) {
  const fp::Value a = sse_unpack<L>(x, daz), b = sse_unpack<L>(y, daz);
  const bool signalling = pred == 1 || pred == 2 || pred == 5 || pred == 6;
  fp::Order o;
  if (a.is_nan() || b.is_nan()) {
    if (signalling || a.cls == fp::Class::kSnan || b.cls == fp::Class::kSnan) e.flags |= fp::exc::kInvalid;
    o = fp::Order::kUnordered;
  } else {
    if (a.denormal || b.denormal) e.flags |= fp::exc::kDenormal;
    o = fp::compare_values(a, b);
  }
  const bool unord = o == fp::Order::kUnordered, eq = o == fp::Order::kEqual, lt = o == fp::Order::kLess;
  switch (pred & 7) {
    case 0: return eq;
    case 1: return lt;
    case 2: return lt || eq;
    case 3: return unord;
    case 4: return !eq;
    case 5: return !lt;
    case 6: return !(lt || eq);
    default: return !unord;
  }
}

template <unsigned L, bool Packed, bool Mem> struct SseCmp {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    Vec b;
    RWD_TRY((sse_source<L, Packed, Mem>(m, d, b)));
    Vec a = get_xmm(m, d.reg);
    const bool daz = sse_daz(m);
    fp::Env e = sse_env(m);
    for (unsigned i = 0; i < (Packed ? 16 / L : 1); ++i) {
      const bool t = sse_compare<L>(e, unsigned(d.imm & 7), lane<L>(a, i), lane<L>(b, i), daz);
      set_lane<L>(a, i, t ? U<L>(~U<L>(0)) : U<L>(0));
    }
    RWD_TRY(sse_commit(m, e.flags));
    set_xmm(m, d.reg, a);
    return Status::kNext;
  }
};

// COMISS/COMISD (signal on any NaN) and UCOMISS/UCOMISD (on a signalling
// one) into ZF, PF, CF; OF, SF and AF cleared.
template <unsigned L, bool Quiet, bool Mem> struct SseComi {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    Vec b;
    RWD_TRY((sse_source<L, false, Mem>(m, d, b)));
    const Vec a = get_xmm(m, d.reg);
    const bool daz = sse_daz(m);
    fp::Env e = sse_env(m);
    const fp::Value x = sse_unpack<L>(lane<L>(a, 0), daz), y = sse_unpack<L>(lane<L>(b, 0), daz);
    fp::Order o;
    if (x.is_nan() || y.is_nan()) {
      if (!Quiet || x.cls == fp::Class::kSnan || y.cls == fp::Class::kSnan) e.flags |= fp::exc::kInvalid;
      o = fp::Order::kUnordered;
    } else {
      if (x.denormal || y.denormal) e.flags |= fp::exc::kDenormal;
      o = fp::compare_values(x, y);
    }
    RWD_TRY(sse_commit(m, e.flags));
    const bool unord = o == fp::Order::kUnordered;
    m.s.rflags = (m.s.rflags & ~(fl::kCf | fl::kPf | fl::kAf | fl::kZf | fl::kSf | fl::kOf)) |
                 (unord || o == fp::Order::kLess ? fl::kCf : 0) | (unord ? fl::kPf : 0) |
                 (unord || o == fp::Order::kEqual ? fl::kZf : 0);
    return Status::kNext;
  }
};

// ---- conversions -----------------------------------------------------------------

// A float lane to a signed integer of Bits bits (CVT* in MXCSR's mode,
// CVTT* truncating): invalid for NaN or out of range, giving the integer
// indefinite; inexact otherwise when not exact.
template <unsigned L> inline int64_t sse_to_int(fp::Env& e, U<L> x, int bits, bool truncate, bool daz) {
  const fp::Value v = sse_unpack<L>(x, daz);
  return fp::to_int(e, v, bits, truncate ? fp::Rounding::kZero : e.rounding);
}
// An integer to a float lane, rounded in MXCSR's mode.
template <unsigned L> inline U<L> sse_from_int(fp::Env& e, int64_t x) {
  const fp::Value v = fp::from_int(x);
  return sse_pack<L>(fp::round_value(e, sse_format<L>(), v));
}
// A float lane of one format to another (CVTSS2SD, CVTPD2PS, ...).
template <unsigned To, unsigned From> inline U<To> sse_convert(fp::Env& e, U<From> x, bool daz) {
  const fp::Value v = sse_unpack<From>(x, daz);
  fp::Value r;
  if (v.is_nan()) {
    r = sse_nan_result(e, v, v);
  } else {
    if (v.denormal && e.stop_on(fp::exc::kDenormal)) return 0;
    r = v.cls == fp::Class::kFinite ? fp::round_value(e, sse_format<To>(), v) : v;
  }
  return sse_pack<To>(r);
}

// `count` int32 lanes of s to float lanes of L bytes in dst, and back
// (CVT*DQ2*, CVT*2DQ, CVTPI2*, CVT*2PI).
template <unsigned L> inline void sse_lanes_from_int32(fp::Env& e, Vec& dst, const Vec& s, unsigned count) {
  for (unsigned i = 0; i < count; ++i) set_lane<L>(dst, i, sse_from_int<L>(e, int64_t(int32_t(lane<4>(s, i)))));
}
template <unsigned L>
inline void sse_lanes_to_int32(fp::Env& e, Vec& dst, const Vec& s, unsigned count, bool truncate, bool daz) {
  for (unsigned i = 0; i < count; ++i) set_lane<4>(dst, i, uint32_t(sse_to_int<L>(e, lane<L>(s, i), 32, truncate, daz)));
}

// CVTSI2SS/SD xmm, r/m32 or r/m64 (by REX.W): the low lane, the rest kept.
template <unsigned L, unsigned N, bool Mem> struct CvtIntToScalar {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    Rm<N, Mem> src(m, d);
    U<N> x;
    RWD_TRY(src.read(m, d, x));
    fp::Env e = sse_env(m);
    const U<L> r = sse_from_int<L>(e, int64_t(S<N>(x)));
    RWD_TRY(sse_commit(m, e.flags));
    Vec a = get_xmm(m, d.reg);
    set_lane<L>(a, 0, r);
    set_xmm(m, d.reg, a);
    return Status::kNext;
  }
};

// CVTSS2SI/CVTSD2SI/CVTTSS2SI/CVTTSD2SI r32/r64, xmm/m32/m64.
template <unsigned L, unsigned N, bool Truncate, bool Mem> struct CvtScalarToInt {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    Vec b;
    RWD_TRY((sse_source<L, false, Mem>(m, d, b)));
    fp::Env e = sse_env(m);
    const int64_t r = sse_to_int<L>(e, lane<L>(b, 0), 8 * N, Truncate, sse_daz(m));
    RWD_TRY(sse_commit(m, e.flags));
    set_reg_n(m, d.reg, N, uint64_t(r) & (N == 8 ? ~0ull : 0xffffffffull));
    return Status::kNext;
  }
};

// The packed conversions: each names its source and destination lane kinds.
enum class CvtKind : uint8_t {
  kPs2Pd,   // CVTPS2PD: 2 singles (low 8 bytes of the source) to 2 doubles
  kPd2Ps,   // CVTPD2PS: 2 doubles to 2 singles, upper half zeroed
  kSs2Sd,   // CVTSS2SD (scalar)
  kSd2Ss,   // CVTSD2SS (scalar)
  kDq2Ps,   // CVTDQ2PS
  kPs2Dq,   // CVTPS2DQ
  kTPs2Dq,  // CVTTPS2DQ
  kDq2Pd,   // CVTDQ2PD: 2 int32 (low 8 bytes) to 2 doubles
  kPd2Dq,   // CVTPD2DQ: upper half zeroed
  kTPd2Dq,  // CVTTPD2DQ
};
template <CvtKind K> inline constexpr unsigned kCvtSourceBytes =
    K == CvtKind::kPs2Pd || K == CvtKind::kDq2Pd ? 8 : K == CvtKind::kSs2Sd ? 4 : K == CvtKind::kSd2Ss ? 8 : 16;

template <CvtKind K> inline void sse_convert_lanes(fp::Env& e, Vec& dst, const Vec& s, bool daz) {
  switch (K) {
    case CvtKind::kPs2Pd:
      for (unsigned i = 0; i < 2; ++i) set_lane<8>(dst, i, sse_convert<8, 4>(e, lane<4>(s, i), daz));
      break;
    case CvtKind::kPd2Ps:
      for (unsigned i = 0; i < 2; ++i) set_lane<4>(dst, i, sse_convert<4, 8>(e, lane<8>(s, i), daz));
      set_lane<8>(dst, 1, 0);
      break;
    case CvtKind::kSs2Sd: set_lane<8>(dst, 0, sse_convert<8, 4>(e, lane<4>(s, 0), daz)); break;
    case CvtKind::kSd2Ss: set_lane<4>(dst, 0, sse_convert<4, 8>(e, lane<8>(s, 0), daz)); break;
    case CvtKind::kDq2Ps: sse_lanes_from_int32<4>(e, dst, s, 4); break;
    case CvtKind::kPs2Dq:
    case CvtKind::kTPs2Dq: sse_lanes_to_int32<4>(e, dst, s, 4, K == CvtKind::kTPs2Dq, daz); break;
    case CvtKind::kDq2Pd: sse_lanes_from_int32<8>(e, dst, s, 2); break;
    case CvtKind::kPd2Dq:
    case CvtKind::kTPd2Dq:
      sse_lanes_to_int32<8>(e, dst, s, 2, K == CvtKind::kTPd2Dq, daz);
      set_lane<8>(dst, 1, 0);
      break;
  }
}

template <CvtKind K, bool Mem> struct SseConvert {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    constexpr unsigned n = kCvtSourceBytes<K>;
    Vec s;
    if constexpr (n == 16) {
      VecRm<true, Mem> src(m, d);
      RWD_TRY(src.read(m, d, s, true));
    } else {
      VecRm<true, Mem, n> src(m, d);
      RWD_TRY(src.read(m, d, s, false));
    }
    constexpr bool scalar = K == CvtKind::kSs2Sd || K == CvtKind::kSd2Ss;
    Vec r = scalar ? get_xmm(m, d.reg) : Vec{};
    fp::Env e = sse_env(m);
    sse_convert_lanes<K>(e, r, s, sse_daz(m));
    RWD_TRY(sse_commit(m, e.flags));
    set_xmm(m, d.reg, r);
    return Status::kNext;
  }
};

// The MMX conversions: CVTPI2PS/CVTPI2PD (mm/m64 source) and
// CVT(T)PS2PI/CVT(T)PD2PI (mm destination). An MMX register operand puts
// the x87 unit in MMX state; a memory source does not.
enum class CvtMmxKind : uint8_t { kPi2Ps, kPi2Pd, kPs2Pi, kTPs2Pi, kPd2Pi, kTPd2Pi };
template <CvtMmxKind K, bool Mem> struct SseConvertMmx {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    constexpr bool to_mmx = K != CvtMmxKind::kPi2Ps && K != CvtMmxKind::kPi2Pd;
    constexpr bool mmx_operand = to_mmx || !Mem;
    RWD_TRY(sse_available(m));
    if constexpr (mmx_operand) {
      RWD_TRY(x87_error_check(m));
    }
    Vec s;
    if constexpr (K == CvtMmxKind::kPi2Ps || K == CvtMmxKind::kPi2Pd) {
      VecRm<false, Mem> src(m, d);
      RWD_TRY(src.read(m, d, s, false));
    } else if constexpr (K == CvtMmxKind::kPd2Pi || K == CvtMmxKind::kTPd2Pi) {
      VecRm<true, Mem> src(m, d);
      RWD_TRY(src.read(m, d, s, true));
    } else {
      VecRm<true, Mem, 8> src(m, d);
      RWD_TRY(src.read(m, d, s, false));
    }
    if constexpr (mmx_operand) enter_mmx_state(m);
    fp::Env e = sse_env(m);
    const bool daz = sse_daz(m);
    Vec r = K == CvtMmxKind::kPi2Ps ? get_xmm(m, d.reg) : Vec{};
    switch (K) {
      case CvtMmxKind::kPi2Ps: sse_lanes_from_int32<4>(e, r, s, 2); break;
      case CvtMmxKind::kPi2Pd: sse_lanes_from_int32<8>(e, r, s, 2); break;
      case CvtMmxKind::kPs2Pi:
      case CvtMmxKind::kTPs2Pi: sse_lanes_to_int32<4>(e, r, s, 2, K == CvtMmxKind::kTPs2Pi, daz); break;
      case CvtMmxKind::kPd2Pi:
      case CvtMmxKind::kTPd2Pi: sse_lanes_to_int32<8>(e, r, s, 2, K == CvtMmxKind::kTPd2Pi, daz); break;
    }
    RWD_TRY(sse_commit(m, e.flags));
    if constexpr (to_mmx) set_mm(m, d.reg, r);
    else set_xmm(m, d.reg, r);
    return Status::kNext;
  }
};

}  // namespace rwd::tcg

namespace rwd::tcg {

// ROUNDPS/PD/SS/SD xmm, xmm/m, imm8: imm8[1:0] the rounding mode, or
// MXCSR's when imm8[2] is set; imm8[3] suppresses the precision exception.
template <unsigned L, bool Packed, bool Mem> struct SseRound {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    Vec b;
    RWD_TRY((sse_source<L, Packed, Mem>(m, d, b)));
    Vec a = Packed ? Vec{} : get_xmm(m, d.reg);
    const unsigned imm = unsigned(d.imm & 0xff);
    const bool daz = sse_daz(m);
    uint8_t flags = 0;
    for (unsigned i = 0; i < (Packed ? 16 / L : 1); ++i) {
      fp::Env e = sse_env(m);
      const fp::Rounding rm = imm & 4 ? e.rounding : fp::Rounding(imm & 3);
      const fp::Value v = sse_unpack<L>(lane<L>(b, i), daz);
      const fp::Value r = v.is_nan() ? sse_nan_result(e, v, v) : fp::round_to_integral(e, v, rm);
      if (imm & 8) e.flags &= uint8_t(~fp::exc::kInexact);
      set_lane<L>(a, i, sse_pack<L>(r));
      flags |= e.flags;
    }
    RWD_TRY(sse_commit(m, flags));
    set_xmm(m, d.reg, a);
    return Status::kNext;
  }
};

// DPPS/DPPD xmm, xmm/m128, imm8: the products selected by imm8's high
// nibble, summed pairwise as the SDM orders it ((p0 + p1) + (p2 + p3)), into
// the lanes selected by its low nibble (others +0.0).
template <unsigned L, bool Mem> struct SseDot {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    Vec b;
    RWD_TRY((sse_source<L, true, Mem>(m, d, b)));
    const Vec a = get_xmm(m, d.reg);
    const unsigned imm = unsigned(d.imm & 0xff);
    const bool daz = sse_daz(m);
    constexpr unsigned n = 16 / L;
    const fp::Format& f = sse_format<L>();
    const uint8_t masks = sse_env(m).masks;
    // Intermediates stay unpacked: one delivered as a denormal is a
    // denormal operand of the next step (under DAZ, zero).
    auto intermediate = [&](fp::Value v) {
      if (v.cls == fp::Class::kFinite && v.exp < f.emin()) {
        v.denormal = true;
        if (daz) v = fp::zero(v.sign);
      }
      return v;
    };
    // The steps (products, pair sums, final sum) one after the other: an
    // unmasked exception in a step ends the instruction there, reporting the
    // flags of the steps before and of that step (its invalid, denormal or
    // zero-divide alone when one of those is unmasked), as the host does.
    uint8_t done = 0;
    auto step_ends = [&](uint8_t step) {
      done |= sse_reported(step, masks);
      return (done & ~masks) != 0;
    };
    fp::Env e = sse_env(m);
    fp::Value prod[n];
    for (unsigned i = 0; i < n; ++i)
      prod[i] = (imm >> (4 + i)) & 1 ? intermediate(sse_value_op(e, f, SseOp::kMul, sse_unpack<L>(lane<L>(a, i), daz),
                                                                  sse_unpack<L>(lane<L>(b, i), daz)))
                                     : fp::zero(false);
    fp::Value total;
    if (!step_ends(e.flags)) {
      if constexpr (n == 4) {
        fp::Env e2 = sse_env(m);
        const fp::Value lo = intermediate(sse_value_op(e2, f, SseOp::kAdd, prod[0], prod[1]));
        const fp::Value hi = intermediate(sse_value_op(e2, f, SseOp::kAdd, prod[2], prod[3]));
        if (!step_ends(e2.flags)) {
          fp::Env e3 = sse_env(m);
          total = sse_value_op(e3, f, SseOp::kAdd, lo, hi);
          step_ends(e3.flags);
        }
      } else {
        fp::Env e2 = sse_env(m);
        total = sse_value_op(e2, f, SseOp::kAdd, prod[0], prod[1]);
        step_ends(e2.flags);
      }
    }
    RWD_TRY(sse_raise(m, done));
    const U<L> sum = sse_pack<L>(total);
    Vec r;
    for (unsigned i = 0; i < n; ++i) set_lane<L>(r, i, (imm >> i) & 1 ? sum : U<L>(0));
    set_xmm(m, d.reg, r);
    return Status::kNext;
  }
};

}  // namespace rwd::tcg

namespace rwd::tcg {

// RCPPS/RCPSS and RSQRTPS/RSQRTSS: approximations the SDM bounds (relative
// error at most 1.5 * 2^-12) without fixing their bits; silicon uses tables
// that differ between vendors. rewind returns the exact value rounded to
// nearest at 12 significant bits (error at most 2^-13), raises no exception
// (as the SDM says), reads denormals as zero and returns zero for results
// below the normal range, as the host does.
template <bool Sqrt> inline uint32_t sse_approx_lane(uint32_t x) {
  const fp::Value v = fp::unpack(x, fp::kSingle);
  const bool zero_like = v.cls == fp::Class::kZero || v.denormal;
  if (v.is_nan()) return uint32_t(fp::pack(fp::quieted(v), fp::kSingle));
  if (Sqrt && v.sign && !zero_like) return uint32_t(fp::pack(fp::default_nan(), fp::kSingle));
  if (zero_like) return uint32_t(fp::pack(fp::infinity(v.sign), fp::kSingle));
  if (v.cls == fp::Class::kInf) return uint32_t(fp::pack(fp::zero(v.sign), fp::kSingle));
  fp::Env e;  // all masked, round to nearest
  const fp::Value one = fp::from_int(1);
  fp::Value d = v;
  if (Sqrt) d = fp::sqrt(e, fp::kExtended, v);
  fp::Value r = fp::div(e, fp::kExtended, one, d);
  e.prec = 12;
  r = fp::round_value(e, fp::kExtended, r);
  if (r.exp < fp::kSingle.emin()) return uint32_t(fp::pack(fp::zero(v.sign), fp::kSingle));
  return uint32_t(fp::pack(r, fp::kSingle));
}

template <bool Sqrt, bool Packed, bool Mem> struct SseApprox {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    Vec b;
    RWD_TRY((sse_source<4, Packed, Mem>(m, d, b)));
    Vec a = get_xmm(m, d.reg);
    for (unsigned i = 0; i < (Packed ? 4u : 1u); ++i) set_lane<4>(a, i, sse_approx_lane<Sqrt>(lane<4>(b, i)));
    set_xmm(m, d.reg, a);
    return Status::kNext;
  }
};

}  // namespace rwd::tcg
