// x87 arithmetic and data movement: loads and stores of every memory format,
// FADD/FSUB/FMUL/FDIV and their reversed, popping and integer-operand forms,
// compares (FCOM, FUCOM, FICOM, FTST, FCOMI, FUCOMI), FXAM, FXCH, FCMOVcc,
// FCHS/FABS, the constants, FRNDINT, FSQRT, FSCALE, FXTRACT, FPREM and FPREM1.
//
// Exception behaviour, as the SDM gives it (vol. 1, 8.5): a masked exception
// delivers the default result; an unmasked invalid, denormal or zero-divide
// exception leaves the destination and the stack unchanged; an unmasked
// overflow or underflow delivers the result with its exponent moved by
// 24576 (to a register; a store to memory is not done). Either way the flag
// and, when unmasked, the error summary are set, and the next waiting x87
// instruction takes #MF.
#pragma once

#include "tcg-llvm/semantics/flags.h"
#include "tcg-llvm/semantics/x87.h"

namespace rwd::tcg {

// The result of an operation on a NaN (at least one operand is one): a
// signalling NaN raises invalid; of two NaNs the quiet one is returned when
// the other signals, else the one with the larger significand.
inline fp::Value x87_nan_result(fp::Env& e, const fp::Value& a, const fp::Value& b) {
  if (a.cls == fp::Class::kSnan || b.cls == fp::Class::kSnan) e.flags |= fp::exc::kInvalid;
  if (a.is_nan() && b.is_nan()) {
    if (a.cls != b.cls) return fp::quieted(a.cls == fp::Class::kQnan ? a : b);
    const uint64_t sa = a.sig | fp::kQuietBit, sb = b.sig | fp::kQuietBit;
    if (sa != sb) return fp::quieted(sa > sb ? a : b);
    return fp::quieted(a.sign ? b : a);
  }
  return fp::quieted(a.is_nan() ? a : b);
}

enum class X87Op : uint8_t { kAdd, kMul, kSub, kSubr, kDiv, kDivr };

inline fp::Value x87_arith(fp::Env& e, X87Op op, const fp::Value& a, const fp::Value& b) {
  if (a.cls == fp::Class::kUnsupported || b.cls == fp::Class::kUnsupported) {
    e.flags |= fp::exc::kInvalid;
    return fp::default_nan();
  }
  if (a.is_nan() || b.is_nan()) return x87_nan_result(e, a, b);
  switch (op) {
    case X87Op::kAdd: return fp::add(e, fp::kExtended, a, b, false);
    case X87Op::kSub: return fp::add(e, fp::kExtended, a, b, true);
    case X87Op::kSubr: return fp::add(e, fp::kExtended, b, a, true);
    case X87Op::kMul: return fp::mul(e, fp::kExtended, a, b);
    case X87Op::kDiv: return fp::div(e, fp::kExtended, a, b);
    case X87Op::kDivr: return fp::div(e, fp::kExtended, b, a);
  }
  return fp::default_nan();
}

// Which operands an arithmetic form has: ST(0) and memory (result in ST(0)),
// ST(0) and ST(i) (result in ST(0)), or ST(i) and ST(0) (result in ST(i)).
enum class X87Pair : uint8_t { kSt0Mem, kSt0Sti, kStiSt0 };

template <X87Op Op, X87Pair W, X87Mem K = X87Mem::kF80, bool Pop = false> struct X87Arith {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    fp::Value src;
    if constexpr (W == X87Pair::kSt0Mem) RWD_TRY(x87_read_mem<K>(m, d, src));
    const unsigned i = d.rm & 7;
    const unsigned dst = W == X87Pair::kStiSt0 ? i : 0;
    const unsigned other = W == X87Pair::kSt0Sti ? i : 0;
    if (x87_empty(m, dst) || (W != X87Pair::kSt0Mem && x87_empty(m, other))) {
      if (x87_stack_fault(m, false)) {
        x87_set(m, dst, x87_indefinite());
        if (Pop) x87_pop(m);
      }
      return Status::kNext;
    }
    const fp::Value a = fp::unpack(x87_get(m, dst));
    const fp::Value b = W == X87Pair::kSt0Mem ? src : fp::unpack(x87_get(m, other));
    fp::Env e = x87_env(m);
    const fp::Value r = x87_arith(e, Op, a, b);
    x87_finish(m, e);
    if (x87_suppressed(e)) return Status::kNext;
    x87_set(m, dst, fp::pack80(r));
    if (Pop) x87_pop(m);
    return Status::kNext;
  }
};

