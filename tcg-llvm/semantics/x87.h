// The x87 unit's state and operands: the register stack (TOP, tags, ST(i)),
// the status word's condition codes and exception summary, the environment
// an arithmetic instruction runs under (precision and rounding control,
// masks), the checks every x87 instruction starts with, and the memory
// formats (single, double, extended, 16/32/64-bit integers, packed BCD).
// The arithmetic is fp:: (softfloat.h); nothing here touches the host FPU.
#pragma once

#include "tcg-llvm/semantics/simd.h"
#include "tcg-llvm/semantics/softfloat.h"

namespace rwd::tcg {

namespace fsw {
inline constexpr uint16_t kSf = 1u << 6, kEs = 1u << 7, kC0 = 1u << 8, kC1 = 1u << 9, kC2 = 1u << 10,
                          kTop = 7u << 11, kC3 = 1u << 14, kB = 1u << 15;
inline constexpr uint16_t kCc = kC0 | kC1 | kC2 | kC3;
}  // namespace fsw

// The x87 exponent bias adjustment of an unmasked overflow or underflow.
inline constexpr int32_t kX87Wrap = 24576;

template <class M> inline unsigned x87_top(M& m) { return (m.s.x87.fsw >> 11) & 7; }
template <class M> inline void x87_set_top(M& m, unsigned top) {
  m.s.x87.fsw = uint16_t((m.s.x87.fsw & ~fsw::kTop) | (top & 7) << 11);
}
// Physical register of ST(i).
template <class M> inline unsigned x87_phys(M& m, unsigned i) { return (x87_top(m) + i) & 7; }
template <class M> inline bool x87_empty(M& m, unsigned i) { return ((m.s.x87.ftw >> (2 * x87_phys(m, i))) & 3) == 3; }

template <class M> inline fp::F80 x87_get(M& m, unsigned i) {
  const uint8_t* st = m.s.x87.st[x87_phys(m, i)];
  fp::F80 x;
  __builtin_memcpy(&x.mant, st, 8);
  x.se = uint16_t(st[8] | st[9] << 8);
  return x;
}
// Writes ST(i) and tags it by its contents.
template <class M> inline void x87_set(M& m, unsigned i, const fp::F80& x) {
  const unsigned r = x87_phys(m, i);
  uint8_t* st = m.s.x87.st[r];
  __builtin_memcpy(st, &x.mant, 8);
  st[8] = uint8_t(x.se);
  st[9] = uint8_t(x.se >> 8);
  m.s.x87.ftw = uint16_t((m.s.x87.ftw & ~(3u << (2 * r))) | x87_tag_of(st) << (2 * r));
}
template <class M> inline void x87_free(M& m, unsigned i) { m.s.x87.ftw = uint16_t(m.s.x87.ftw | 3u << (2 * x87_phys(m, i))); }
template <class M> inline void x87_pop(M& m) {
  x87_free(m, 0);
  x87_set_top(m, x87_top(m) + 1);
}

inline fp::F80 x87_indefinite() { return fp::pack80(fp::default_nan()); }

template <class M> inline void x87_set_cc(M& m, uint16_t cc) {
  m.s.x87.fsw = uint16_t((m.s.x87.fsw & ~fsw::kCc) | (cc & fsw::kCc));
}
template <class M> inline void x87_set_c1(M& m, bool c1) {
  m.s.x87.fsw = uint16_t((m.s.x87.fsw & ~fsw::kC1) | (c1 ? fsw::kC1 : 0));
}

// Adds exception flags to the status word; an unmasked one sets the error
// summary (ES) and busy (B) bits, and the next waiting x87 instruction takes #MF.
// Recomputes the error summary and busy bits from the flags and masks.
template <class M> inline void x87_update_summary(M& m) {
  auto& x = m.s.x87;
  if (x87_exception_pending(m)) x.fsw |= fsw::kEs | fsw::kB;
  else x.fsw = uint16_t(x.fsw & ~(fsw::kEs | fsw::kB));
}
template <class M> inline void x87_raise(M& m, uint8_t flags) {
  m.s.x87.fsw = uint16_t(m.s.x87.fsw | (flags & 0x3f));
  x87_update_summary(m);
}
// A stack overflow (push onto a full register) or underflow (read of an
// empty one): invalid operation with SF, C1 telling which. True when the
// exception is masked and the instruction goes on with the indefinite.
template <class M> inline bool x87_stack_fault(M& m, bool overflow) {
  x87_set_c1(m, overflow);
  m.s.x87.fsw |= fsw::kSf;
  x87_raise(m, fp::exc::kInvalid);
  return m.s.x87.fcw & fp::exc::kInvalid;
}

// The environment of an arithmetic instruction, from the control word.
template <class M> inline fp::Env x87_env(M& m) {
  const uint16_t cw = m.s.x87.fcw;
  fp::Env e;
  e.masks = uint8_t(cw & 0x3f);
  e.rounding = fp::Rounding((cw >> 10) & 3);
  const unsigned pc = (cw >> 8) & 3;
  e.prec = pc == 0 ? 24 : pc == 2 ? 53 : 64;  // 1 is reserved; the 387 and later treat it as 64
  e.wrap = kX87Wrap;
  return e;
}
// Whether a pre-computation exception (invalid, denormal, zero divide) is
// unmasked: the destination and the stack stay as they were.
inline bool x87_suppressed(const fp::Env& e) {
  return e.flags & ~e.masks & (fp::exc::kInvalid | fp::exc::kDenormal | fp::exc::kDivZero);
}
// Ends an arithmetic step: its flags into FSW and C1 = rounded up.
template <class M> inline void x87_finish(M& m, const fp::Env& e) {
  x87_set_c1(m, e.up && (e.flags & fp::exc::kInexact));
  x87_raise(m, e.flags);
}

// The checks every x87 instruction starts with: #NM with CR0.EM or CR0.TS,
// then, for a waiting instruction, #MF for a pending unmasked exception
// (CR0.NE set; FERR# with NE clear, see x87_error_check). `record`
// instructions (all but the control instructions) leave their opcode,
// address and data pointer for FSTENV/FXSAVE.
template <class M> inline bool x87_enter(M& m, const DecodedInsn& d, bool wait, bool record) {
  if (m.s.cr0 & (core::cr0::kEm | core::cr0::kTs)) return fail_noerr(m, vec::kNm);
  if (wait && !x87_error_check(m)) return false;
  if (record) {
    auto& x = m.s.x87;
    x.fop = uint16_t((d.opcode & 7) << 8 | d.mod << 6 | (d.reg & 7) << 3 | (d.rm & 7));
    x.fip = m.s.rip - d.length;
    x.fcs = m.s.seg[kSegCs].selector;
    if (d.is_mem()) {
      x.fdp = effective_address(m, d);
      x.fds = m.s.seg[operand_segment(d)].selector;
    }
  }
  return true;
}

// ---- memory formats --------------------------------------------------------

enum class X87Mem : uint8_t { kF32, kF64, kF80, kI16, kI32, kI64, kBcd };

template <X87Mem K> inline constexpr unsigned kX87MemBytes = K == X87Mem::kF32 || K == X87Mem::kI32 ? 4
                                                             : K == X87Mem::kI16                   ? 2
                                                             : K == X87Mem::kF64 || K == X87Mem::kI64 ? 8
                                                                                                      : 10;

// Aligned = false: registers inside an FNSAVE image, which alignment
// checking leaves alone (the image's base is checked).
template <bool Aligned = true, class M> inline bool read_f80(M& m, int seg, uint64_t off, unsigned as, fp::F80& x) {
  U<8> mant;
  U<2> se;
  if (!(m.template read<8, Aligned>(seg, off, mant))) return false;
  if (!(m.template read<2, Aligned>(seg, (off + 8) & size_mask(as), se))) return false;
  x.mant = mant;
  x.se = se;
  return true;
}
// Both pieces (8 + 2 bytes) are checked as writes before either is
// written; each has its own segment check, as on the host.
template <class M> inline bool check_write_f80(M& m, int seg, uint64_t off, unsigned as) {
  return m.check_write(seg, off, 8) && m.check_write(seg, (off + 8) & size_mask(as), 2);
}
template <bool Aligned = true, class M>
inline bool write_f80(M& m, int seg, uint64_t off, unsigned as, const fp::F80& x) {
  if (!check_write_f80(m, seg, off, as)) return false;
  if (!(m.template write<8, Aligned>(seg, off, x.mant))) return false;
  return m.template write<2, Aligned>(seg, (off + 8) & size_mask(as), x.se);
}

// Packed BCD: 18 digits, two per byte (low digit first), sign in bit 79.
inline fp::Value bcd_to_value(const fp::F80& x) {
  uint64_t n = 0;
  for (int i = 8; i >= 0; --i) {
    const unsigned byte = i == 8 ? unsigned(x.se & 0xff) : unsigned(x.mant >> (8 * i)) & 0xff;
    n = n * 100 + (byte >> 4) * 10 + (byte & 15);  // digits above 9: undefined; computed as weights
  }
  fp::Value v = fp::from_int(int64_t(n));
  v.sign = x.se >> 15;
  return v;
}
inline fp::F80 value_to_bcd(uint64_t n, bool sign) {
  fp::F80 x;
  for (int i = 0; i < 9; ++i) {
    const unsigned byte = unsigned(n % 10) | unsigned((n / 10) % 10) << 4;
    n /= 100;
    if (i == 8) x.se = uint16_t(byte);
    else x.mant |= uint64_t(byte) << (8 * i);
  }
  if (sign) x.se |= 0x8000;
  return x;
}

// Reads an x87 memory operand as a Value (an m80 as its 80 bits, unrounded).
template <X87Mem K, class M> inline bool x87_read_mem(M& m, const DecodedInsn& d, fp::Value& v) {
  const uint64_t off = effective_address(m, d);
  const int seg = operand_segment(d);
  if constexpr (K == X87Mem::kF80 || K == X87Mem::kBcd) {
    fp::F80 x;
    if (!(read_f80(m, seg, off, d.addr_size, x))) return false;
    v = K == X87Mem::kF80 ? fp::unpack(x) : bcd_to_value(x);
  } else {
    constexpr unsigned N = kX87MemBytes<K>;
    U<N> raw;
    if (!(m.template read<N>(seg, off, raw))) return false;
    if constexpr (K == X87Mem::kF32) v = fp::unpack(raw, fp::kSingle);
    else if constexpr (K == X87Mem::kF64) v = fp::unpack(raw, fp::kDouble);
    else v = fp::from_int(int64_t(S<N>(raw)));
  }
  return true;
}

// An operand converted to the register format as an arithmetic operand or a
// load sees it: a signalling NaN is quietened with the invalid exception, a
// denormal single or double raises the denormal exception (and becomes a
// normal extended value), an unsupported encoding is invalid.
inline fp::Value x87_load_convert(fp::Env& e, const fp::Value& v, bool from_f80) {
  if (v.cls == fp::Class::kUnsupported) {
    e.flags |= fp::exc::kInvalid;
    return fp::default_nan();
  }
  if (v.cls == fp::Class::kSnan) {
    e.flags |= fp::exc::kInvalid;
    return fp::quieted(v);
  }
  if (v.denormal && !from_f80) e.flags |= fp::exc::kDenormal;
  fp::Value r = v;
  r.denormal = false;
  return r;
}

}  // namespace rwd::tcg
