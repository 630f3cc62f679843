// x87 transcendental instructions: FSIN, FCOS, FSINCOS, FPTAN, FPATAN,
// FYL2X, FYL2XP1 and F2XM1, in integer arithmetic only (the semantics
// dialect has no host FPU).
//
// Each function is evaluated on a software float with a 128-bit significand
// (Wide, below: truncating operations with a sticky bit, a result within a
// few units of 2^-127 relative of the truth) and rounded once to the
// register format in the current rounding mode. Precision control does not
// apply (SDM vol. 1, 8.1.5.2; the host agrees). So the result is the
// correctly rounded one unless the truth lies within about 2^-120 of a
// rounding boundary. The host (AMD Zen 4) is within 0.6 ulp of the truth:
// the two are never more than 1 ulp apart, and bit-exact in 97-99.7 % of
// the cases depending on the instruction (FPTAN in the directed modes 84 %:
// the host rounds the tangent of a tiny argument either way); C1 follows
// the result. The figures and how they were measured are in
// tests/difftest/test_x87_transcendental.cc.
//
// What the host does and the SDM leaves open (probed on the difftest host):
//   - FSIN, FCOS, FSINCOS and FPTAN reduce the argument modulo pi/2 where
//     pi is the 66-bit 0xC90FDAA22168C234C * 2^-66 (SDM vol. 1, 8.3.10);
//     the reduction is exact, so an argument near a multiple of pi/2 gets
//     the sine of its distance to the multiple of *that* pi.
//   - Every result computed from a nonzero finite operand raises the
//     precision exception, even one that is exact (FYL2X of 2, FYL2XP1 of
//     3, F2XM1 of -1); C1 then says whether the result was rounded up.
//     F2XM1(+1) is rounded as if just below 1 (1.0 with C1 in nearest,
//     1 - 2^-64 in the down and zero modes).
//   - F2XM1 outside [-1, 1] returns the operand with the precision
//     exception; of +inf, +inf; of -inf, -1; both without exception.
//   - FYL2XP1 computes ST(1) * log2(1 + ST(0)) for any ST(0) > -1 (the
//     SDM's range |ST(0)| < 1 - sqrt(2)/2 only bounds Intel's accuracy);
//     for ST(0) <= -1 it returns ST(0) with the precision exception, or,
//     when ST(1) is a zero or an infinity, ST(1) with its sign flipped.
//   - FSIN, FCOS, FSINCOS and FPTAN of |ST(0)| >= 2^63 set C2 and clear C1
//     (C0 and C3 kept); otherwise they clear C2. FSINCOS's C1 is the sine's.
//   - An exact result that is tiny raises underflow as well (it is
//     reported inexact).
//   - Special operands (zeros, infinities, denormals) give the results of
//     the SDM's tables; the denormal exception is raised for a denormal
//     operand even when the result is a special value, but not when the
//     operation is invalid or divides by zero.
#pragma once

#include "tcg-llvm/semantics/x87_arith.h"