// The operands ST(0) and ST(other) of an instruction whose result goes to
// ST(0): when one is empty, stack underflow, and when that is masked ST(0)
// becomes the indefinite. True when both are there.
template <class M> inline bool x87_operands_present(M& m, unsigned other = 0) {
  if (!x87_empty(m, 0) && !x87_empty(m, other)) return true;
  if (x87_stack_fault(m, false)) x87_set(m, 0, x87_indefinite());
  return false;
}

// Pushes a value: a stack overflow (ST(7) in use) is masked by pushing the
// indefinite, unmasked by leaving the stack alone (false).
template <class M> inline bool x87_push(M& m, const fp::F80& x) {
  if (!x87_empty(m, 7)) {
    if (!x87_stack_fault(m, true)) return false;
    x87_set_top(m, x87_top(m) - 1);
    x87_set(m, 0, x87_indefinite());
    return false;
  }
  x87_set_top(m, x87_top(m) - 1);
  x87_set(m, 0, x);
  return true;
}

// The stack check of the instructions that replace ST(0) and push a second
// result (FXTRACT, FPTAN, FSINCOS): ST(0) empty (underflow, which wins) or
// ST(7) in use (overflow); masked, both results are the indefinite. True
// when the instruction goes on.
template <class M> inline bool x87_replace_and_push_ok(M& m) {
  if (!x87_empty(m, 0) && x87_empty(m, 7)) return true;
  if (x87_stack_fault(m, !x87_empty(m, 0))) {
    x87_set(m, 0, x87_indefinite());
    x87_set_top(m, x87_top(m) - 1);
    x87_set(m, 0, x87_indefinite());
  }
  return false;
}

// FLD m32/m64/m80, FILD m16/m32/m64, FBLD m80.
template <X87Mem K> struct X87LoadMem {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    fp::Value v;
    fp::F80 raw;
    if constexpr (K == X87Mem::kF80) RWD_TRY(read_f80(m, operand_segment(d), effective_address(m, d), d.addr_size, raw));
    else RWD_TRY(x87_read_mem<K>(m, d, v));
    if (!x87_empty(m, 7)) {  // stack overflow, before anything the value would raise
      x87_push(m, x87_indefinite());
      return Status::kNext;
    }
    x87_set_c1(m, false);
    if constexpr (K != X87Mem::kF80) {
      fp::Env e = x87_env(m);
      v = x87_load_convert(e, v, false);
      x87_raise(m, e.flags);
      if (e.flags & ~e.masks & fp::exc::kInvalid) return Status::kNext;  // an unmasked denormal still loads
      raw = fp::pack80(v);
    }
    x87_push(m, raw);
    return Status::kNext;
  }
};

// FLD ST(i).
struct X87LoadSti {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    const unsigned i = d.rm & 7;
    if (x87_empty(m, i)) {  // underflow first: then the indefinite goes over a full ST(7) silently
      if (x87_stack_fault(m, false)) {
        x87_set_top(m, x87_top(m) - 1);
        x87_set(m, 0, x87_indefinite());
      }
      return Status::kNext;
    }
    if (!x87_empty(m, 7)) {
      x87_push(m, x87_indefinite());
      return Status::kNext;
    }
    x87_set_c1(m, false);
    x87_push(m, x87_get(m, i));
    return Status::kNext;
  }
};

