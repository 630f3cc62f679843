// The binding of every form of x86_forms.inc to its semantics, for any machine
// type M (the interpreter's InterpCpu, the JIT's bitcode glue). The SEM column
// of each row is an expression evaluated in Bind<M>::handler; it picks, from
// the decoded instruction, the instantiation for the operand size and for a
// register or memory operand, so a tier dispatches with one call and no
// switch. Part of the semantics dialect: templates and <cstdint> only.
#pragma once

#include "tcg-llvm/decoder/x86_form_info.h"
#include "tcg-llvm/semantics/alu.h"
#include "tcg-llvm/semantics/bits.h"
#include "tcg-llvm/semantics/control.h"
#include "tcg-llvm/semantics/muldiv.h"
#include "tcg-llvm/semantics/segment.h"
#include "tcg-llvm/semantics/shift.h"
#include "tcg-llvm/semantics/simd_int.h"
#include "tcg-llvm/semantics/simd_move.h"
#include "tcg-llvm/semantics/simd_string.h"
#include "tcg-llvm/semantics/sse_fp.h"
#include "tcg-llvm/semantics/stack.h"
#include "tcg-llvm/semantics/string.h"
#include "tcg-llvm/semantics/system.h"
#include "tcg-llvm/semantics/xsave.h"
#include "tcg-llvm/semantics/x87_arith.h"
#include "tcg-llvm/semantics/x87_control.h"
#include "tcg-llvm/semantics/x87_transcendental.h"

namespace rwd::tcg {

// Shape adaptors for the SEM column: they fix the leading template parameters
// of a semantics template so that v/vm/bm can supply the size and operand kind.
template <class Op> struct Alu {
  template <unsigned N, bool M> using EG = AluEG<Op, N, M>;
  template <unsigned N, bool M> using GE = AluGE<Op, N, M>;
  template <unsigned N, bool M> using EI = AluEI<Op, N, M>;
  template <unsigned N> using AccI = AluAccI<Op, N>;
  template <unsigned N, bool M> using Un = UnaryE<Op, N, M>;
  template <unsigned N> using UnZ = UnaryZ<Op, N>;
};
template <class Op, CountFrom C> struct Sh {
  template <unsigned N, bool M> using E = ShiftE<Op, N, M, C>;
};
template <bool Signed> struct Mul {
  template <unsigned N, bool M> using E = MulE<N, M, Signed>;
  template <unsigned N, bool M> using D = DivE<N, M, Signed>;
};
template <bool Imm> struct Imul {
  template <unsigned N, bool M> using E = ImulGE<N, M, Imm>;
};
template <unsigned NS, bool Signed> struct Ext {
  template <unsigned N, bool M> using E = MovExt<N, NS, M, Signed>;
};
template <BitOp Op, bool Imm> struct Bt {
  template <unsigned N, bool M> using E = BitTest<Op, N, M, Imm>;
};
template <ScanOp Op> struct Scan {
  template <unsigned N, bool M> using E = BitScan<Op, N, M>;
};
template <bool Left, bool Cl> struct Shd {
  template <unsigned N, bool M> using E = ShiftDouble<N, M, Left, Cl>;
};
template <StrOp Op> struct Str {
  template <unsigned N> using E = StringOp<Op, N>;
};
template <bool Store> struct Moffs {
  template <unsigned N> using E = MovMoffs<N, Store>;
};
template <bool Load> struct Mbe {
  template <unsigned N> using E = Movbe<N, Load>;
};
template <DescQuery Q> struct Dq {
  template <bool M> using E = DescriptorQuery<Q, M>;
};
template <class Op, bool Xmm> struct Pk {
  template <bool M> using E = PackedBinary<Op, Xmm, M>;
};
template <ShufKind K> struct Shf {
  template <bool M> using E = PShufImm<K, M>;
};
template <bool Xmm, bool Store, bool Aligned> struct Mv {
  template <bool M> using E = VecMove<Xmm, M, Store, Aligned>;
};
template <bool Xmm, bool ToVec> struct Md {
  template <unsigned N, bool M> using E = MovdGpr<Xmm, N, M, ToVec>;
};
template <bool Store> struct Mq {
  template <bool M> using E = MovqXmm<M, Store>;
};
template <unsigned N, bool Store> struct Ms {
  template <bool M> using E = MovScalar<N, M, Store>;
};
template <DupKind K> struct Dup {
  template <bool M> using E = MovDup<K, M>;
};
template <bool Byte> struct Crc {
  template <bool M> using E = Crc32<Byte, M>;
};
template <unsigned L> struct Pex {
  template <bool M> using E = PExtr<L, M>;
};
template <unsigned L, bool Xmm> struct Pins {
  template <bool M> using E = PInsr<L, Xmm, M>;
};
template <unsigned L> struct Bv {
  template <bool M> using E = BlendV<L, M>;
};
template <unsigned From, unsigned To, bool Signed> struct Pmx {
  template <bool M> using E = PMovX<From, To, Signed, M>;
};

template <SseOp Op, unsigned L, bool Packed> struct Fa {
  template <bool M> using E = SseArith<Op, L, Packed, M>;
};
template <SsePairKind K, unsigned L> struct Pr {
  template <bool M> using E = SsePairs<K, L, M>;
};
template <unsigned L, bool Packed> struct FCmp {
  template <bool M> using E = SseCmp<L, Packed, M>;
};
template <unsigned L, bool Quiet> struct Comi {
  template <bool M> using E = SseComi<L, Quiet, M>;
};
template <CvtKind K> struct Cv {
  template <bool M> using E = SseConvert<K, M>;
};
template <CvtMmxKind K> struct CvM {
  template <bool M> using E = SseConvertMmx<K, M>;
};
template <unsigned L, bool Packed> struct Rnd {
  template <bool M> using E = SseRound<L, Packed, M>;
};
template <bool Sqrt, bool Packed> struct Apx {
  template <bool M> using E = SseApprox<Sqrt, Packed, M>;
};
template <unsigned L> struct Dpp {
  template <bool M> using E = SseDot<L, M>;
};
template <bool Explicit, bool Index> struct Pcs {
  template <bool M> using E = StringCompare<Explicit, Index, M>;
};
template <unsigned L> struct CvIS {
  template <unsigned N, bool M> using E = CvtIntToScalar<L, N, M>;
};
template <unsigned L, bool Truncate> struct CvSI {
  template <unsigned N, bool M> using E = CvtScalarToInt<L, N, Truncate, M>;
};

// What a form without semantics does: warn (once per form) and raise #UD.
struct Unimplemented {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    m.unimplemented(d);
    return raise(m, vec::kUd);
  }
};