namespace rwd::tcg {

namespace wide {

using fp::u128;

// value = (-1)^sign * sig * 2^(exp - 127), sig normalised (bit 127 set),
// or zero when sig is 0. The layout round_pack takes. Every operation
// truncates and keeps what it dropped as a sticky bit 0 (as round_pack's
// input may): an inexact result is never mistaken for an exact one, and a
// term far below the last bit (sin x = x - x^3/6 for a tiny x) still
// decides the direction of the final rounding and C1.
struct Wide {
  bool sign = false;
  int32_t exp = 0;
  u128 sig = 0;
};

inline Wide normalise(bool sign, int32_t exp, u128 sig) {
  if (sig == 0) return Wide{sign, 0, 0};
  const int lz = fp::clz128(sig);
  return Wide{sign, exp - lz, sig << lz};
}
inline Wide from_value(const fp::Value& v) { return Wide{v.sign, v.exp, u128(v.sig) << 64}; }
inline Wide from_int(int64_t n) {
  const uint64_t mag = n < 0 ? 0 - uint64_t(n) : uint64_t(n);
  return normalise(n < 0, 127, mag);
}
inline Wide from_constant(X87Const c) {
  const X87Constant k = x87_constant(c);
  return Wide{false, k.exp, u128(k.hi) << 64 | k.lo};
}
inline Wide neg(Wide a) {
  a.sign = !a.sign;
  return a;
}
inline Wide scale(Wide a, int32_t n) {  // a * 2^n
  if (a.sig != 0) a.exp += n;
  return a;
}

inline Wide mul(const Wide& a, const Wide& b) {
  if (a.sig == 0 || b.sig == 0) return Wide{a.sign != b.sign, 0, 0};
  const uint64_t a0 = uint64_t(a.sig), a1 = uint64_t(a.sig >> 64);
  const uint64_t b0 = uint64_t(b.sig), b1 = uint64_t(b.sig >> 64);
  const u128 p00 = u128(a0) * b0, p01 = u128(a0) * b1, p10 = u128(a1) * b0, p11 = u128(a1) * b1;
  const u128 mid = (p00 >> 64) + uint64_t(p01) + uint64_t(p10);
  u128 hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
  uint64_t lo = uint64_t(mid);  // the product's bits 64-127; bits 0-63 are uint64_t(p00)
  int32_t exp = a.exp + b.exp + 1;
  if (!(hi >> 127)) {
    hi = hi << 1 | (lo >> 63);
    lo <<= 1;
    --exp;
  }
  return Wide{a.sign != b.sign, exp, hi | ((lo | uint64_t(p00)) != 0)};
}

inline Wide add(const Wide& a, const Wide& b) {
  if (a.sig == 0) return b;
  if (b.sig == 0) return a;
  const bool a_big = a.exp > b.exp || (a.exp == b.exp && a.sig >= b.sig);
  const Wide& x = a_big ? a : b;
  const Wide& y = a_big ? b : a;
  // One guard bit of headroom for the carry; what is shifted out is kept
  // as a sticky bit, so that a negligible term still moves the value to the
  // right side of the numbers the final rounding chooses from.
  const u128 X = x.sig >> 1 | (x.sig & 1);
  const u128 Y = fp::shift_right_jam(y.sig >> 1 | (y.sig & 1), x.exp - y.exp);
  const u128 S = x.sign == y.sign ? X + Y : X - Y;
  return normalise(x.sign, x.exp + 1, S);
}
inline Wide sub(const Wide& a, const Wide& b) { return add(a, neg(b)); }

// a / b for b != 0: a 128-bit quotient by restoring division, the
// remainder kept as a sticky bit.
inline Wide div(const Wide& a, const Wide& b) {
  if (a.sig == 0) return Wide{a.sign != b.sign, 0, 0};
  u128 rem = a.sig >> 1;
  const u128 den = b.sig >> 1;  // both in [2^126, 2^127): rem << 1 cannot overflow
  u128 q = 0;
  int32_t exp = a.exp - b.exp;
  int bits = 0;
  // q = floor(rem / den * 2^(bits - 1)); stop when it has 128 significant bits.
  while (bits < 129 && !(q >> 127)) {
    q <<= 1;
    if (rem >= den) {
      rem -= den;
      q |= 1;
    }
    rem <<= 1;
    ++bits;
  }
  // The first step yields the units bit (a/b in (1/2, 2)).
  return Wide{a.sign != b.sign, exp + 128 - bits, q | (rem != 0)};
}

// a / n for a small positive integer n, to nearly full precision.
inline Wide div_small(const Wide& a, uint64_t n) {
  if (a.sig == 0) return a;
  const u128 q1 = a.sig / n, r = a.sig % n;
  const u128 q2 = (r << 64) / n, r2 = (r << 64) % n;  // r < n < 2^64
  // a.sig / n = q1 + q2 * 2^-64 (truncated): 192 bits, normalise the top 128.
  const int lz = fp::clz128(q1);  // q1 > 0 since a.sig >= 2^127 > n
  const u128 sig = lz == 0 ? q1 : (q1 << lz) | (q2 >> (64 - lz));
  const bool sticky = r2 != 0 || (lz == 0 ? q2 != 0 : (q2 << lz) & ~(~u128(0) << 64));
  return Wide{a.sign, a.exp - lz, sig | sticky};
}

inline Wide one() { return Wide{false, 0, u128(1) << 127}; }

// Rounds to the register format in the environment's rounding mode at full
// precision. `exact`: the value is the result itself; otherwise it is an
// approximation of an irrational result and a sticky bit keeps it inexact.
// The precision exception is raised either way (see the file comment).
inline fp::Value round(fp::Env& e, const Wide& w, bool exact) {
  e.prec = 64;
  if (w.sig == 0) return fp::zero(w.sign);
  const fp::Value r = fp::round_pack(e, fp::kExtended, w.sign, w.exp, w.sig | (exact ? 0 : 1));
  // An exact tiny result is still inexact, so a masked underflow is raised
  // too (an unmasked one round_pack raised already).
  if (exact && r.cls == fp::Class::kFinite && r.exp < fp::kExtended.emin()) e.flags |= fp::exc::kUnderflow;
  e.flags |= fp::exc::kInexact;
  return r;
}

}  // namespace wide

// ---- the functions -------------------------------------------------------------

namespace x87fn {

using wide::Wide;
using fp::u128;

// For |r| <= pi/4 (z = r^2 <= 0.62): 1 - sin(r)/r = z/3! - z^2/5! + ...
// and 1 - cos(r) = z/2! - z^2/4! + ..., by Horner's rule on the Taylor
// series (17 terms leave less than 2^-130). Kept as these small differences
// so that tan = r (1 + (B - A) / (1 - B)) does not lose the sign of its
// deviation from r when r is tiny.
inline Wide one_minus_sin_over_x(const Wide& z) {
  Wide t = wide::one();
  for (uint64_t k = 17; k >= 2; --k)
    t = wide::sub(wide::one(), wide::div_small(wide::mul(z, t), (2 * k) * (2 * k + 1)));
  return wide::div_small(wide::mul(z, t), 6);
}
inline Wide one_minus_cos(const Wide& z) {
  Wide t = wide::one();
  for (uint64_t k = 17; k >= 2; --k)
    t = wide::sub(wide::one(), wide::div_small(wide::mul(z, t), (2 * k - 1) * (2 * k)));
  return wide::div_small(wide::mul(z, t), 2);
}

// The 66-bit pi of the x87's argument reduction, halved: kHalfPi66 * 2^-65.
inline constexpr u128 kHalfPi66 = u128(0x3) << 64 | 0x243f6a8885a308d3ull;

// An argument |x| < 2^63 reduced: x = k * pi66/2 + r exactly, |r| <= pi66/4.
struct Reduced {
  Wide r;
  unsigned quadrant;  // k mod 4
};
inline Reduced reduce(const fp::Value& x) {
  if (x.exp <= -2) return Reduced{wide::from_value(x), 0};  // |x| < 1/2 < pi/4
  // x = X * 2^-65 with X < 2^128 (x.exp <= 62).
  const u128 X = fp::u128(x.sig) << (x.exp + 2);
  u128 k = X / kHalfPi66, rem = X % kHalfPi66;
  bool neg = x.sign;
  if (rem > kHalfPi66 / 2) {  // the nearer multiple is above: r = rem - pi66/2 < 0
    rem = kHalfPi66 - rem;
    ++k;
    neg = !neg;
  }
  return Reduced{wide::normalise(neg, 127 - 65, rem), unsigned(k & 3)};
}

struct SinCos {
  Wide sin, cos;
};
// sin(x) and cos(x), or tan(x) (in `sin`), for finite x, |x| < 2^63.
inline SinCos sin_cos(const fp::Value& x, bool tan = false) {
  const Reduced red = reduce(x);
  const Wide z = wide::mul(red.r, red.r);
  const Wide A = one_minus_sin_over_x(z), B = one_minus_cos(z);
  const Wide S = wide::sub(wide::one(), A), C = wide::sub(wide::one(), B);
  // The quadrant of |x|; sin is odd (x's sign is in r's), cos even.
  const unsigned q = x.sign ? (4 - red.quadrant) & 3 : red.quadrant;
  if (tan) {
    // tan r = r (1 + (B - A) / C); -cot r = -(1 - (B - A) / S) / r.
    const Wide d = wide::sub(B, A);
    if (q % 2 == 0) return SinCos{wide::mul(red.r, wide::add(wide::one(), wide::div(d, C))), Wide{}};
    return SinCos{wide::neg(wide::div(wide::sub(wide::one(), wide::div(d, S)), red.r)), Wide{}};
  }
  const Wide s = wide::mul(red.r, S);
  switch (q) {
    case 0: return SinCos{s, C};
    case 1: return SinCos{C, wide::neg(s)};
    case 2: return SinCos{wide::neg(s), wide::neg(C)};
    default: return SinCos{wide::neg(C), s};
  }
}

// atan(t) for |t| <= 1/64 (z = t^2 <= 2^-12): 11 terms leave less than 2^-132.
inline Wide atan_small(const Wide& t) {
  const Wide z = wide::mul(t, t);
  Wide s = wide::div_small(wide::one(), 23);
  for (int k = 10; k >= 0; --k) s = wide::sub(wide::div_small(wide::one(), uint64_t(2 * k + 1)), wide::mul(z, s));
  return wide::mul(t, s);
}

// atan(i/32) for i = 1..32.
inline Wide atan_table(unsigned i) {
  static constexpr uint64_t kAtan[32][2] = {
      {0xffeaaddd4bb12542ull, 0x779d776dda8c6214ull}, {0xffaaddb967ef4e36ull, 0xcb2792dc0e2e0d51ull},
      {0xbf70c13017887460ull, 0x93567e784cf83676ull}, {0xfeadd4d5617b6e32ull, 0xc897989f3e888ef8ull},
      {0x9eb77746331362c3ull, 0x47619d250360fe85ull}, {0xbdcbda5e72d81134ull, 0x7b0b4f881c9c7488ull},
      {0xdc86ba9493051022ull, 0xf621a5c1cb552f03ull}, {0xfadbafc96406eb15ull, 0x6dc79ef5f7a217e6ull},
      {0x8c5fad185f8bc130ull, 0xca4748b1bf88298dull}, {0x9b13b9b83f5e5e69ull, 0xc5abb498d27af328ull},
      {0xa9856cca8e6a4edaull, 0x99b7f77bf7d9e8c1ull}, {0xb7b0ca0f26f78473ull, 0x8aa32122dcfe4483ull},
      {0xc59269ca50d92b6dull, 0xa1746e91f50a28deull}, {0xd327761e611fe5b6ull, 0x427c95e9001e7136ull},
      {0xe06da64a764f7c67ull, 0xc631ed96798cb804ull}, {0xed63382b0dda7b45ull, 0x6fe445ecbc3a8d03ull},
      {0xfa06e85aa0a0be5cull, 0x66d23c7d5dc8ecc2ull}, {0x832bf4a6d9867e2aull, 0x4b6a09cb61a515c1ull},
      {0x892aecdfde9547b5ull, 0x094478fc472b4afcull}, {0x8f005d5ef7f59f9bull, 0x5c835e1665c43748ull},
      {0x94ac72c9847186f6ull, 0x18c4f393f78a32f9ull}, {0x9a2f80e671bdda20ull, 0x4226f8e2204ff3bdull},
      {0x9f89fdc4f4b7a1ecull, 0xf8b492644f0701e0ull}, {0xa4bc7d1934f70924ull, 0x19a87f2a457dac9full},
      {0xa9c7abdc4830f5c8ull, 0x916a84b5be7933f6ull}, {0xaeac4c38b4d8c080ull, 0x14725e2f3e52070aull},
      {0xb36b31c91f043691ull, 0x590141744462f93aull}, {0xb8053e2bc2319e73ull, 0xcb2da55210a4443dull},
      {0xbc7b5deae98af280ull, 0xd4113006e80fb290ull}, {0xc0ce85b8ac526640ull, 0x89dd62c46e92fa25ull},
      {0xc4ffaffabf8fbd54ull, 0x8cb43d10bc9e0221ull}, {0xc90fdaa22168c234ull, 0xc4c6628b80dc1cd1ull},
  };
  const int32_t exp = i == 1 ? -6 : i == 2 ? -5 : i <= 4 ? -4 : i <= 8 ? -3 : i <= 17 ? -2 : -1;
  return Wide{false, exp, u128(kAtan[i - 1][0]) << 64 | kAtan[i - 1][1]};
}

// atan(t) for 0 <= t <= 1: atan(c) + atan((t - c) / (1 + t c)), c = i/32
// the nearest table point.
inline Wide atan_unit(const Wide& t) {
  // i = round(32 t); t = sig * 2^(exp - 127).
  unsigned i = 0;
  if (t.sig != 0 && t.exp >= -6) {
    const int shift = 127 - 5 - t.exp;  // 32 t = sig * 2^(exp + 5 - 127)
    i = unsigned(((t.sig >> (shift - 1)) + 1) >> 1);
  }
  if (i == 0) return atan_small(t);
  const Wide c = wide::div_small(wide::from_int(int64_t(i)), 32);
  const Wide u = wide::div(wide::sub(t, c), wide::add(wide::one(), wide::mul(t, c)));
  return wide::add(atan_table(i), atan_small(u));
}

// atan2(y, x) for finite nonzero y and x.
inline Wide atan2(const fp::Value& y, const fp::Value& x) {
  Wide a = wide::from_value(y), b = wide::from_value(x);
  a.sign = b.sign = false;
  const bool steep = y.exp > x.exp || (y.exp == x.exp && y.sig > x.sig);  // |y| > |x|
  Wide th = steep ? atan_unit(wide::div(b, a)) : atan_unit(wide::div(a, b));
  const Wide pi = wide::from_constant(X87Const::kPi);
  if (steep) th = wide::sub(wide::scale(pi, -1), th);
  if (x.sign) th = wide::sub(pi, th);
  th.sign = y.sign;
  return th;
}

// atanh(s) / s for |s| <= 0.172 (z = s^2 <= 0.0295): 27 terms leave less
// than 2^-136.
inline Wide atanh_over_x(const Wide& z) {
  Wide t = wide::div_small(wide::one(), 55);
  for (int k = 26; k >= 0; --k) t = wide::add(wide::div_small(wide::one(), uint64_t(2 * k + 1)), wide::mul(z, t));
  return t;
}

// 2 atanh(s) / ln 2 = log2((1 + s) / (1 - s)).
inline Wide log2_of_atanh(const Wide& s) {
  const Wide two_over_ln2 = wide::scale(wide::from_constant(X87Const::kL2e), 1);
  return wide::mul(wide::mul(s, atanh_over_x(wide::mul(s, s))), two_over_ln2);
}

// log2(w) for w > 0: w = m * 2^e with m in [sqrt(1/2), sqrt(2)),
// log2(m) = 2 atanh((m - 1) / (m + 1)) / ln 2. `exact`: the logarithm is
// the integer e.
inline Wide log2(const Wide& w, bool& exact) {
  // m = sig * 2^-127 in [1, 2), or half that from sqrt(2) on.
  constexpr u128 kSqrt2 = u128(0xb504f333f9de6484ull) << 64 | 0x597d89b3754abe9full;
  const bool half = w.sig > kSqrt2;
  const int32_t e = half ? w.exp + 1 : w.exp;
  Wide num, den;
  if (!half) {
    num = wide::normalise(false, 0, w.sig - (u128(1) << 127));         // m - 1 >= 0
    den = wide::normalise(false, 1, (w.sig >> 1) + (u128(1) << 126));  // m + 1
  } else {
    num = wide::normalise(true, -1, 0 - w.sig);                        // m/2 - 1 < 0 (2^128 - sig)
    den = wide::normalise(false, 0, (w.sig >> 1) + (u128(1) << 127));  // m/2 + 1
  }
  const Wide whole = wide::from_int(e);
  exact = num.sig == 0;
  if (exact) return whole;
  return wide::add(whole, log2_of_atanh(wide::div(num, den)));
}

// log2(1 + x) for x > -1.
inline Wide log2_1p(const fp::Value& x, bool& exact) {
  const Wide X = wide::from_value(x);
  if (x.exp <= -3) {  // |x| < 1/4: s = x / (2 + x), no cancellation in 1 + x
    exact = false;
    return log2_of_atanh(wide::div(X, wide::add(wide::scale(wide::one(), 1), X)));
  }
  return log2(wide::add(wide::one(), X), exact);  // 1 + x exact unless x >= 2^64
}

// 2^x - 1 for |x| <= 1: w = x ln 2 halved 8 times, e^w - 1 by its series
// (13 terms for |w| <= 2^-8.5 leave less than 2^-140), then doubled back
// with e^2w - 1 = (e^w - 1)(e^w - 1 + 2).
inline Wide exp2m1(const fp::Value& x) {
  Wide w = wide::mul(wide::from_value(x), wide::from_constant(X87Const::kLn2));
  const int halvings = w.exp >= -9 ? 8 : 0;
  w = wide::scale(w, -halvings);
  Wide t = wide::one();
  for (uint64_t k = 14; k >= 2; --k) t = wide::add(wide::one(), wide::div_small(wide::mul(w, t), k));
  Wide r = wide::mul(w, t);
  for (int i = 0; i < halvings; ++i) r = wide::mul(r, wide::add(r, wide::scale(wide::one(), 1)));
  return r;
}

}  // namespace x87fn

// ---- the instructions ------------------------------------------------------------

// The operand check of the trigonometric forms: finite with |x| < 2^63.
inline bool x87_trig_in_range(const fp::Value& a) { return a.cls != fp::Class::kFinite || a.exp < 63; }

// FSIN and FCOS: ST(0) replaced; out of range, C2 set and ST(0) kept.
template <bool Cos> struct X87SinOrCos {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    x87_set_cc(m, m.s.x87.fsw & ~fsw::kC2);
    if (!x87_empty(m, 0) && !x87_trig_in_range(fp::unpack(x87_get(m, 0)))) {
      x87_set_cc(m, uint16_t((m.s.x87.fsw & ~fsw::kC1) | fsw::kC2));
      return Status::kNext;
    }
    return x87_unary(m, [](fp::Env& e, const fp::Value& a) {
      if (a.cls == fp::Class::kInf) {
        e.flags |= fp::exc::kInvalid;
        return fp::default_nan();
      }
      if (a.denormal && e.stop_on(fp::exc::kDenormal)) return a;
      if (a.cls == fp::Class::kZero) return Cos ? fp::Value{fp::Class::kFinite, false, false, 0, fp::kIntBit} : a;
      const x87fn::SinCos sc = x87fn::sin_cos(a);
      return wide::round(e, Cos ? sc.cos : sc.sin, false);
    });
  }
};