// The x87's constants, held to 128 bits and rounded in the current rounding
// mode (precision control does not apply): value = mant * 2^(exp - 127).
enum class X87Const : uint8_t { kOne, kL2t, kL2e, kPi, kLg2, kLn2, kZero };
struct X87Constant {
  uint64_t hi, lo;
  int32_t exp;
};
inline X87Constant x87_constant(X87Const c) {
  switch (c) {
    case X87Const::kOne: return {0x8000000000000000ull, 0, 0};
    case X87Const::kL2t: return {0xd49a784bcd1b8afeull, 0x492bf6ff4dafdb4cull, 1};
    case X87Const::kL2e: return {0xb8aa3b295c17f0bbull, 0xbe87fed0691d3e88ull, 0};
    case X87Const::kPi: return {0xc90fdaa22168c234ull, 0xc4c6628b80dc1cd1ull, 1};
    case X87Const::kLg2: return {0x9a209a84fbcff798ull, 0x8f8959ac0b7c9178ull, -2};
    case X87Const::kLn2: return {0xb17217f7d1cf79abull, 0xc9e3b39803f2f6afull, -1};
    case X87Const::kZero: break;
  }
  return {0, 0, 0};
}
template <X87Const C> struct X87LoadConst {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    x87_set_c1(m, false);
    fp::Value v = fp::zero(false);
    if constexpr (C != X87Const::kZero) {
      const X87Constant k = x87_constant(C);
      fp::Env e = x87_env(m);
      e.prec = 64;
      v = fp::round_pack(e, fp::kExtended, false, k.exp, fp::u128(k.hi) << 64 | k.lo);
    }
    x87_push(m, fp::pack80(v));
    return Status::kNext;
  }
};

// FST/FSTP m32/m64/m80 and ST(i); FIST/FISTP/FISTTP m16/m32/m64; FBSTP.
// Memory is written only when no unmasked exception stops the store.
enum class X87StoreKind : uint8_t { kFloat, kInt, kIntTruncate, kBcd };
template <X87Mem K, X87StoreKind Kind, bool Pop> struct X87StoreMem {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    const uint64_t off = effective_address(m, d);
    const int seg = operand_segment(d);
    constexpr unsigned N = kX87MemBytes<K>;
    // The destination is checked first, alignment then page: a fault there
    // changes no flag, and happens even when an unmasked exception would
    // then keep the store from happening (as on the host).
    RWD_TRY(m.check_alignment(seg, off, N == 10 ? 8 : N));
    if constexpr (N == 10) RWD_TRY(check_write_f80(m, seg, off, d.addr_size));
    else RWD_TRY(m.check_write(seg, off, N));
    fp::Env e = x87_env(m);
    e.prec = 64;
    const bool empty = x87_empty(m, 0);
    const fp::Value v = fp::unpack(x87_get(m, 0));
    uint64_t bits = 0;
    fp::F80 wide;
    if (empty) {
      e.flags |= fp::exc::kInvalid;
    } else if constexpr (K == X87Mem::kF80) {
      wide = x87_get(m, 0);
    } else if constexpr (Kind == X87StoreKind::kFloat) {
      const fp::Format& f = K == X87Mem::kF32 ? fp::kSingle : fp::kDouble;
      fp::Value r;
      if (v.cls == fp::Class::kUnsupported) e.flags |= fp::exc::kInvalid, r = fp::default_nan();
      else if (v.is_nan()) r = x87_nan_result(e, v, v);
      else r = fp::round_value(e, f, v);  // a denormal source raises no denormal exception (host)
      bits = fp::pack(r, f);
    } else if constexpr (Kind == X87StoreKind::kBcd) {
      fp::Value r = v.cls == fp::Class::kFinite ? fp::round_to_integral(e, v, e.rounding) : v;
      const bool ok = r.cls == fp::Class::kZero ||
                      (r.cls == fp::Class::kFinite && r.exp < 60 && (r.sig >> (63 - r.exp)) < 1000000000000000000ull);
      if (!ok || v.cls == fp::Class::kUnsupported) {
        e.flags |= fp::exc::kInvalid;
        e.flags &= uint8_t(~fp::exc::kInexact);
        wide = fp::F80{0xc000000000000000ull, 0xffff};  // the packed-BCD indefinite
      } else {
        wide = value_to_bcd(r.cls == fp::Class::kZero ? 0 : r.sig >> (63 - r.exp), v.sign);
      }
    } else {
      const fp::Rounding rm = Kind == X87StoreKind::kIntTruncate ? fp::Rounding::kZero : e.rounding;
      if (v.cls == fp::Class::kUnsupported) {
        e.flags |= fp::exc::kInvalid;
        bits = uint64_t(1) << (8 * N - 1);
      } else {
        bits = uint64_t(fp::to_int(e, v, 8 * N, rm));
      }
    }
    if (empty) {
      // Stack underflow: the indefinite of the destination format, when masked.
      if (!x87_stack_fault(m, false)) return Status::kNext;
      if constexpr (N == 10) wide = Kind == X87StoreKind::kBcd ? fp::F80{0xc000000000000000ull, 0xffff} : x87_indefinite();
      else if constexpr (Kind == X87StoreKind::kFloat) bits = fp::pack(fp::default_nan(), K == X87Mem::kF32 ? fp::kSingle : fp::kDouble);
      else bits = uint64_t(1) << (8 * N - 1);
    } else {
      // Unmasked invalid, overflow or underflow: nothing is stored (an
      // unmasked precision exception still stores), and an overflow or
      // underflow then raises neither precision nor C1 (host).
      const bool blocked = e.flags & ~e.masks & (fp::exc::kInvalid | fp::exc::kOverflow | fp::exc::kUnderflow);
      if (e.flags & ~e.masks & (fp::exc::kOverflow | fp::exc::kUnderflow)) {
        e.flags &= uint8_t(~fp::exc::kInexact);
        e.up = false;
      }
      x87_finish(m, e);
      if (blocked) return Status::kNext;
    }
    if constexpr (N == 10) RWD_TRY(write_f80(m, seg, off, d.addr_size, wide));
    else RWD_TRY(m.template write<N>(seg, off, U<N>(bits)));
    if (Pop) x87_pop(m);
    return Status::kNext;
  }
};

