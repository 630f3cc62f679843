// Integer ALU semantics: the eight classic binary operations and TEST, INC/DEC/
// NEG/NOT, MOV and its extending forms, LEA, exchanges, sign-extension of the
// accumulator, SETcc/CMOVcc and the flag instructions.
//
// Fixed values for undefined flags: logic ops clear AF.
#pragma once

#include "tcg-llvm/semantics/flags.h"
#include "tcg-llvm/semantics/operands.h"

namespace rwd::tcg {

// ---- binary operations: calc(flags in/out, a, b) -> result ------------------

struct OpAdd {
  static constexpr bool kStore = true;
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a, U<N> b) {
    U<N> r = U<N>(a + b);
    f = (f & ~fl::kArith) | flags_add_nc<N>(a, b, r);
    return r;
  }
};
struct OpAdc {
  static constexpr bool kStore = true;
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a, U<N> b) {
    U<N> r = U<N>(a + b + (f & fl::kCf));
    f = (f & ~fl::kArith) | flags_add<N>(a, b, r);
    return r;
  }
};
struct OpSub {
  static constexpr bool kStore = true;
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a, U<N> b) {
    U<N> r = U<N>(a - b);
    f = (f & ~fl::kArith) | flags_sub_nc<N>(a, b, r);
    return r;
  }
};
struct OpSbb {
  static constexpr bool kStore = true;
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a, U<N> b) {
    U<N> r = U<N>(a - b - (f & fl::kCf));
    f = (f & ~fl::kArith) | flags_sub<N>(a, b, r);
    return r;
  }
};
struct OpCmp {
  static constexpr bool kStore = false;
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a, U<N> b) {
    return OpSub::calc<N>(f, a, b);
  }
};
struct OpAnd {
  static constexpr bool kStore = true;
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a, U<N> b) {
    U<N> r = a & b;
    f = (f & ~fl::kArith) | flags_logic<N>(r);
    return r;
  }
};
struct OpOr {
  static constexpr bool kStore = true;
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a, U<N> b) {
    U<N> r = a | b;
    f = (f & ~fl::kArith) | flags_logic<N>(r);
    return r;
  }
};
struct OpXor {
  static constexpr bool kStore = true;
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a, U<N> b) {
    U<N> r = a ^ b;
    f = (f & ~fl::kArith) | flags_logic<N>(r);
    return r;
  }
};
struct OpTest {
  static constexpr bool kStore = false;
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a, U<N> b) {
    return OpAnd::calc<N>(f, a, b);
  }
};

// op r/m, reg
template <class Op, unsigned N, bool Mem> struct AluEG {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<N, Mem> dst(m, d);
    U<N> a;
    if constexpr (Op::kStore) RWD_TRY(dst.read_rmw(m, d, a));
    else RWD_TRY(dst.read(m, d, a));
    uint64_t f = m.s.rflags;
    U<N> r = Op::template calc<N>(f, a, get_reg<N>(m, d, d.reg));
    if constexpr (Op::kStore) RWD_TRY(dst.write(m, d, r));
    m.s.rflags = f;
    return Status::kNext;
  }
};
// op reg, r/m
template <class Op, unsigned N, bool Mem> struct AluGE {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<N, Mem> src(m, d);
    U<N> b;
    RWD_TRY(src.read(m, d, b));
    uint64_t f = m.s.rflags;
    U<N> r = Op::template calc<N>(f, get_reg<N>(m, d, d.reg), b);
    if constexpr (Op::kStore) set_reg<N>(m, d, d.reg, r);
    m.s.rflags = f;
    return Status::kNext;
  }
};
// op r/m, imm
template <class Op, unsigned N, bool Mem> struct AluEI {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<N, Mem> dst(m, d);
    U<N> a;
    if constexpr (Op::kStore) RWD_TRY(dst.read_rmw(m, d, a));
    else RWD_TRY(dst.read(m, d, a));
    uint64_t f = m.s.rflags;
    U<N> r = Op::template calc<N>(f, a, U<N>(d.imm));
    if constexpr (Op::kStore) RWD_TRY(dst.write(m, d, r));
    m.s.rflags = f;
    return Status::kNext;
  }
};
// op AL/AX/EAX/RAX, imm
template <class Op, unsigned N> struct AluAccI {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    uint64_t f = m.s.rflags;
    U<N> r = Op::template calc<N>(f, U<N>(m.s.gpr[core::kRax]), U<N>(d.imm));
    if constexpr (Op::kStore) set_reg<N>(m, d, core::kRax, r);
    m.s.rflags = f;
    return Status::kNext;
  }
};