// FPTAN (ST(0) = tan, then 1.0 pushed) and FSINCOS (ST(0) = sin, then cos
// pushed). Out of range: C2 set, nothing changed. A special operand's result
// (NaN, the indefinite) is pushed too.
template <bool Tan> struct X87TanOrSinCos {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    x87_set_cc(m, m.s.x87.fsw & ~fsw::kC2);
    if (!x87_replace_and_push_ok(m)) return Status::kNext;
    const fp::Value a = fp::unpack(x87_get(m, 0));
    if (!x87_trig_in_range(a)) {
      x87_set_cc(m, uint16_t((m.s.x87.fsw & ~fsw::kC1) | fsw::kC2));
      return Status::kNext;
    }
    fp::Env e = x87_env(m);
    const fp::Value one{fp::Class::kFinite, false, false, 0, fp::kIntBit};
    fp::Value first, second;  // ST(0) then the pushed value
    bool up = false;
    if (a.cls == fp::Class::kUnsupported || a.cls == fp::Class::kInf) {
      e.flags |= fp::exc::kInvalid;
      first = second = fp::default_nan();
    } else if (a.is_nan()) {
      first = second = x87_nan_result(e, a, a);
    } else if (a.denormal && e.stop_on(fp::exc::kDenormal)) {
      first = second = a;
    } else if (a.cls == fp::Class::kZero) {
      first = a;
      second = one;
    } else {
      const x87fn::SinCos sc = x87fn::sin_cos(a, Tan);
      if (Tan) {
        first = wide::round(e, sc.sin, false);
        up = e.up;
        second = one;
      } else {
        // C1 tells whether the sine was rounded up (host).
        first = wide::round(e, sc.sin, false);
        up = e.up;
        second = wide::round(e, sc.cos, false);
      }
    }
    e.up = up;
    x87_finish(m, e);
    if (x87_suppressed(e)) return Status::kNext;
    x87_set(m, 0, fp::pack80(first));
    x87_push(m, fp::pack80(second));
    return Status::kNext;
  }
};