// FST/FSTP ST(i): a register copy; FSTP ST(0) just pops.
template <bool Pop> struct X87StoreSti {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    const unsigned i = d.rm & 7;
    if (x87_empty(m, 0)) {
      if (!x87_stack_fault(m, false)) return Status::kNext;
      x87_set(m, i, x87_indefinite());
    } else {
      x87_set_c1(m, false);
      x87_set(m, i, x87_get(m, 0));
    }
    if (Pop) x87_pop(m);
    return Status::kNext;
  }
};

// FXCH ST(i).
struct X87Exchange {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    const unsigned i = d.rm & 7;
    if (x87_empty(m, 0) || x87_empty(m, i)) {
      if (!x87_stack_fault(m, false)) return Status::kNext;
      if (x87_empty(m, 0)) x87_set(m, 0, x87_indefinite());
      if (x87_empty(m, i)) x87_set(m, i, x87_indefinite());
    } else {
      x87_set_c1(m, false);
    }
    const fp::F80 a = x87_get(m, 0), b = x87_get(m, i);
    x87_set(m, 0, b);
    x87_set(m, i, a);
    return Status::kNext;
  }
};

// FFREE ST(i) (FFREEP also pops), FINCSTP, FDECSTP, FNOP.
enum class X87StackOp : uint8_t { kFree, kFreePop, kIncrement, kDecrement, kNop };
template <X87StackOp Op> struct X87Stack {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    switch (Op) {
      case X87StackOp::kFree: x87_set_c1(m, false), x87_free(m, d.rm & 7); break;
      case X87StackOp::kFreePop: x87_set_c1(m, false), x87_free(m, d.rm & 7), x87_pop(m); break;
      case X87StackOp::kIncrement: x87_set_c1(m, false), x87_set_top(m, x87_top(m) + 1); break;
      case X87StackOp::kDecrement: x87_set_c1(m, false), x87_set_top(m, x87_top(m) - 1); break;
      case X87StackOp::kNop: break;
    }
    return Status::kNext;
  }
};

// FCHS and FABS: the sign alone, no exception but stack underflow.
template <bool Abs> struct X87Sign {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    if (!x87_operands_present(m)) return Status::kNext;
    x87_set_c1(m, false);
    fp::F80 x = x87_get(m, 0);
    x.se = uint16_t(Abs ? x.se & 0x7fff : x.se ^ 0x8000);
    x87_set(m, 0, x);
    return Status::kNext;
  }
};

// FCMOVcc ST(0), ST(i), by the EFLAGS condition code.
template <unsigned Cc> struct X87Cmov {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    const unsigned i = d.rm & 7;
    if (!x87_operands_present(m, i)) return Status::kNext;
    if (condition(m.s.rflags, Cc)) x87_set(m, 0, x87_get(m, i));  // C1 unchanged (host)
    return Status::kNext;
  }
};

// ---- compares ------------------------------------------------------------------

