// Binary floating point in software, for the x87 (double extended, with
// precision control) and SSE (single and double): unpacking, exact
// arithmetic on 128-bit significands, and one rounding routine that applies
// the rounding mode, the precision, the exponent range and the IEEE
// exception rules as x86 does (tininess detected after rounding). Part of the
// semantics dialect: no host FPU, no `long double`, only integer arithmetic,
// so every host and both tiers compute the same bits.
//
// Operands are unpacked into Value; operations return a Value and add the
// exceptions they raise to Env::flags. The x87 and SSE layers (x87*.h,
// sse_fp.h) choose the NaN rule and decide what an unmasked exception does.
#pragma once

#include <cstdint>

namespace rwd::tcg::fp {

using u128 = unsigned __int128;

// Exception flags: the same bits in the x87 status word and in MXCSR.
namespace exc {
inline constexpr uint8_t kInvalid = 1, kDenormal = 2, kDivZero = 4, kOverflow = 8, kUnderflow = 16,
                         kInexact = 32;
}

// The rounding-control encoding of the x87 control word and of MXCSR.
enum class Rounding : uint8_t { kNearest = 0, kDown = 1, kUp = 2, kZero = 3 };

struct Format {
  int prec;      // significand bits, the integer bit included
  int exp_bits;
  constexpr int bias() const { return (1 << (exp_bits - 1)) - 1; }
  constexpr int emax() const { return bias(); }
  constexpr int emin() const { return 1 - bias(); }
};
inline constexpr Format kSingle{24, 8}, kDouble{53, 11}, kExtended{64, 15};

enum class Class : uint8_t {
  kZero,
  kFinite,       // normal or denormal
  kInf,
  kQnan,
  kSnan,
  kUnsupported,  // x87 encodings the 387 and later refuse: unnormals, pseudo-NaN, pseudo-infinity
};

// An unpacked operand. Finite: value = sig * 2^(exp - 63) with bit 63 of sig
// set, whatever the encoding (a denormal's exponent lies below emin). NaN:
// the fraction left-aligned below bit 63 (set), the quiet bit at bit 62.
struct Value {
  Class cls = Class::kZero;
  bool sign = false;
  bool denormal = false;  // encoded as a denormal (or an x87 pseudo-denormal)
  int32_t exp = 0;
  uint64_t sig = 0;
  bool is_nan() const { return cls == Class::kQnan || cls == Class::kSnan; }
};

// The 80-bit x87 register format: 64-bit significand with an explicit
// integer bit, sign and 15-bit exponent.
struct F80 {
  uint64_t mant = 0;
  uint16_t se = 0;
};

// What an operation runs under and what it raised.
struct Env {
  Rounding rounding = Rounding::kNearest;
  int prec = 64;               // x87 precision control; SSE uses its format's precision
  uint8_t masks = 0x3f;        // masked exceptions
  bool ftz = false;            // SSE: tiny results become zero (underflow masked)
  int32_t wrap = 0;            // x87: unmasked overflow/underflow deliver the result with its
                               // exponent moved into range by this much (24576); 0 for SSE
  uint8_t flags = 0;           // raised
  bool up = false;             // the last rounding increased the magnitude (x87 C1)
  bool unmasked() const { return flags & ~masks; }
  // Raises a pre-computation exception; true when it is unmasked, so that
  // the operation must stop without a result.
  bool stop_on(uint8_t f) {
    flags = uint8_t(flags | f);
    return f & ~masks;
  }
};

inline int clz64(uint64_t x) { return x ? __builtin_clzll(x) : 64; }
inline int clz128(u128 x) {
  uint64_t hi = uint64_t(x >> 64);
  return hi ? __builtin_clzll(hi) : 64 + clz64(uint64_t(x));
}

inline constexpr uint64_t kQuietBit = 1ull << 62, kIntBit = 1ull << 63;

// The default NaN ("real indefinite"): negative, quiet, no payload.
inline Value default_nan() { return Value{Class::kQnan, true, false, 0, kIntBit | kQuietBit}; }
inline Value zero(bool sign) { return Value{Class::kZero, sign, false, 0, 0}; }
inline Value infinity(bool sign) { return Value{Class::kInf, sign, false, 0, 0}; }
inline Value quieted(Value v) {
  v.cls = Class::kQnan;
  v.sig |= kQuietBit;
  return v;
}

// ---- unpacking and packing -------------------------------------------------

// Single or double precision bits.
inline Value unpack(uint64_t bits, const Format& f) {
  const int frac_bits = f.prec - 1;
  const uint64_t frac = bits & ((1ull << frac_bits) - 1);
  const unsigned e = unsigned(bits >> frac_bits) & ((1u << f.exp_bits) - 1);
  Value v;
  v.sign = (bits >> (frac_bits + f.exp_bits)) & 1;
  if (e == (1u << f.exp_bits) - 1) {
    if (frac == 0) {
      v.cls = Class::kInf;
    } else {
      v.sig = kIntBit | frac << (63 - frac_bits);
      v.cls = (v.sig & kQuietBit) ? Class::kQnan : Class::kSnan;
    }
  } else if (e == 0) {
    if (frac != 0) {
      const int lz = clz64(frac);
      v.cls = Class::kFinite;
      v.denormal = true;
      v.sig = frac << lz;
      v.exp = f.emin() - frac_bits + 63 - lz;
    }
  } else {
    v.cls = Class::kFinite;
    v.sig = kIntBit | frac << (63 - frac_bits);
    v.exp = int32_t(e) - f.bias();
  }
  return v;
}

inline Value unpack(const F80& x) {
  const unsigned e = x.se & 0x7fff;
  Value v;
  v.sign = x.se >> 15;
  const bool integer_bit = x.mant >> 63;
  if (e == 0x7fff) {
    if (!integer_bit) v.cls = Class::kUnsupported;
    else if ((x.mant << 1) == 0) v.cls = Class::kInf;
    else v.cls = (x.mant & kQuietBit) ? Class::kQnan : Class::kSnan;
    v.sig = x.mant;
  } else if (e == 0) {
    if (x.mant != 0) {  // denormal, or pseudo-denormal (integer bit set): both weigh 2^emin
      const int lz = clz64(x.mant);
      v.cls = Class::kFinite;
      v.denormal = true;
      v.sig = x.mant << lz;
      v.exp = kExtended.emin() - lz;
    }
  } else if (!integer_bit) {
    v.cls = Class::kUnsupported;  // unnormal
    v.sig = x.mant;
    v.exp = int32_t(e) - kExtended.bias();
  } else {
    v.cls = Class::kFinite;
    v.sig = x.mant;
    v.exp = int32_t(e) - kExtended.bias();
  }
  return v;
}

// Packs a Value that fits the format (rounding already placed a denormal's
// bits where the encoding keeps them).
inline uint64_t pack(const Value& v, const Format& f) {
  const int frac_bits = f.prec - 1;
  const uint64_t frac_mask = (1ull << frac_bits) - 1;
  const uint64_t sign = uint64_t(v.sign) << (frac_bits + f.exp_bits);
  const uint64_t exp_all = (uint64_t(1) << f.exp_bits) - 1;
  switch (v.cls) {
    case Class::kZero: return sign;
    case Class::kInf: return sign | exp_all << frac_bits;
    case Class::kQnan:
    case Class::kSnan:
    case Class::kUnsupported: return sign | exp_all << frac_bits | ((v.sig >> (63 - frac_bits)) & frac_mask);
    case Class::kFinite: break;
  }
  if (v.exp >= f.emin())
    return sign | uint64_t(v.exp + f.bias()) << frac_bits | ((v.sig >> (63 - frac_bits)) & frac_mask);
  const int shift = 63 - frac_bits + (f.emin() - v.exp);
  return sign | (shift < 64 ? v.sig >> shift : 0);
}

inline F80 pack80(const Value& v) {
  F80 x;
  const uint16_t sign = uint16_t(v.sign) << 15;
  switch (v.cls) {
    case Class::kZero: x.se = sign; return x;
    case Class::kInf: x.se = uint16_t(sign | 0x7fff); x.mant = kIntBit; return x;
    case Class::kQnan:
    case Class::kSnan:
    case Class::kUnsupported: x.se = uint16_t(sign | 0x7fff); x.mant = v.sig; return x;
    case Class::kFinite: break;
  }
  if (v.exp >= kExtended.emin()) {
    x.se = uint16_t(sign | (v.exp + kExtended.bias()));
    x.mant = v.sig;
  } else {
    const int shift = kExtended.emin() - v.exp;
    x.se = sign;
    x.mant = shift < 64 ? v.sig >> shift : 0;
  }
  return x;
}

// ---- rounding --------------------------------------------------------------

struct Shifted {
  u128 q;         // the kept bits, rounded
  bool inexact;
  bool up;        // rounding added one unit
};

// Drops the low `drop` bits of sig (drop >= 1), rounding the rest as `rm`
// does for a value of the given sign.
inline Shifted round_shift(u128 sig, int drop, Rounding rm, bool sign) {
  u128 q;
  bool half, sticky;
  if (drop >= 129) {
    q = 0, half = false, sticky = sig != 0;
  } else if (drop == 128) {
    q = 0, half = sig >> 127, sticky = (sig << 1) != 0;
  } else {
    q = sig >> drop;
    const u128 rem = sig & ((u128(1) << drop) - 1), halfway = u128(1) << (drop - 1);
    half = rem & halfway;
    sticky = (rem & (halfway - 1)) != 0;
  }
  const bool inexact = half || sticky;
  bool inc = false;
  switch (rm) {
    case Rounding::kNearest: inc = half && (sticky || (q & 1)); break;
    case Rounding::kDown: inc = sign && inexact; break;
    case Rounding::kUp: inc = !sign && inexact; break;
    case Rounding::kZero: break;
  }
  return Shifted{q + inc, inexact, inc};
}

// The finite Value q * 2^lsb (q > 0, at most 127 bits).
inline Value from_scaled(bool sign, u128 q, int32_t lsb) {
  const int msb = 127 - clz128(q);
  Value v;
  v.cls = Class::kFinite;
  v.sign = sign;
  v.exp = lsb + msb;
  v.sig = msb >= 63 ? uint64_t(q >> (msb - 63)) : uint64_t(q) << (63 - msb);
  return v;
}

// Rounds (-1)^sign * sig * 2^(exp - 127) to env.prec bits of significand in
// the exponent range of f. sig's lowest bit may be a sticky bit (it must lie
// below the rounding point). Overflow and underflow follow the masks: masked,
// the IEEE default result; unmasked with env.wrap, the x87's rounded result
// with the exponent moved by wrap; unmasked otherwise (SSE), the flags only.
inline Value round_pack(Env& env, const Format& f, bool sign, int32_t exp, u128 sig) {
  if (sig == 0) return zero(sign);
  const int lz = clz128(sig);
  sig <<= lz;
  exp -= lz;  // now value = 1.xxx * 2^exp
  const int prec = env.prec < f.prec ? env.prec : f.prec;
  const Rounding rm = env.rounding;
  env.up = false;

  // Rounded to the precision with an unbounded exponent.
  Shifted r = round_shift(sig, 128 - prec, rm, sign);
  int32_t e = exp;
  if (r.q >> prec) {
    r.q >>= 1;
    ++e;
  }
  auto unbounded = [&](int32_t adjust) {
    env.up = r.up;
    if (r.inexact) env.flags |= exc::kInexact;
    return from_scaled(sign, r.q, e + adjust - (prec - 1));
  };

  // An unmasked overflow or underflow on the x87 delivers the result wrapped
  // into range; one too far out even for that is handled as if masked.
  const bool wrap_fits = env.wrap != 0 && e - env.wrap <= f.emax() && e + env.wrap >= f.emin();
  if (e > f.emax()) {
    if (!(env.masks & exc::kOverflow)) {
      env.flags |= exc::kOverflow;
      if (wrap_fits || env.wrap == 0) return unbounded(-env.wrap);
      env.flags |= exc::kInexact;  // beyond even the wrapped range: infinity (host)
      env.up = true;
      return infinity(sign);
    }
    env.flags |= exc::kOverflow | exc::kInexact;
    const bool to_inf = rm == Rounding::kNearest || (rm == Rounding::kUp && !sign) || (rm == Rounding::kDown && sign);
    if (to_inf) {
      env.up = true;
      return infinity(sign);
    }
    return from_scaled(sign, (u128(1) << prec) - 1, f.emax() - (prec - 1));
  }
  if (e < f.emin()) {  // tiny
    if (!(env.masks & exc::kUnderflow)) {
      env.flags |= exc::kUnderflow;
      if (wrap_fits || env.wrap == 0) return unbounded(env.wrap);
      env.flags |= exc::kInexact;  // beyond even the wrapped range: zero (host)
      return zero(sign);
    }
    if (env.ftz) {
      env.flags |= exc::kUnderflow | exc::kInexact;
      return zero(sign);
    }
    // Denormalise: shifted right to emin, then rounded to the precision, so
    // the lowest kept bit weighs 2^(emin - (prec - 1)) (on the x87 with a
    // reduced precision, fewer bits than the format's denormals hold).
    const int32_t lsb = f.emin() - (prec - 1);
    const int32_t drop = 127 - (exp - lsb);
    Shifted d = round_shift(sig, drop, rm, sign);
    env.up = d.up;
    if (d.inexact) env.flags |= exc::kUnderflow | exc::kInexact;
    if (d.q == 0) return zero(sign);
    return from_scaled(sign, d.q, lsb);
  }
  return unbounded(0);
}

// Rounds a finite Value to the environment's precision and format.
inline Value round_value(Env& env, const Format& f, const Value& v) {
  if (v.cls != Class::kFinite) return v;
  return round_pack(env, f, v.sign, v.exp, u128(v.sig) << 64);
}

// ---- arithmetic --------------------------------------------------------------

// Shifts right by n, folding the lost bits into bit 0.
inline u128 shift_right_jam(u128 x, int32_t n) {
  if (n <= 0) return x;
  if (n >= 128) return x != 0;
  return (x >> n) | ((x & ((u128(1) << n) - 1)) != 0);
}

// Sign of an exact zero sum: negative only when both addends are, or in
// round-down mode.
inline bool zero_sum_sign(const Env& env, bool a, bool b) { return a == b ? a : env.rounding == Rounding::kDown; }

// a + b (or a - b) for non-NaN operands; infinities and zeros included.
inline Value add(Env& env, const Format& f, Value a, Value b, bool subtract) {
  if (subtract) b.sign = !b.sign;
  if ((a.denormal || b.denormal) && env.stop_on(exc::kDenormal)) return Value{};
  if (a.cls == Class::kInf || b.cls == Class::kInf) {
    if (a.cls == Class::kInf && b.cls == Class::kInf && a.sign != b.sign) {
      env.flags |= exc::kInvalid;
      return default_nan();
    }
    return a.cls == Class::kInf ? a : b;
  }
  if (a.cls == Class::kZero && b.cls == Class::kZero) return zero(zero_sum_sign(env, a.sign, b.sign));
  if (a.cls == Class::kZero) return round_value(env, f, b);
  if (b.cls == Class::kZero) return round_value(env, f, a);
  if (a.exp < b.exp || (a.exp == b.exp && a.sig < b.sig)) {
    Value t = a;
    a = b;
    b = t;
  }
  // value = S * 2^(a.exp - 125): 62 guard bits below the 64-bit significands.
  const u128 A = u128(a.sig) << 62;
  const u128 B = shift_right_jam(u128(b.sig) << 62, a.exp - b.exp);
  if (a.sign == b.sign) return round_pack(env, f, a.sign, a.exp + 2, A + B);
  const u128 diff = A - B;
  if (diff == 0) return zero(zero_sum_sign(env, a.sign, b.sign));
  return round_pack(env, f, a.sign, a.exp + 2, diff);
}

inline Value mul(Env& env, const Format& f, const Value& a, const Value& b) {
  const bool sign = a.sign != b.sign;
  const bool a_inf = a.cls == Class::kInf, b_inf = b.cls == Class::kInf;
  if (a_inf || b_inf) {
    if (a.cls == Class::kZero || b.cls == Class::kZero) {
      env.flags |= exc::kInvalid;
      return default_nan();
    }
    if ((a.denormal || b.denormal) && env.stop_on(exc::kDenormal)) return Value{};
    return infinity(sign);
  }
  if ((a.denormal || b.denormal) && env.stop_on(exc::kDenormal)) return Value{};
  if (a.cls == Class::kZero || b.cls == Class::kZero) return zero(sign);
  return round_pack(env, f, sign, a.exp + b.exp + 1, u128(a.sig) * b.sig);
}

inline Value div(Env& env, const Format& f, const Value& a, const Value& b) {
  const bool sign = a.sign != b.sign;
  const bool a_inf = a.cls == Class::kInf, b_inf = b.cls == Class::kInf;
  const bool a_zero = a.cls == Class::kZero, b_zero = b.cls == Class::kZero;
  if ((a_inf && b_inf) || (a_zero && b_zero)) {
    env.flags |= exc::kInvalid;
    return default_nan();
  }
  // A finite dividend over zero raises zero-divide, not denormal (host).
  if (b_zero && !a_inf) {
    if (env.stop_on(exc::kDivZero)) return Value{};
    return infinity(sign);
  }
  if ((a.denormal || b.denormal) && env.stop_on(exc::kDenormal)) return Value{};
  if (a_inf) return infinity(sign);
  if (a_zero || b_inf) return zero(sign);
  // 73 quotient bits and a sticky bit: value = Q * 2^(a.exp - b.exp - 74).
  const u128 num = u128(a.sig) << 64;
  const u128 q = num / b.sig, r = num % b.sig;
  const u128 q2 = (r << 9) / b.sig, r2 = (r << 9) % b.sig;
  const u128 Q = (q << 9 | q2) << 1 | (r2 != 0);
  return round_pack(env, f, sign, a.exp - b.exp + 53, Q);
}

// floor(sqrt(x)) for 2^126 <= x < 2^128: Newton steps on the top half from
// a tangent-line estimate, one full-width step, then an exact correction (a
// seventh of the time of 64 digit steps).
inline uint64_t isqrt_normalised(u128 x) {
  const uint64_t hi = uint64_t(x >> 64);  // [2^62, 2^64): its root is in [2^31, 2^32)
  // The tangent of sqrt at 2^63 lies above the curve: at most 6.1 % high here.
  constexpr uint64_t kRoot63 = 3037000500;  // ceil(sqrt(2^63))
  uint64_t y = hi >= (1ull << 63) ? kRoot63 + (hi - (1ull << 63)) / (2 * kRoot63)
                                  : kRoot63 - ((1ull << 63) - hi) / (2 * kRoot63);
  for (int i = 0; i < 3; ++i) y = (y + hi / y) >> 1;  // relative error 6e-2, 2e-3, 2e-6, 2e-12
  const u128 guess = u128(y) << 32;                    // within about 2^-30 of sqrt(x)
  // An integer Newton step never lands below floor(sqrt(x)) (the mean of g
  // and x/g is at least sqrt(x)), so the correction only steps down.
  u128 r = (guess + x / guess) >> 1;  // within a few units
  if (r > ~uint64_t(0)) r = ~uint64_t(0);  // the root itself is below 2^64
  while (r * r > x) --r;
  return uint64_t(r);
}

inline Value sqrt(Env& env, const Format& f, const Value& a) {
  if (a.cls == Class::kZero) return a;
  if (a.sign) {
    env.flags |= exc::kInvalid;
    return default_nan();
  }
  if (a.cls == Class::kInf) return a;
  if (a.denormal && env.stop_on(exc::kDenormal)) return Value{};
  // value = X * 2^e2 with e2 even, X of 127 or 128 bits.
  const bool odd = (a.exp & 1) != 0;
  const u128 X = u128(a.sig) << (odd ? 64 : 63);
  const int32_t e2 = a.exp - (odd ? 127 : 126);
  // root = isqrt(X), then 4 digit steps on pairs of zeros: the 68-bit root
  // of X * 2^8 and its remainder, as 68 digit steps from the top would give.
  u128 root = isqrt_normalised(X);
  u128 rem = X - root * root;
  for (int i = 0; i < 4; ++i) {
    rem <<= 2;
    const u128 trial = root << 2 | 1;
    root <<= 1;
    if (rem >= trial) {
      rem -= trial;
      root |= 1;
    }
  }
  // sqrt(value) = (root + frac) * 2^(e2/2 - 4); with a sticky bit appended,
  // S = root*2 + sticky weighs 2^(e2/2 - 5) = 2^(E - 127).
  const u128 S = root << 1 | (rem != 0);
  return round_pack(env, f, false, e2 / 2 - 5 + 127, S);
}

// Rounds to an integral value in the given mode (FRNDINT, ROUNDSS); the
// caller raises the denormal exception where the instruction does.
inline Value round_to_integral(Env& env, const Value& a, Rounding rm) {
  if (a.cls != Class::kFinite) return a;
  if (a.exp >= 63) return a;
  // value = sig * 2^(exp - 63): drop the bits below 2^0.
  const int32_t drop = 63 - a.exp;
  const Shifted r = round_shift(u128(a.sig), drop, rm, a.sign);
  env.up = r.up;
  if (r.inexact) env.flags |= exc::kInexact;
  if (r.q == 0) return zero(a.sign);
  return from_scaled(a.sign, r.q, 0);
}

// ---- integers ----------------------------------------------------------------

inline Value from_int(int64_t x) {
  if (x == 0) return zero(false);
  const bool sign = x < 0;
  const uint64_t mag = sign ? 0 - uint64_t(x) : uint64_t(x);
  return from_scaled(sign, mag, 0);
}

// A finite, infinite or NaN value to a signed integer of `bits` bits, rounded
// in mode rm. Out of range, infinite or NaN: the invalid exception and the
// "integer indefinite" (the most negative value). A denormal source raises
// no denormal exception here (the x87's stores do not; callers that do add it).
inline int64_t to_int(Env& env, const Value& a, int bits, Rounding rm) {
  const int64_t indefinite = int64_t(uint64_t(1) << (bits - 1) << (64 - bits)) >> (64 - bits);
  if (a.cls == Class::kZero) return 0;
  if (a.cls != Class::kFinite) {
    env.flags |= exc::kInvalid;
    return indefinite;
  }
  if (a.exp >= bits) {  // |a| >= 2^bits, even after rounding
    env.flags |= exc::kInvalid;
    return indefinite;
  }
  uint64_t mag;
  bool inexact = false, up = false;
  if (a.exp >= 63) {
    mag = a.sig;
  } else {
    const Shifted r = round_shift(u128(a.sig), 63 - a.exp, rm, a.sign);
    mag = uint64_t(r.q);
    inexact = r.inexact;
    up = r.up;
    if (r.q >> 64) mag = ~uint64_t(0);  // 2^64: out of any range below
  }
  const uint64_t limit = uint64_t(1) << (bits - 1);  // |min|; max is limit - 1
  if (a.sign ? mag > limit : mag >= limit) {
    env.flags |= exc::kInvalid;
    return indefinite;
  }
  env.up = up;
  if (inexact) env.flags |= exc::kInexact;
  return a.sign ? int64_t(0 - mag) : int64_t(mag);
}

// ---- comparison --------------------------------------------------------------

enum class Order : uint8_t { kLess, kEqual, kGreater, kUnordered };

// Compares non-NaN values (zeros equal whatever their signs).
inline Order compare_values(const Value& a, const Value& b) {
  auto key = [](const Value& v, int& cls) {
    cls = v.cls == Class::kZero ? 0 : v.cls == Class::kInf ? 2 : 1;
  };
  int ca, cb;
  key(a, ca);
  key(b, cb);
  if (ca == 0 && cb == 0) return Order::kEqual;
  // Magnitude order, then sign.
  auto mag_cmp = [&]() -> int {
    if (ca != cb) return ca < cb ? -1 : 1;
    if (ca != 1) return 0;
    if (a.exp != b.exp) return a.exp < b.exp ? -1 : 1;
    if (a.sig != b.sig) return a.sig < b.sig ? -1 : 1;
    return 0;
  };
  const bool sa = ca != 0 && a.sign, sb = cb != 0 && b.sign;
  if (sa != sb) return sa ? Order::kLess : Order::kGreater;
  int m = mag_cmp();
  if (sa) m = -m;
  return m < 0 ? Order::kLess : m > 0 ? Order::kGreater : Order::kEqual;
}

}  // namespace rwd::tcg::fp
