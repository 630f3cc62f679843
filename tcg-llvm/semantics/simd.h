// SIMD operand access for MMX and SSE: the availability checks (CR0.EM,
// CR0.TS, CR4.OSFXSR), the MMX registers aliasing the x87 registers, XMM
// registers, 64- and 128-bit memory operands with SSE's alignment rule, and
// lane access. Vectors are byte arrays in guest (little-endian) order.
#pragma once

#include "tcg-llvm/semantics/operands.h"

namespace rwd::tcg {

struct Vec {
  uint8_t b[16];
};

template <unsigned L> inline U<L> lane(const Vec& v, unsigned i) {
  U<L> x;
  __builtin_memcpy(&x, v.b + i * L, L);
  return x;
}
template <unsigned L> inline void set_lane(Vec& v, unsigned i, U<L> x) { __builtin_memcpy(v.b + i * L, &x, L); }

// SSE instructions: #UD without CR4.OSFXSR or with CR0.EM, #NM with CR0.TS.
template <class M> inline bool sse_available(M& m) {
  if ((m.s.cr0 & core::cr0::kEm) || !(m.s.cr4 & core::cr4::kOsfxsr)) return fail_noerr(m, vec::kUd);
  if (m.s.cr0 & core::cr0::kTs) return fail_noerr(m, vec::kNm);
  return true;
}
// An unmasked x87 exception is pending: an FSW exception flag whose FCW
// mask is clear (FXRSTOR and FLDENV can leave one).
template <class M> inline bool x87_exception_pending(M& m) { return m.s.x87.fsw & ~m.s.x87.fcw & 0x3f; }

// The x87 tag of a register's contents (full tag word encoding): 0 valid,
// 1 zero, 2 special (NaN, infinity, denormal, unnormal).
inline unsigned x87_tag_of(const uint8_t* st) {
  uint64_t mant;
  __builtin_memcpy(&mant, st, 8);
  unsigned exp = (st[8] | unsigned(st[9]) << 8) & 0x7fff;
  if (exp == 0x7fff) return 2;
  if (exp == 0) return mant == 0 ? 1 : 2;
  return (mant >> 63) ? 0 : 2;
}

// Every MMX instruction but EMMS puts the x87 unit in MMX state: TOP = 0 and
// every register tagged valid.
template <class M> inline void enter_mmx_state(M& m) {
  m.s.x87.fsw = uint16_t(m.s.x87.fsw & ~0x3800);
  m.s.x87.ftw = 0;
}

// What a waiting x87 (or MMX) instruction does with a pending unmasked x87
// exception: #MF with CR0.NE set; with NE clear (the PC's DOS-compatible
// wiring) it asserts FERR#, which the board latches onto IRQ 13 until a
// write to port 0xF0, and goes on, as QEMU does (a real CPU waits for the
// interrupt first). False: #MF raised.
template <class M> inline bool x87_error_check(M& m) {
  if (!x87_exception_pending(m)) return true;
  if (m.s.cr0 & core::cr0::kNe) return fail_noerr(m, vec::kMf);
  m.fpu_error();
  return true;
}

// MMX instructions: #UD with CR0.EM, #NM with CR0.TS, then the pending x87
// exception check (x87_error_check). With Enter the unit then enters MMX
// state at once; the forms with an explicit memory operand pass Enter =
// false (vec_available) and enter it when they complete, so one that faults
// on its operand leaves the tags alone, as the host does (tests/difftest);
// EMMS passes false too.
template <class M, bool Enter = true> inline bool mmx_available(M& m) {
  if (m.s.cr0 & core::cr0::kEm) return fail_noerr(m, vec::kUd);
  if (m.s.cr0 & core::cr0::kTs) return fail_noerr(m, vec::kNm);
  if (!x87_error_check(m)) return false;
  if (Enter) enter_mmx_state(m);
  return true;
}

// MMX register r (0-7, REX ignored) is the mantissa of physical x87 register r;
// writing it sets the exponent and sign to all ones.
template <class M> inline Vec get_mm(M& m, unsigned r) {
  Vec v{};
  __builtin_memcpy(v.b, m.s.x87.st[r & 7], 8);
  return v;
}
template <class M> inline void set_mm(M& m, unsigned r, const Vec& v) {
  uint8_t* st = m.s.x87.st[r & 7];
  __builtin_memcpy(st, v.b, 8);
  st[8] = 0xff;
  st[9] = 0xff;
}
template <class M> inline Vec get_xmm(M& m, unsigned r) {
  Vec v;
  __builtin_memcpy(v.b, m.s.xmm[r & 15], 16);
  return v;
}
template <class M> inline void set_xmm(M& m, unsigned r, const Vec& v) { __builtin_memcpy(m.s.xmm[r & 15], v.b, 16); }

// The same for a form that exists in both flavours: MMX (Xmm = false) or SSE.
// FWAIT: #NM when CR0.TS and CR0.MP are both set, then the pending x87
// exception check (x87_error_check).
struct Fwait {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    if ((m.s.cr0 & core::cr0::kTs) && (m.s.cr0 & core::cr0::kMp)) return raise(m, vec::kNm);
    RWD_TRY(x87_error_check(m));
    return Status::kNext;
  }
};