// Orders a and b: unordered for a NaN (signalling compares raise invalid for
// any NaN, quiet ones for a signalling NaN only) or an unsupported encoding.
inline fp::Order x87_order(fp::Env& e, const fp::Value& a, const fp::Value& b, bool quiet) {
  if (a.cls == fp::Class::kUnsupported || b.cls == fp::Class::kUnsupported) {
    e.flags |= fp::exc::kInvalid;
    return fp::Order::kUnordered;
  }
  if (a.is_nan() || b.is_nan()) {
    if (!quiet || a.cls == fp::Class::kSnan || b.cls == fp::Class::kSnan) e.flags |= fp::exc::kInvalid;
    return fp::Order::kUnordered;
  }
  if (a.denormal || b.denormal) e.flags |= fp::exc::kDenormal;
  return fp::compare_values(a, b);
}

// What a compare compares ST(0) with.
enum class X87CmpWith : uint8_t { kMem, kSti, kSt1, kZero };

// FCOM/FCOMP/FCOMPP, FUCOM/FUCOMP/FUCOMPP, FICOM/FICOMP, FTST into C3 C2 C0;
// FCOMI/FCOMIP/FUCOMI/FUCOMIP into ZF PF CF (OF, SF, AF cleared).
template <X87CmpWith W, X87Mem K, bool Quiet, unsigned Pops, bool Eflags> struct X87Compare {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    fp::Value b = fp::zero(false);
    if constexpr (W == X87CmpWith::kMem) RWD_TRY(x87_read_mem<K>(m, d, b));
    const unsigned i = W == X87CmpWith::kSt1 ? 1 : d.rm & 7;
    constexpr bool reg = W == X87CmpWith::kSti || W == X87CmpWith::kSt1;
    fp::Order o;
    fp::Env e = x87_env(m);
    if (x87_empty(m, 0) || (reg && x87_empty(m, i))) {
      if (!x87_stack_fault(m, false)) e.flags |= fp::exc::kInvalid;  // unmasked: no pops below
      o = fp::Order::kUnordered;
    } else {
      if constexpr (reg) b = fp::unpack(x87_get(m, i));
      o = x87_order(e, fp::unpack(x87_get(m, 0)), b, Quiet);
      if (!Eflags) x87_set_c1(m, false);
      x87_raise(m, e.flags);
    }
    const bool c0 = o == fp::Order::kLess || o == fp::Order::kUnordered;
    const bool c2 = o == fp::Order::kUnordered;
    const bool c3 = o == fp::Order::kEqual || o == fp::Order::kUnordered;
    if constexpr (Eflags) {
      m.s.rflags = (m.s.rflags & ~(fl::kCf | fl::kPf | fl::kAf | fl::kZf | fl::kSf | fl::kOf)) |
                   (c0 ? fl::kCf : 0) | (c2 ? fl::kPf : 0) | (c3 ? fl::kZf : 0);
    } else {
      x87_set_cc(m, uint16_t((c0 ? fsw::kC0 : 0) | (c2 ? fsw::kC2 : 0) | (c3 ? fsw::kC3 : 0)));
    }
    // The condition is set even when an unmasked exception stops the pops.
    if (x87_suppressed(e)) return Status::kNext;
    for (unsigned p = 0; p < Pops; ++p) x87_pop(m);
    return Status::kNext;
  }
};

// FXAM: the class of ST(0) in C3 C2 C0, its sign in C1.
struct X87Examine {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    const fp::F80 x = x87_get(m, 0);
    uint16_t cc = (x.se & 0x8000) ? fsw::kC1 : 0;
    if (x87_empty(m, 0)) {
      cc |= fsw::kC3 | fsw::kC0;
    } else {
      const fp::Value v = fp::unpack(x);
      switch (v.cls) {
        case fp::Class::kUnsupported: break;
        case fp::Class::kQnan:
        case fp::Class::kSnan: cc |= fsw::kC0; break;
        case fp::Class::kInf: cc |= fsw::kC2 | fsw::kC0; break;
        case fp::Class::kZero: cc |= fsw::kC3; break;
        case fp::Class::kFinite: cc |= v.denormal ? fsw::kC3 | fsw::kC2 : fsw::kC2; break;
      }
    }
    x87_set_cc(m, cc);
    return Status::kNext;
  }
};

// ---- one-operand arithmetic ------------------------------------------------------

// Ends an arithmetic step whose result goes to ST(0): flags and C1, then the
// result unless an unmasked invalid, denormal or zero-divide stops it.
template <class M> inline Status x87_write_st0(M& m, const fp::Env& e, const fp::Value& r) {
  x87_finish(m, e);
  if (!x87_suppressed(e)) x87_set(m, 0, fp::pack80(r));
  return Status::kNext;
}