// The two-operand forms: ST(1) = f(ST(1), ST(0)), then pop.
enum class X87Binary : uint8_t { kAtan, kYl2x, kYl2xp1 };

inline fp::Value x87_atan(fp::Env& e, const fp::Value& y, const fp::Value& x) {
  if (y.denormal || x.denormal) {
    if (e.stop_on(fp::exc::kDenormal)) return y;
  }
  const bool y_zero = y.cls == fp::Class::kZero, x_zero = x.cls == fp::Class::kZero;
  const bool y_inf = y.cls == fp::Class::kInf, x_inf = x.cls == fp::Class::kInf;
  const wide::Wide pi = wide::from_constant(X87Const::kPi);
  auto pi_times = [&](int quarters) {  // quarters * pi/4 with y's sign
    wide::Wide r = quarters == 3 ? wide::add(wide::scale(pi, -1), wide::scale(pi, -2))
                                 : wide::scale(pi, quarters == 4 ? 0 : quarters == 2 ? -1 : -2);
    r.sign = y.sign;
    return wide::round(e, r, false);
  };
  if (y_zero) return x.sign ? pi_times(4) : fp::zero(y.sign);
  if (y_inf) return x_inf ? pi_times(x.sign ? 3 : 1) : pi_times(2);
  if (x_zero) return pi_times(2);
  if (x_inf) return x.sign ? pi_times(4) : fp::zero(y.sign);
  return wide::round(e, x87fn::atan2(y, x), false);
}

