// SSE4.2 string compares (PCMPESTRI, PCMPESTRM, PCMPISTRI, PCMPISTRM) and
// SSE4.1 MPSADBW. The string compares follow the SDM's model (vol. 2,
// 4.1): the imm8 picks the element format, the aggregation (equal any,
// ranges, equal each, equal ordered), the polarity and the output; lengths
// are explicit (EAX/RAX and EDX/RDX) or implicit (up to the first zero).
#pragma once

#include "tcg-llvm/semantics/flags.h"
#include "tcg-llvm/semantics/simd.h"

namespace rwd::tcg {

// Element i of a string operand: bytes or words, signed or unsigned.
inline int32_t string_element(const Vec& v, unsigned i, unsigned imm) {
  const bool words = imm & 1, is_signed = imm & 2;
  if (words) {
    const uint16_t w = lane<2>(v, i);
    return is_signed ? int32_t(int16_t(w)) : int32_t(w);
  }
  return is_signed ? int32_t(int8_t(v.b[i])) : int32_t(v.b[i]);
}

// The number of valid elements: explicit from a register (absolute value,
// at most n), implicit up to the first zero element.
inline unsigned explicit_length(uint64_t reg, bool wide, unsigned n) {
  const int64_t x = wide ? int64_t(reg) : int64_t(int32_t(uint32_t(reg)));
  const uint64_t mag = x < 0 ? 0 - uint64_t(x) : uint64_t(x);
  return mag > n ? n : unsigned(mag);
}
inline unsigned implicit_length(const Vec& v, unsigned imm, unsigned n) {
  for (unsigned i = 0; i < n; ++i)
    if (string_element(v, i, imm) == 0) return i;
  return n;
}

// IntRes2 of the SDM: bit i for element i of the second operand b.
inline uint32_t string_compare(const Vec& a, unsigned la, const Vec& b, unsigned lb, unsigned imm) {
  const unsigned n = imm & 1 ? 8 : 16;
  const unsigned agg = (imm >> 2) & 3;
  // BoolRes[j][i]: element j of a against element i of b, with the
  // overrides for invalid elements.
  auto bool_res = [&](unsigned j, unsigned i) -> bool {
    const bool va = j < la, vb = i < lb;
    switch (agg) {
      case 0:  // equal any
        return va && vb && string_element(a, j, imm) == string_element(b, i, imm);
      case 1:  // ranges: even j a lower bound, odd j an upper bound
        if (!va || !vb) return false;
        return j & 1 ? string_element(b, i, imm) <= string_element(a, j, imm)
                     : string_element(b, i, imm) >= string_element(a, j, imm);
      case 2:  // equal each
        if (!va && !vb) return true;
        if (!va || !vb) return false;
        return string_element(a, j, imm) == string_element(b, i, imm);
      default:  // equal ordered
        if (!va) return true;
        if (!vb) return false;
        return string_element(a, j, imm) == string_element(b, i, imm);
    }
  };
  uint32_t res = 0;
  for (unsigned i = 0; i < n; ++i) {
    bool r = false;
    switch (agg) {
      case 0:
        for (unsigned j = 0; j < n && !r; ++j) r = bool_res(j, i);
        break;
      case 1:
        for (unsigned j = 0; j + 1 < n && !r; j += 2) r = bool_res(j, i) && bool_res(j + 1, i);
        break;
      case 2: r = bool_res(i, i); break;
      default:
        r = true;
        for (unsigned k = 0; k + i < n && r; ++k) r = bool_res(k, i + k);
        break;
    }
    if (r) res |= 1u << i;
  }
  const uint32_t all = (1u << n) - 1;
  switch ((imm >> 4) & 3) {
    case 1: res = ~res & all; break;                           // negative
    case 3: res ^= ((1u << lb) - 1) & all; break;              // masked negative: valid elements only
    default: break;
  }
  return res;
}

// PCMPESTRI/PCMPESTRM (Explicit) and PCMPISTRI/PCMPISTRM: the index into
// ECX or the mask into XMM0, and CF (a match), ZF/SF (b/a shorter than the
// register), OF (IntRes2 bit 0); AF and PF cleared.
template <bool Explicit, bool Index, bool Mem> struct StringCompare {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(sse_available(m));
    VecRm<true, Mem> src(m, d);
    Vec b;
    RWD_TRY(src.read(m, d, b, false));
    const Vec a = get_xmm(m, d.reg);
    const unsigned imm = unsigned(d.imm & 0xff);
    const unsigned n = imm & 1 ? 8 : 16;
    const bool wide = d.rex & 8;
    const unsigned la = Explicit ? explicit_length(m.s.gpr[core::kRax], wide, n) : implicit_length(a, imm, n);
    const unsigned lb = Explicit ? explicit_length(m.s.gpr[core::kRdx], wide, n) : implicit_length(b, imm, n);
    const uint32_t res = string_compare(a, la, b, lb, imm);
    if constexpr (Index) {
      unsigned idx = n;
      if (res) idx = imm & 0x40 ? 31 - unsigned(__builtin_clz(res)) : unsigned(__builtin_ctz(res));
      m.s.gpr[core::kRcx] = idx;
    } else {
      Vec mask{};
      if (imm & 0x40) {
        for (unsigned i = 0; i < n; ++i) {
          if (!((res >> i) & 1)) continue;
          if (n == 8) set_lane<2>(mask, i, 0xffff);
          else mask.b[i] = 0xff;
        }
      } else {
        set_lane<2>(mask, 0, uint16_t(res));
      }
      set_xmm(m, 0, mask);
    }
    m.s.rflags = (m.s.rflags & ~(fl::kCf | fl::kPf | fl::kAf | fl::kZf | fl::kSf | fl::kOf)) | (res ? fl::kCf : 0) |
                 (lb < n ? fl::kZf : 0) | (la < n ? fl::kSf : 0) | (res & 1 ? fl::kOf : 0);
    return Status::kNext;
  }
};

// MPSADBW xmm, xmm/m128, imm8: eight sums of absolute differences between
// the 4-byte block of the source at 4*imm8[1:0] and the destination's bytes
// from 4*imm8[2] + i.
struct PMpsadbw {
  static void calc(Vec& d, const Vec& s, unsigned, unsigned imm) {
    const unsigned aoff = (imm & 4) ? 4 : 0, boff = (imm & 3) * 4;
    Vec r;
    for (unsigned i = 0; i < 8; ++i) {
      unsigned sum = 0;
      for (unsigned j = 0; j < 4; ++j) {
        const int diff = int(d.b[aoff + i + j]) - int(s.b[boff + j]);
        sum += unsigned(diff < 0 ? -diff : diff);
      }
      set_lane<2>(r, i, uint16_t(sum));
    }
    d = r;
  }
};

}  // namespace rwd::tcg