// Runs f on ST(0) (not empty, not NaN, supported) and writes the result back.
template <class M, class F> inline Status x87_unary(M& m, F&& f) {
  if (!x87_operands_present(m)) return Status::kNext;
  const fp::Value a = fp::unpack(x87_get(m, 0));
  fp::Env e = x87_env(m);
  fp::Value r;
  if (a.cls == fp::Class::kUnsupported) e.flags |= fp::exc::kInvalid, r = fp::default_nan();
  else if (a.is_nan()) r = x87_nan_result(e, a, a);
  else r = f(e, a);
  return x87_write_st0(m, e, r);
}

struct X87Sqrt {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    return x87_unary(m, [](fp::Env& e, const fp::Value& a) { return fp::sqrt(e, fp::kExtended, a); });
  }
};

struct X87RoundInt {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    return x87_unary(m, [](fp::Env& e, const fp::Value& a) {
      if (a.denormal) e.flags |= fp::exc::kDenormal;
      if (e.flags & ~e.masks) return a;
      return fp::round_to_integral(e, a, e.rounding);
    });
  }
};

// FSCALE: ST(0) * 2^trunc(ST(1)), exact but for overflow and underflow.
struct X87Scale {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    if (!x87_operands_present(m, 1)) return Status::kNext;
    const fp::Value a = fp::unpack(x87_get(m, 0)), b = fp::unpack(x87_get(m, 1));
    fp::Env e = x87_env(m);
    e.prec = 64;
    fp::Value r;
    if (a.cls == fp::Class::kUnsupported || b.cls == fp::Class::kUnsupported) {
      e.flags |= fp::exc::kInvalid;
      r = fp::default_nan();
    } else if (a.is_nan() || b.is_nan()) {
      r = x87_nan_result(e, a, b);
    } else if (b.cls == fp::Class::kInf) {
      const bool zero_a = a.cls == fp::Class::kZero, inf_a = a.cls == fp::Class::kInf;
      if ((b.sign && inf_a) || (!b.sign && zero_a)) {
        e.flags |= fp::exc::kInvalid;
        r = fp::default_nan();
      } else {
        if (a.denormal) e.flags |= fp::exc::kDenormal;
        r = b.sign ? fp::zero(a.sign) : fp::infinity(a.sign);
      }
    } else {
      if (a.denormal || b.denormal) e.flags |= fp::exc::kDenormal;
      if (a.cls != fp::Class::kFinite || x87_suppressed(e)) {
        r = a;
      } else {
        // trunc(ST(1)), clamped where the result over- or underflows anyway.
        int32_t n = 0;
        if (b.cls == fp::Class::kFinite && b.exp >= 0) {
          const int64_t mag = b.exp >= 20 ? 1 << 20 : int64_t(b.sig >> (63 - b.exp));
          n = int32_t(b.sign ? -mag : mag);
        }
        r = fp::round_pack(e, fp::kExtended, a.sign, a.exp + n, fp::u128(a.sig) << 64);
      }
    }
    return x87_write_st0(m, e, r);
  }
};

// FXTRACT: ST(0) becomes its exponent, then its significand is pushed.
struct X87Extract {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    if (!x87_replace_and_push_ok(m)) return Status::kNext;
    const fp::Value a = fp::unpack(x87_get(m, 0));
    fp::Env e = x87_env(m);
    fp::Value exponent, significand;
    if (a.cls == fp::Class::kUnsupported) {
      e.flags |= fp::exc::kInvalid;
      exponent = significand = fp::default_nan();
    } else if (a.is_nan()) {
      exponent = significand = x87_nan_result(e, a, a);
    } else if (a.cls == fp::Class::kInf) {
      exponent = fp::infinity(false);
      significand = a;
    } else if (a.cls == fp::Class::kZero) {
      e.flags |= fp::exc::kDivZero;
      exponent = fp::infinity(true);
      significand = a;
    } else {
      if (a.denormal) e.flags |= fp::exc::kDenormal;
      exponent = fp::from_int(a.exp);
      significand = a;
      significand.exp = 0;
      significand.denormal = false;
    }
    x87_set_c1(m, false);
    x87_raise(m, e.flags);
    if (x87_suppressed(e)) return Status::kNext;
    x87_set(m, 0, fp::pack80(exponent));
    x87_push(m, fp::pack80(significand));
    return Status::kNext;
  }
};