// ---- unary operations -------------------------------------------------------

struct OpInc {  // CF is preserved
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a) {
    U<N> r = U<N>(a + 1);
    f = (f & ~(fl::kArith & ~fl::kCf)) | (flags_add_nc<N>(a, 1, r) & ~fl::kCf);
    return r;
  }
};
struct OpDec {  // CF is preserved
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a) {
    U<N> r = U<N>(a - 1);
    f = (f & ~(fl::kArith & ~fl::kCf)) | (flags_sub_nc<N>(a, 1, r) & ~fl::kCf);
    return r;
  }
};
struct OpNeg {
  template <unsigned N> static U<N> calc(uint64_t& f, U<N> a) {
    U<N> r = U<N>(U<N>(0) - a);
    f = (f & ~fl::kArith) | flags_sub<N>(0, a, r);
    return r;
  }
};
struct OpNot {
  template <unsigned N> static U<N> calc(uint64_t&, U<N> a) { return U<N>(~a); }
};

template <class Op, unsigned N, bool Mem> struct UnaryE {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<N, Mem> dst(m, d);
    U<N> a;
    RWD_TRY(dst.read_rmw(m, d, a));
    uint64_t f = m.s.rflags;
    U<N> r = Op::template calc<N>(f, a);
    RWD_TRY(dst.write(m, d, r));
    m.s.rflags = f;
    return Status::kNext;
  }
};
// INC/DEC with the register in the opcode (40+r / 48+r outside 64-bit mode).
template <class Op, unsigned N> struct UnaryZ {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    uint64_t f = m.s.rflags;
    set_reg<N>(m, d, d.reg, Op::template calc<N>(f, get_reg<N>(m, d, d.reg)));
    m.s.rflags = f;
    return Status::kNext;
  }
};

// ---- moves ------------------------------------------------------------------

template <unsigned N, bool Mem> struct MovEG {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<N, Mem> dst(m, d);
    RWD_TRY(dst.write(m, d, get_reg<N>(m, d, d.reg)));
    return Status::kNext;
  }
};
template <unsigned N, bool Mem> struct MovGE {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<N, Mem> src(m, d);
    U<N> v;
    RWD_TRY(src.read(m, d, v));
    set_reg<N>(m, d, d.reg, v);
    return Status::kNext;
  }
};
template <unsigned N, bool Mem> struct MovEI {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<N, Mem> dst(m, d);
    RWD_TRY(dst.write(m, d, U<N>(d.imm)));
    return Status::kNext;
  }
};
// MOV reg, imm with the register in the opcode (B0+r, B8+r).
template <unsigned N> struct MovZI {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    set_reg<N>(m, d, d.reg, U<N>(d.imm));
    return Status::kNext;
  }
};
// MOV accumulator <-> moffs (A0-A3): the offset is in disp.
template <unsigned N, bool Store> struct MovMoffs {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    int seg = d.seg == SegOverride::kNone ? kSegDs : static_cast<int>(d.seg);
    uint64_t off = static_cast<uint64_t>(d.disp) & size_mask(d.addr_size);
    if constexpr (Store) {
      RWD_TRY(m.template write<N>(seg, off, U<N>(m.s.gpr[core::kRax])));
    } else {
      U<N> v;
      RWD_TRY(m.template read<N>(seg, off, v));
      set_reg<N>(m, d, core::kRax, v);
    }
    return Status::kNext;
  }
};
// MOVZX / MOVSX / MOVSXD: ND-byte destination from an NS-byte source.
template <unsigned ND, unsigned NS, bool Mem, bool Signed> struct MovExt {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<NS, Mem> src(m, d);
    U<NS> v;
    RWD_TRY(src.read(m, d, v));
    uint64_t x = Signed ? sext<NS>(v) : uint64_t(v);
    set_reg<ND>(m, d, d.reg, U<ND>(x));
    return Status::kNext;
  }
};
template <unsigned N> struct Lea {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    set_reg<N>(m, d, d.reg, U<N>(effective_address(m, d)));
    return Status::kNext;
  }
};

// ---- exchanges --------------------------------------------------------------

