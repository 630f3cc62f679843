// Arithmetic flags, computed eagerly from operands and result, and the x86
// condition codes. Uniform carry/overflow formulas work for every operand size,
// so no wider type (and no 128-bit arithmetic) is needed for 64-bit operands.
//
// Architecturally undefined flags get fixed values in rewind, documented where
// each instruction sets them (see alu.h, shift.h, muldiv.h, bits.h).
#pragma once

#include "tcg-llvm/semantics/types.h"

namespace rwd::tcg {

namespace fl = core::rflags;

inline uint64_t parity_flag(uint64_t r) {
  // PF is set when the low byte has an even number of 1 bits.
  return (__builtin_parity(static_cast<unsigned>(r & 0xff)) ? 0 : fl::kPf);
}

// ZF, SF, PF of an N-byte result.
template <unsigned N> inline uint64_t flags_szp(U<N> r) {
  return (r == 0 ? fl::kZf : 0) | ((r & kSignBit<N>) ? fl::kSf : 0) | parity_flag(r);
}

// r = a + b + cin.
template <unsigned N> inline uint64_t flags_add(U<N> a, U<N> b, U<N> r) {
  constexpr unsigned kTop = kBits<N> - 1;
  uint64_t cf = ((uint64_t(a & b) | (uint64_t(a | b) & ~uint64_t(r))) >> kTop) & 1;
  uint64_t of = ((uint64_t(a ^ r) & uint64_t(b ^ r)) >> kTop) & 1;
  uint64_t af = uint64_t(a ^ b ^ r) & fl::kAf;
  return cf | (of << 11) | af | flags_szp<N>(r);
}

// Carry-less forms (ADD/SUB/CMP/INC/DEC/NEG): the compiler's overflow builtins
// map onto the host's own CF/OF, which is shorter than the generic formulas.
template <unsigned N> inline uint64_t flags_add_nc(U<N> a, U<N> b, U<N> r) {
  U<N> r2;
  S<N> sr;
  uint64_t cf = __builtin_add_overflow(a, b, &r2);
  uint64_t of = __builtin_add_overflow(S<N>(a), S<N>(b), &sr);
  return cf | (of << 11) | (uint64_t(a ^ b ^ r) & fl::kAf) | flags_szp<N>(r);
}
template <unsigned N> inline uint64_t flags_sub_nc(U<N> a, U<N> b, U<N> r) {
  U<N> r2;
  S<N> sr;
  uint64_t cf = __builtin_sub_overflow(a, b, &r2);
  uint64_t of = __builtin_sub_overflow(S<N>(a), S<N>(b), &sr);
  return cf | (of << 11) | (uint64_t(a ^ b ^ r) & fl::kAf) | flags_szp<N>(r);
}

// r = a - b - bin.
template <unsigned N> inline uint64_t flags_sub(U<N> a, U<N> b, U<N> r) {
  constexpr unsigned kTop = kBits<N> - 1;
  uint64_t cf = ((uint64_t(~a & b) | (uint64_t(~a | b) & uint64_t(r))) >> kTop) & 1;
  uint64_t of = ((uint64_t(a ^ b) & uint64_t(a ^ r)) >> kTop) & 1;
  uint64_t af = uint64_t(a ^ b ^ r) & fl::kAf;
  return cf | (of << 11) | af | flags_szp<N>(r);
}

// AND/OR/XOR/TEST: CF = OF = 0; AF is undefined, rewind clears it.
template <unsigned N> inline uint64_t flags_logic(U<N> r) { return flags_szp<N>(r); }

// Replace the bits in `mask` of RFLAGS by `bits`.
inline void set_flags(core::X86CpuState& s, uint64_t mask, uint64_t bits) {
  s.rflags = (s.rflags & ~mask) | (bits & mask);
}
inline void set_arith_flags(core::X86CpuState& s, uint64_t bits) {
  s.rflags = (s.rflags & ~fl::kArith) | bits;
}

inline bool cf(const core::X86CpuState& s) { return s.rflags & fl::kCf; }

// Condition code cc (the low nibble of Jcc/SETcc/CMOVcc opcodes).
__attribute__((always_inline)) inline bool condition(uint64_t f, unsigned cc) {
  bool r;
  switch (cc >> 1) {
    case 0: r = f & fl::kOf; break;                                  // O
    case 1: r = f & fl::kCf; break;                                  // B
    case 2: r = f & fl::kZf; break;                                  // Z
    case 3: r = f & (fl::kCf | fl::kZf); break;                      // BE
    case 4: r = f & fl::kSf; break;                                  // S
    case 5: r = f & fl::kPf; break;                                  // P
    case 6: r = !(f & fl::kSf) != !(f & fl::kOf); break;             // L
    default: r = (f & fl::kZf) || (!(f & fl::kSf) != !(f & fl::kOf)); break;  // LE
  }
  return r != (cc & 1);
}

}  // namespace rwd::tcg