inline fp::Value x87_yl2x(fp::Env& e, const fp::Value& y, const fp::Value& x) {
  const bool y_zero = y.cls == fp::Class::kZero, y_inf = y.cls == fp::Class::kInf;
  if (x.sign && x.cls != fp::Class::kZero) {
    e.flags |= fp::exc::kInvalid;
    return fp::default_nan();
  }
  if (x.cls == fp::Class::kZero) {  // log2(0) = -inf
    if (y_zero) {
      e.flags |= fp::exc::kInvalid;
      return fp::default_nan();
    }
    if (!y_inf && e.stop_on(fp::exc::kDivZero)) return y;
    return fp::infinity(!y.sign);
  }
  if (y.denormal || x.denormal) {
    if (e.stop_on(fp::exc::kDenormal)) return y;
  }
  if (x.cls == fp::Class::kInf) {  // log2(inf) = +inf
    if (y_zero) {
      e.flags |= fp::exc::kInvalid;
      return fp::default_nan();
    }
    return fp::infinity(y.sign);
  }
  bool exact;
  const wide::Wide l = x87fn::log2(wide::from_value(x), exact);
  const bool l_zero = exact && l.sig == 0, l_neg = l.sign;
  if (y_inf) {
    if (l_zero) {
      e.flags |= fp::exc::kInvalid;
      return fp::default_nan();
    }
    return fp::infinity(y.sign != l_neg);
  }
  if (y_zero || l_zero) return fp::zero(y.sign != l_neg);
  return wide::round(e, wide::mul(wide::from_value(y), l), exact);
}