template <unsigned N, bool Mem> struct XchgEG {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<N, Mem> e(m, d);
    U<N> a;
    RWD_TRY(e.read_rmw(m, d, a));
    RWD_TRY(e.write(m, d, get_reg<N>(m, d, d.reg)));
    set_reg<N>(m, d, d.reg, a);
    return Status::kNext;
  }
};
// XCHG rAX, reg (90+r).
template <unsigned N> struct XchgAccZ {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    U<N> a = get_reg<N>(m, d, core::kRax);
    set_reg<N>(m, d, core::kRax, get_reg<N>(m, d, d.reg));
    set_reg<N>(m, d, d.reg, a);
    return Status::kNext;
  }
};
template <unsigned N, bool Mem> struct XaddEG {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<N, Mem> e(m, d);
    U<N> a;
    RWD_TRY(e.read_rmw(m, d, a));
    U<N> b = get_reg<N>(m, d, d.reg);
    uint64_t f = m.s.rflags;
    U<N> r = OpAdd::calc<N>(f, a, b);
    if constexpr (Mem) {
      RWD_TRY(e.write(m, d, r));
      set_reg<N>(m, d, d.reg, a);
    } else {
      set_reg<N>(m, d, d.reg, a);  // then the destination: XADD r, r leaves the sum
      RWD_TRY(e.write(m, d, r));
    }
    m.s.rflags = f;
    return Status::kNext;
  }
};
template <unsigned N, bool Mem> struct CmpxchgEG {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<N, Mem> e(m, d);
    U<N> cur;
    RWD_TRY(e.read_rmw(m, d, cur));
    U<N> acc = get_reg<N>(m, d, core::kRax);
    uint64_t f = m.s.rflags;
    OpCmp::calc<N>(f, acc, cur);
    if (acc == cur) {
      RWD_TRY(e.write(m, d, get_reg<N>(m, d, d.reg)));
    } else {
      // A memory destination is written back unchanged (a locked RMW); a
      // register destination is left alone (its upper half too).
      if constexpr (Mem) RWD_TRY(e.write(m, d, cur));
      set_reg<N>(m, d, core::kRax, cur);
    }
    m.s.rflags = f;
    return Status::kNext;
  }
};
// CMPXCHG8B m64 / CMPXCHG16B m128 (REX.W): only ZF changes. The operand
// is a read-modify-write destination: a fault reading it is the write's.
struct Cmpxchg8b {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (!d.is_mem()) return raise(m, vec::kUd);
    uint64_t off = effective_address(m, d);
    int seg = operand_segment(d);
    auto& g = m.s.gpr;
    if (d.op_size == 8) {
      // The alignment #GP comes before the segment checks (as on the host).
      if (m.linear_address(seg, off) & 15) return raise_err(m, vec::kGp, 0);
      const uint64_t off_hi = (off + 8) & size_mask(d.addr_size);
      uint64_t lo, hi;
      RWD_TRY(m.template read_rmw<8>(seg, off, lo));
      RWD_TRY(m.template read_rmw<8>(seg, off_hi, hi));
      bool eq = lo == g[core::kRax] && hi == g[core::kRdx];
      RWD_TRY(m.template write<8>(seg, off, eq ? g[core::kRbx] : lo));
      RWD_TRY(m.template write<8>(seg, off_hi, eq ? g[core::kRcx] : hi));
      if (!eq) { g[core::kRax] = lo; g[core::kRdx] = hi; }
      set_flags(m.s, fl::kZf, eq ? fl::kZf : 0);
    } else {
      uint64_t v;
      RWD_TRY(m.template read_rmw<8>(seg, off, v));
      uint64_t cmp = (g[core::kRdx] << 32) | (g[core::kRax] & 0xffffffffull);
      bool eq = v == cmp;
      uint64_t nv = eq ? ((g[core::kRcx] << 32) | (g[core::kRbx] & 0xffffffffull)) : v;
      RWD_TRY(m.template write<8>(seg, off, nv));
      if (!eq) { g[core::kRax] = v & 0xffffffffull; g[core::kRdx] = v >> 32; }
      set_flags(m.s, fl::kZf, eq ? fl::kZf : 0);
    }
    return Status::kNext;
  }
};

// ---- accumulator sign extension ---------------------------------------------

// CBW / CWDE / CDQE by operand size.
struct Cbw {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    uint64_t a = m.s.gpr[core::kRax];
    set_reg_n(m, core::kRax, d.op_size, sext_n(a, d.op_size / 2));
    return Status::kNext;
  }
};
// CWD / CDQ / CQO: rDX = sign of rAX.
struct Cwd {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    unsigned n = d.op_size;
    uint64_t a = get_reg_n(m, core::kRax, n);
    bool neg = (a >> (n * 8 - 1)) & 1;
    set_reg_n(m, core::kRdx, n, neg ? ~0ull : 0);
    return Status::kNext;
  }
};

