// Shifts and rotates (SHL/SHR/SAR/ROL/ROR/RCL/RCR, SHLD/SHRD) with the SDM's
// count masking: the count is masked to 5 bits (6 with a 64-bit operand); a
// masked count of 0 changes no flags (a 32-bit register operand is still
// zero-extended to 64 bits, like every 32-bit register write).
//
// Fixed values for undefined flags (count > 1 or out-of-range counts):
//  - OF is computed with the count-1 formula for every count;
//  - AF is cleared by SHL/SHR/SAR/SHLD/SHRD;
//  - SHL/SHR with a count >= operand width (8/16-bit operands): CF = 0;
//  - SHLD/SHRD of a 16-bit operand with a count > 16 shift through the
//    48-bit concatenation dst:src:dst, as Intel silicon does.
#pragma once

#include "tcg-llvm/semantics/flags.h"
#include "tcg-llvm/semantics/operands.h"

namespace rwd::tcg {

template <unsigned N> inline unsigned shift_count_mask() { return N == 8 ? 0x3f : 0x1f; }

template <unsigned N> inline uint64_t msb(U<N> v) { return (uint64_t(v) >> (kBits<N> - 1)) & 1; }

struct OpShl {
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a, unsigned c) {
    U<N> r = c >= kBits<N> ? U<N>(0) : U<N>(uint64_t(a) << c);
    uint64_t cf = c > kBits<N> ? 0 : (uint64_t(a) >> (kBits<N> - c)) & 1;
    uint64_t of = msb<N>(r) ^ cf;
    f = (f & ~fl::kArith) | cf | (of << 11) | flags_szp<N>(r);
    return r;
  }
};
struct OpShr {
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a, unsigned c) {
    U<N> r = c >= kBits<N> ? U<N>(0) : U<N>(uint64_t(a) >> c);
    uint64_t cf = c > kBits<N> ? 0 : (uint64_t(a) >> (c - 1)) & 1;
    uint64_t of = msb<N>(a);
    f = (f & ~fl::kArith) | cf | (of << 11) | flags_szp<N>(r);
    return r;
  }
};
struct OpSar {
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a, unsigned c) {
    int64_t sa = static_cast<int64_t>(sext<N>(a));
    unsigned k = c >= kBits<N> ? kBits<N> - 1 : c;
    U<N> r = U<N>(static_cast<uint64_t>(sa >> k));
    uint64_t cf = static_cast<uint64_t>(sa >> (c >= kBits<N> ? kBits<N> - 1 : c - 1)) & 1;
    f = (f & ~fl::kArith) | cf | flags_szp<N>(r);
    return r;
  }
};
// Rotates only touch CF and OF.
struct OpRol {
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a, unsigned c) {
    unsigned k = c & (kBits<N> - 1);
    U<N> r = k == 0 ? a : U<N>((uint64_t(a) << k) | (uint64_t(a) >> (kBits<N> - k)));
    uint64_t cf = r & 1;
    uint64_t of = msb<N>(r) ^ cf;
    f = (f & ~(fl::kCf | fl::kOf)) | cf | (of << 11);
    return r;
  }
};
struct OpRor {
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a, unsigned c) {
    unsigned k = c & (kBits<N> - 1);
    U<N> r = k == 0 ? a : U<N>((uint64_t(a) >> k) | (uint64_t(a) << (kBits<N> - k)));
    uint64_t cf = msb<N>(r);
    uint64_t of = cf ^ ((uint64_t(r) >> (kBits<N> - 2)) & 1);
    f = (f & ~(fl::kCf | fl::kOf)) | cf | (of << 11);
    return r;
  }
};
// Rotates through carry: the count is taken modulo width+1 for 8/16-bit operands.
struct OpRcl {
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a, unsigned c) {
    unsigned k = N == 1 ? c % 9 : N == 2 ? c % 17 : c;
    uint64_t cf = f & fl::kCf;
    U<N> r = a;
    if (k != 0) {
      // r = (a << k) | (cf << (k-1)) | (a >> (bits+1-k)), split to avoid shifting by 64.
      uint64_t lo = k == 1 ? 0 : uint64_t(a) >> (kBits<N> + 1 - k);
      uint64_t hi = k == kBits<N> ? 0 : uint64_t(a) << k;
      r = U<N>(hi | (cf << (k - 1)) | lo);
      cf = (uint64_t(a) >> (kBits<N> - k)) & 1;
    }
    uint64_t of = msb<N>(r) ^ cf;
    f = (f & ~(fl::kCf | fl::kOf)) | cf | (of << 11);
    return r;
  }
};
struct OpRcr {
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a, unsigned c) {
    unsigned k = N == 1 ? c % 9 : N == 2 ? c % 17 : c;
    uint64_t cf = f & fl::kCf;
    uint64_t of = msb<N>(a) ^ cf;  // from the operand before rotating (SDM)
    U<N> r = a;
    if (k != 0) {
      uint64_t lo = k == kBits<N> ? 0 : uint64_t(a) >> k;
      uint64_t hi = k == 1 ? 0 : uint64_t(a) << (kBits<N> + 1 - k);
      r = U<N>(lo | (cf << (kBits<N> - k)) | hi);
      cf = (uint64_t(a) >> (k - 1)) & 1;
    }
    f = (f & ~(fl::kCf | fl::kOf)) | cf | (of << 11);
    return r;
  }
};