template <class M> struct Bind {
  using Handler = Status (*)(M&, const DecodedInsn&);
  static constexpr Handler kNoSem = nullptr;

  template <class T> static constexpr Handler h() { return &T::template run<M>; }
  // By operand size (2/4/8) and register/memory operand.
  template <template <unsigned, bool> class T> static Handler vm(const DecodedInsn& d) {
    bool mem = d.is_mem();
    switch (d.op_size) {
      case 2: return mem ? h<T<2, true>>() : h<T<2, false>>();
      case 4: return mem ? h<T<4, true>>() : h<T<4, false>>();
      default: return mem ? h<T<8, true>>() : h<T<8, false>>();
    }
  }
  // Byte operand, register or memory.
  template <template <unsigned, bool> class T> static Handler bm(const DecodedInsn& d) {
    return d.is_mem() ? h<T<1, true>>() : h<T<1, false>>();
  }
  // By operand size alone.
  template <template <unsigned> class T> static Handler v(const DecodedInsn& d) {
    switch (d.op_size) {
      case 1: return h<T<1>>();
      case 2: return h<T<2>>();
      case 4: return h<T<4>>();
      default: return h<T<8>>();
    }
  }
  // By register/memory operand alone.
  template <template <bool> class T> static Handler m(const DecodedInsn& d) {
    return d.is_mem() ? h<T<true>>() : h<T<false>>();
  }
  // Jcc by the condition in the opcode's low nibble.
  static Handler jcc(const DecodedInsn& d) {
    switch (d.opcode & 15) {
      case 0: return h<JccJ<0>>();
      case 1: return h<JccJ<1>>();
      case 2: return h<JccJ<2>>();
      case 3: return h<JccJ<3>>();
      case 4: return h<JccJ<4>>();
      case 5: return h<JccJ<5>>();
      case 6: return h<JccJ<6>>();
      case 7: return h<JccJ<7>>();
      case 8: return h<JccJ<8>>();
      case 9: return h<JccJ<9>>();
      case 10: return h<JccJ<10>>();
      case 11: return h<JccJ<11>>();
      case 12: return h<JccJ<12>>();
      case 13: return h<JccJ<13>>();
      case 14: return h<JccJ<14>>();
      default: return h<JccJ<15>>();
    }
  }

  // The handler of a decoded instruction, or kNoSem when its form has no
  // semantics.
  static Handler handler(const DecodedInsn& d) {
    switch (d.form) {
#define X86_FORM(name, map, opc, modrm, pfx, modc, osz, imm, flags, ...) \
  case Form::name:                                                      \
    return __VA_ARGS__;
#include "tcg-llvm/decoder/x86_forms.inc"
#undef X86_FORM
      default: return kNoSem;
    }
  }
};

// Whether a form ends its block (a branch, or a change the main loop or the
// block cache must see before the next instruction).
constexpr bool form_ends_block(Form f) { return form_info(f).flags & (x86_col::Br | x86_col::End); }

}  // namespace rwd::tcg