inline fp::Value x87_yl2xp1(fp::Env& e, const fp::Value& y, const fp::Value& x) {
  const bool y_zero = y.cls == fp::Class::kZero, y_inf = y.cls == fp::Class::kInf;
  if (x.cls == fp::Class::kInf && x.sign) {
    e.flags |= fp::exc::kInvalid;
    return fp::default_nan();
  }
  if (x.cls == fp::Class::kZero) {
    if (y_inf) {
      e.flags |= fp::exc::kInvalid;
      return fp::default_nan();
    }
    if (y.denormal && e.stop_on(fp::exc::kDenormal)) return y;
    return fp::zero(y.sign != x.sign);
  }
  if (y.denormal || x.denormal) {
    if (e.stop_on(fp::exc::kDenormal)) return y;
  }
  if (x.cls == fp::Class::kInf) {
    if (y_zero) {
      e.flags |= fp::exc::kInvalid;
      return fp::default_nan();
    }
    return fp::infinity(y.sign);
  }
  // x <= -1: the host's answer (see the file comment).
  const bool below = x.sign && x.exp >= 0;
  if (below) {
    if (y_zero) return fp::zero(!y.sign);
    if (y_inf) return fp::infinity(!y.sign);
    fp::Value r = x;
    r.denormal = false;
    e.flags |= fp::exc::kInexact;
    return r;
  }
  if (y_inf) return fp::infinity(y.sign != x.sign);
  if (y_zero) return fp::zero(y.sign != x.sign);
  bool exact;
  const wide::Wide l = x87fn::log2_1p(x, exact);
  return wide::round(e, wide::mul(wide::from_value(y), l), exact);
}