enum class CountFrom : uint8_t { kOne, kCl, kImm };

template <class Op, unsigned N, bool Mem, CountFrom C> struct ShiftE {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    unsigned c = C == CountFrom::kOne ? 1 : C == CountFrom::kCl ? unsigned(m.s.gpr[core::kRcx]) : unsigned(d.imm);
    c &= shift_count_mask<N>();
    Rm<N, Mem> dst(m, d);
    U<N> a;
    RWD_TRY(dst.read_rmw(m, d, a));
    if (c == 0) {
      // Flags and value unchanged, but a 32-bit register is still written
      // (upper half cleared), as silicon does.
      if constexpr (N == 4 && !Mem) RWD_TRY(dst.write(m, d, a));
      return Status::kNext;
    }
    uint64_t f = m.s.rflags;
    U<N> r = Op::template calc<N>(f, a, c);
    RWD_TRY(dst.write(m, d, r));
    m.s.rflags = f;
    return Status::kNext;
  }
};

// SHLD/SHRD r/m, reg, imm8/CL.
template <unsigned N, bool Mem, bool Left, bool Cl> struct ShiftDouble {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    unsigned c = (Cl ? unsigned(m.s.gpr[core::kRcx]) : unsigned(d.imm)) & shift_count_mask<N>();
    Rm<N, Mem> dst(m, d);
    U<N> a;
    RWD_TRY(dst.read_rmw(m, d, a));
    if (c == 0) {
      if constexpr (N == 4 && !Mem) RWD_TRY(dst.write(m, d, a));  // zero-extends, as in ShiftE
      return Status::kNext;
    }
    U<N> b = get_reg<N>(m, d, d.reg);
    U<N> r;
    uint64_t cf;
    if constexpr (N == 2) {
      if (Left) {
        uint64_t cat = (uint64_t(a) << 32) | (uint64_t(b) << 16) | a;  // dst:src:dst
        r = U<2>((cat << c) >> 32);
        cf = (cat >> (48 - c)) & 1;
      } else {
        uint64_t cat = (uint64_t(a) << 32) | (uint64_t(b) << 16) | a;  // dst:src:dst, low end first
        r = U<2>(cat >> c);
        cf = (cat >> (c - 1)) & 1;
      }
    } else if constexpr (N == 4) {
      if (Left) {
        uint64_t cat = (uint64_t(a) << 32) | b;
        r = U<4>((cat << c) >> 32);
        cf = (cat >> (64 - c)) & 1;
      } else {
        uint64_t cat = (uint64_t(b) << 32) | a;
        r = U<4>(cat >> c);
        cf = (cat >> (c - 1)) & 1;
      }
    } else {
      if (Left) {
        r = U<N>((uint64_t(a) << c) | (c == 64 ? 0 : uint64_t(b) >> (64 - c)));
        cf = (uint64_t(a) >> (64 - c)) & 1;
      } else {
        r = U<N>((uint64_t(a) >> c) | (uint64_t(b) << (64 - c)));
        cf = (uint64_t(a) >> (c - 1)) & 1;
      }
    }
    RWD_TRY(dst.write(m, d, r));
    uint64_t of = msb<N>(r) ^ msb<N>(a);
    m.s.rflags = (m.s.rflags & ~fl::kArith) | cf | (of << 11) | flags_szp<N>(r);
    return Status::kNext;
  }
};

}  // namespace rwd::tcg