// The checks of an SSE or MMX form; an MMX form enters MMX state itself
// once nothing more can fault (set_vreg does for a register result).
template <bool Xmm, class M> inline bool vec_available(M& m) {
  if constexpr (Xmm) return sse_available(m);
  else return mmx_available<M, false>(m);
}
template <bool Xmm, class M> inline Vec get_vreg(M& m, unsigned r) {
  if constexpr (Xmm) return get_xmm(m, r);
  else return get_mm(m, r);
}
// Writes a vector register; writing an MMX register enters MMX state.
template <bool Xmm, class M> inline void set_vreg(M& m, unsigned r, const Vec& v) {
  if constexpr (Xmm) {
    set_xmm(m, r, v);
  } else {
    set_mm(m, r, v);
    enter_mmx_state(m);
  }
}

// N bytes (4, 8 or 16) of memory into or out of the low bytes of a vector.
// 16-byte stores check both halves before writing either.
template <unsigned N, class M> inline bool load_vec(M& m, int seg, uint64_t off, unsigned addr_size, Vec& v) {
  if constexpr (N == 16) {
    // The segment (or canonical) checks cover the whole operand first;
    // alignment checking wants it 16-aligned (the host's rule; its halves
    // are not checked on their own).
    if (!m.check_segment(seg, off, 16, false) || !m.check_alignment(seg, off, 16)) return false;
    U<8> lo, hi;
    if (!m.template read<8, false>(seg, off, lo) || !m.template read<8, false>(seg, (off + 8) & size_mask(addr_size), hi))
      return false;
    __builtin_memcpy(v.b, &lo, 8);
    __builtin_memcpy(v.b + 8, &hi, 8);
  } else {
    U<N> x;
    if (!m.template read<N>(seg, off, x)) return false;
    __builtin_memcpy(v.b, &x, N);
  }
  return true;
}
template <unsigned N, class M> inline bool store_vec(M& m, int seg, uint64_t off, unsigned addr_size, const Vec& v) {
  if constexpr (N == 16) {
    if (!m.check_segment(seg, off, 16, true) || !m.check_alignment(seg, off, 16) || !m.check_write(seg, off, 16))
      return false;
    U<8> lo, hi;
    __builtin_memcpy(&lo, v.b, 8);
    __builtin_memcpy(&hi, v.b + 8, 8);
    return m.template write<8, false>(seg, off, lo) && m.template write<8, false>(seg, (off + 8) & size_mask(addr_size), hi);
  } else {
    U<N> x;
    __builtin_memcpy(&x, v.b, N);
    return m.template write<N>(seg, off, x);
  }
}

// Legacy SSE memory operands of 16 bytes must be aligned (#GP(0)), except
// for the forms that say otherwise (MOVDQU, MOVUPS, LDDQU, ...).
template <class M> inline bool check_aligned16(M& m, uint64_t off) {
  if (off & 15) return fail(m, vec::kGp, 0);
  return true;
}

// The r/m operand of an MMX (Xmm = false) or SSE (Xmm = true) form: a register
// or N bytes of memory (N = 8 for MMX, 16 for XMM unless the form reads less).
template <bool Xmm, bool Mem, unsigned N = (Xmm ? 16 : 8)> struct VecRm {
  int seg = 0;
  uint64_t off = 0;
  template <class M> VecRm(M& m, const DecodedInsn& d) {
    if constexpr (Mem) {
      off = effective_address(m, d);
      seg = operand_segment(d);
    }
  }
  template <class M> bool read(M& m, const DecodedInsn& d, Vec& v, bool aligned) const {
    if constexpr (Mem) {
      if (N == 16 && aligned && !check_aligned16(m, m.linear_address(seg, off))) return false;
      v = Vec{};
      return load_vec<N>(m, seg, off, d.addr_size, v);
    }
    v = get_vreg<Xmm>(m, d.rm);
    return true;
  }
  template <class M> bool write(M& m, const DecodedInsn& d, const Vec& v, bool aligned) const {
    if constexpr (Mem) {
      if (N == 16 && aligned && !check_aligned16(m, m.linear_address(seg, off))) return false;
      return store_vec<N>(m, seg, off, d.addr_size, v);
    }
    if constexpr (Xmm) set_xmm(m, d.rm, v);
    else set_mm(m, d.rm, v);
    return true;
  }
};

}  // namespace rwd::tcg