template <X87Binary Op> struct X87BinaryTranscendental {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    if (x87_empty(m, 0) || x87_empty(m, 1)) {
      if (x87_stack_fault(m, false)) {
        x87_set(m, 1, x87_indefinite());
        x87_pop(m);
      }
      return Status::kNext;
    }
    const fp::Value x = fp::unpack(x87_get(m, 0)), y = fp::unpack(x87_get(m, 1));
    fp::Env e = x87_env(m);
    fp::Value r;
    if (x.cls == fp::Class::kUnsupported || y.cls == fp::Class::kUnsupported) {
      e.flags |= fp::exc::kInvalid;
      r = fp::default_nan();
    } else if (x.is_nan() || y.is_nan()) {
      r = x87_nan_result(e, x, y);
    } else if (Op == X87Binary::kAtan) {
      r = x87_atan(e, y, x);
    } else if (Op == X87Binary::kYl2x) {
      r = x87_yl2x(e, y, x);
    } else {
      r = x87_yl2xp1(e, y, x);
    }
    x87_finish(m, e);
    if (x87_suppressed(e)) return Status::kNext;
    x87_set(m, 1, fp::pack80(r));
    x87_pop(m);
    return Status::kNext;
  }
};

// F2XM1: ST(0) = 2^ST(0) - 1.
struct X87Exp2m1 {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    return x87_unary(m, [](fp::Env& e, const fp::Value& a) {
      if (a.cls == fp::Class::kInf) return a.sign ? fp::Value{fp::Class::kFinite, true, false, 0, fp::kIntBit} : a;
      if (a.denormal && e.stop_on(fp::exc::kDenormal)) return a;
      if (a.cls == fp::Class::kZero) return a;
      if (a.exp >= 0) {
        const bool one = a.exp == 0 && a.sig == fp::kIntBit;
        if (!one) {  // outside [-1, 1]: the operand, inexact (host)
          e.flags |= fp::exc::kInexact;
          return a;
        }
        if (a.sign) return wide::round(e, wide::Wide{true, -1, fp::u128(1) << 127}, true);  // -1/2
        return wide::round(e, wide::Wide{false, -1, ~fp::u128(0)}, true);                    // 1, as from below
      }
      return wide::round(e, x87fn::exp2m1(a), false);
    });
  }
};

}  // namespace rwd::tcg