// FPREM (quotient truncated) and FPREM1 (IEEE remainder, quotient rounded
// to nearest). When the exponents differ by 64 or more only a partial
// remainder is computed (C2 set): the dividend is reduced by a multiple of
// ST(1) * 2^(D - N), N = 32 + D mod 32.
template <bool Ieee> struct X87Remainder {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(x87_enter(m, d, true, true));
    if (!x87_operands_present(m, 1)) {
      m.s.x87.fsw &= uint16_t(~fsw::kC2);
      return Status::kNext;
    }
    const fp::Value a = fp::unpack(x87_get(m, 0)), b = fp::unpack(x87_get(m, 1));
    fp::Env e = x87_env(m);
    e.prec = 64;
    fp::Value r;
    uint16_t cc = m.s.x87.fsw & (fsw::kC0 | fsw::kC3);  // what a special operand leaves
    if (a.cls == fp::Class::kUnsupported || b.cls == fp::Class::kUnsupported) {
      e.flags |= fp::exc::kInvalid;
      r = fp::default_nan();
    } else if (a.is_nan() || b.is_nan()) {
      r = x87_nan_result(e, a, b);
    } else if (a.cls == fp::Class::kInf || b.cls == fp::Class::kZero) {
      e.flags |= fp::exc::kInvalid;
      r = fp::default_nan();
    } else if (a.cls == fp::Class::kZero || b.cls == fp::Class::kInf) {
      if (a.denormal || b.denormal) e.flags |= fp::exc::kDenormal;
      r = x87_suppressed(e) ? a : fp::round_value(e, fp::kExtended, a);  // a tiny dividend underflows
      cc = 0;  // a complete remainder with quotient 0
    } else if ((a.denormal || b.denormal) && e.stop_on(fp::exc::kDenormal)) {
      r = a;  // unmasked: nothing computed
    } else {
      int32_t diff = a.exp - b.exp;
      bool partial = false;
      int32_t b_exp = b.exp;
      if (diff >= 64) {
        partial = true;
        const int32_t n = 32 + diff % 32;
        b_exp = a.exp - n;
        diff = n;
      }
      bool sign = a.sign;
      fp::u128 rem;
      uint64_t q = 0;
      if (diff < 0) {
        // |a| < |b|: the quotient is 0, or for FPREM1 1 when |a| > |b|/2
        // (only possible when a's exponent is one below b's). The dividend
        // comes back as a result: a tiny one underflows.
        r = fp::round_value(e, fp::kExtended, a);
        if (Ieee && diff == -1 && a.sig > b.sig) {
          // In units of 2^(b.exp - 64): |a| = a.sig, |b| = 2 b.sig.
          rem = (fp::u128(b.sig) << 1) - a.sig;
          sign = !a.sign;
          q = 1;
          r = fp::round_pack(e, fp::kExtended, sign, b.exp - 64 + 127, rem);
        }
      } else {
        const fp::u128 num = fp::u128(a.sig) << diff;
        q = uint64_t(num / b.sig);
        rem = num % b.sig;
        if (Ieee && !partial) {
          const fp::u128 twice = rem << 1;
          if (twice > b.sig || (twice == b.sig && (q & 1))) {
            rem = b.sig - rem;
            sign = !sign;
            ++q;
          }
        }
        r = rem == 0 ? fp::zero(a.sign) : fp::round_pack(e, fp::kExtended, sign, b_exp - 63 + 127, rem);
      }
      if (partial) cc = fsw::kC2;
      else cc = uint16_t((q & 4 ? fsw::kC0 : 0) | (q & 2 ? fsw::kC3 : 0) | (q & 1 ? fsw::kC1 : 0));
    }
    x87_raise(m, e.flags);
    if (x87_suppressed(e)) {  // ST(0) kept: C1 and C2 cleared, C0 and C3 kept (host)
      x87_set_cc(m, m.s.x87.fsw & (fsw::kC0 | fsw::kC3));
      return Status::kNext;
    }
    x87_set_cc(m, cc);
    x87_set(m, 0, fp::pack80(r));
    return Status::kNext;
  }
};

}  // namespace rwd::tcg