// ---- conditions -------------------------------------------------------------

template <bool Mem> struct Setcc {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<1, Mem> dst(m, d);
    RWD_TRY(dst.write(m, d, condition(m.s.rflags, d.opcode & 0xf) ? 1 : 0));
    return Status::kNext;
  }
};
template <unsigned N, bool Mem> struct Cmovcc {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<N, Mem> src(m, d);
    U<N> v;
    RWD_TRY(src.read(m, d, v));  // the source is read (and may fault) either way
    if (condition(m.s.rflags, d.opcode & 0xf)) set_reg<N>(m, d, d.reg, v);
    else if constexpr (N == 4) set_reg<4>(m, d, d.reg, U<4>(m.s.gpr[d.reg]));  // zero-extends anyway
    return Status::kNext;
  }
};

// ---- flag instructions ------------------------------------------------------

struct Lahf {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    // Always AH, even with a REX prefix.
    uint64_t& a = m.s.gpr[core::kRax];
    a = (a & ~0xff00ull) | (((m.s.rflags & 0xd5) | fl::kFixed1) << 8);
    return Status::kNext;
  }
};
struct Sahf {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    set_flags(m.s, 0xd5, (m.s.gpr[core::kRax] >> 8) & 0xd5);
    return Status::kNext;
  }
};
template <uint64_t Mask, uint64_t Set, bool Toggle> struct FlagOp {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    if constexpr (Toggle) m.s.rflags ^= Mask;
    else m.s.rflags = (m.s.rflags & ~Mask) | Set;
    return Status::kNext;
  }
};
using Clc = FlagOp<fl::kCf, 0, false>;
using Stc = FlagOp<fl::kCf, fl::kCf, false>;
using Cmc = FlagOp<fl::kCf, 0, true>;
using Cld = FlagOp<fl::kDf, 0, false>;
using Std = FlagOp<fl::kDf, fl::kDf, false>;

// BSWAP reg (0F C8+r). With a 16-bit operand the result is undefined; rewind
// writes 0 (what current silicon does).
template <unsigned N> struct Bswap {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if constexpr (N == 2) set_reg<2>(m, d, d.reg, 0);
    else if constexpr (N == 4) set_reg<4>(m, d, d.reg, __builtin_bswap32(U<4>(m.s.gpr[d.reg])));
    else set_reg<8>(m, d, d.reg, __builtin_bswap64(m.s.gpr[d.reg]));
    return Status::kNext;
  }
};

template <unsigned N> inline U<N> byte_swap(U<N> v) {
  if constexpr (N == 2) return __builtin_bswap16(v);
  else if constexpr (N == 4) return __builtin_bswap32(v);
  else return __builtin_bswap64(v);
}

// MOVBE r, m / MOVBE m, r (0F 38 F0/F1): a move that reverses the bytes.
template <unsigned N, bool Load> struct Movbe {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    uint64_t off = effective_address(m, d);
    int seg = operand_segment(d);
    if constexpr (Load) {
      U<N> v;
      RWD_TRY(m.template read<N>(seg, off, v));
      set_reg<N>(m, d, d.reg, byte_swap<N>(v));
    } else {
      RWD_TRY(m.template write<N>(seg, off, byte_swap<N>(get_reg<N>(m, d, d.reg))));
    }
    return Status::kNext;
  }
};

struct Nop {
  template <class M> static Status run(M&, const DecodedInsn&) { return Status::kNext; }
};

// PAUSE: a NOP that says the vCPU spins waiting for another. With vCPUs
// taking turns, spinning on through the turn could never see the other's
// progress (a lock released and re-taken between two turn ends stays
// taken forever), so the turn ends after it, as in QEMU's round-robin TCG.
struct Pause {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    m.spin_wait_hint();
    return Status::kNext;
  }
};

// CLFLUSH / CLFLUSHOPT / CLWB m8: no caches are modelled, but the operand is
// checked like a byte load (segment, page, privilege), as the SDM says;
// never alignment-checked.
struct CacheLineOp {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(m.check_read(operand_segment(d), effective_address(m, d), 1));
    return Status::kNext;
  }
};

}  // namespace rwd::tcg
