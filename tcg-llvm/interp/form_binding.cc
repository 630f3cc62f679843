#include "tcg-llvm/interp/form_binding.h"

#include <array>
#include <utility>

#include "tcg-llvm/decoder/x86_form_info.h"
#include "tcg-llvm/interp/interp_cpu.h"
#include "tcg-llvm/semantics/alu.h"
#include "tcg-llvm/semantics/bits.h"
#include "tcg-llvm/semantics/control.h"
#include "tcg-llvm/semantics/muldiv.h"
#include "tcg-llvm/semantics/segment.h"
#include "tcg-llvm/semantics/shift.h"
#include "tcg-llvm/semantics/stack.h"
#include "tcg-llvm/semantics/string.h"
#include "tcg-llvm/semantics/system.h"

namespace rwd::tcg {

namespace {

template <class T> constexpr Handler h() { return &T::template run<InterpCpu>; }

// Operand-size (2/4/8) x register/memory.
template <template <unsigned, bool> class S> Handler vm(const DecodedInsn& d) {
  bool m = d.is_mem();
  switch (d.op_size) {
    case 2: return m ? h<S<2, true>>() : h<S<2, false>>();
    case 4: return m ? h<S<4, true>>() : h<S<4, false>>();
    default: return m ? h<S<8, true>>() : h<S<8, false>>();
  }
}
template <template <unsigned, bool> class S> Handler bm(const DecodedInsn& d) {
  return d.is_mem() ? h<S<1, true>>() : h<S<1, false>>();
}
template <template <unsigned> class S> Handler v(const DecodedInsn& d) {
  switch (d.op_size) {
    case 1: return h<S<1>>();
    case 2: return h<S<2>>();
    case 4: return h<S<4>>();
    default: return h<S<8>>();
  }
}
template <template <bool> class S> Handler m(const DecodedInsn& d) {
  return d.is_mem() ? h<S<true>>() : h<S<false>>();
}

// Shape adaptors binding the leading template parameters.
// Jcc by condition code.
template <unsigned... Cc> Handler jcc_for(unsigned cc, std::integer_sequence<unsigned, Cc...>) {
  static constexpr Handler kTable[] = {h<JccJ<Cc>>()...};
  return kTable[cc & 15];
}
Handler jcc(const DecodedInsn& d) { return jcc_for(d.opcode & 15, std::make_integer_sequence<unsigned, 16>()); }

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
template <bool Dx> struct Io {
  template <unsigned N> using In_ = In<N, Dx>;
  template <unsigned N> using Out_ = Out<N, Dx>;
};
template <bool Store> struct Moffs {
  template <unsigned N> using E = MovMoffs<N, Store>;
};

struct Unimplemented {
  template <class M> static Status run(M& mm, const DecodedInsn& d) {
    mm.unimplemented(d);
    return raise(mm, vec::kUd);
  }
};

using Binder = Handler (*)(const DecodedInsn&, DecodeMode);
struct Row {
  Binder bind = nullptr;
  bool ends_block = false;
};

std::array<Row, size_t(Form::kCount)> build_table() {
  std::array<Row, size_t(Form::kCount)> t{};
#define B(form, ...) t[size_t(Form::form)] = Row{[](const DecodedInsn& d, DecodeMode mode) -> Handler { (void)d; (void)mode; return __VA_ARGS__; }, false}
#define BE(form, ...) t[size_t(Form::form)] = Row{[](const DecodedInsn& d, DecodeMode mode) -> Handler { (void)d; (void)mode; return __VA_ARGS__; }, true}
#define ALU(NAME, OP)                                         \
  B(NAME##_Eb_Gb, bm<Alu<OP>::EG>(d));                        \
  B(NAME##_Ev_Gv, vm<Alu<OP>::EG>(d));                        \
  B(NAME##_Gb_Eb, bm<Alu<OP>::GE>(d));                        \
  B(NAME##_Gv_Ev, vm<Alu<OP>::GE>(d));                        \
  B(NAME##_AL_Ib, h<AluAccI<OP, 1>>());                       \
  B(NAME##_rAX_Iz, v<Alu<OP>::AccI>(d));                      \
  B(NAME##_Eb_Ib, bm<Alu<OP>::EI>(d));                        \
  B(NAME##_Ev_Iz, vm<Alu<OP>::EI>(d));                        \
  B(NAME##_Ev_Ibs, vm<Alu<OP>::EI>(d))
  ALU(ADD, OpAdd);
  ALU(OR, OpOr);
  ALU(ADC, OpAdc);
  ALU(SBB, OpSbb);
  ALU(AND, OpAnd);
  ALU(SUB, OpSub);
  ALU(XOR, OpXor);
  ALU(CMP, OpCmp);
#undef ALU
  B(TEST_Eb_Gb, bm<Alu<OpTest>::EG>(d));
  B(TEST_Ev_Gv, vm<Alu<OpTest>::EG>(d));
  B(TEST_AL_Ib, h<AluAccI<OpTest, 1>>());
  B(TEST_rAX_Iz, v<Alu<OpTest>::AccI>(d));
  B(TEST_Eb_Ib, bm<Alu<OpTest>::EI>(d));
  B(TEST_Ev_Iz, vm<Alu<OpTest>::EI>(d));
  B(INC_Zv, v<Alu<OpInc>::UnZ>(d));
  B(DEC_Zv, v<Alu<OpDec>::UnZ>(d));
  B(INC_Eb, bm<Alu<OpInc>::Un>(d));
  B(DEC_Eb, bm<Alu<OpDec>::Un>(d));
  B(INC_Ev, vm<Alu<OpInc>::Un>(d));
  B(DEC_Ev, vm<Alu<OpDec>::Un>(d));
  B(NOT_Eb, bm<Alu<OpNot>::Un>(d));
  B(NEG_Eb, bm<Alu<OpNeg>::Un>(d));
  B(NOT_Ev, vm<Alu<OpNot>::Un>(d));
  B(NEG_Ev, vm<Alu<OpNeg>::Un>(d));
  B(MUL_Eb, bm<Mul<false>::E>(d));
  B(IMUL_Eb, bm<Mul<true>::E>(d));
  B(DIV_Eb, bm<Mul<false>::D>(d));
  B(IDIV_Eb, bm<Mul<true>::D>(d));
  B(MUL_Ev, vm<Mul<false>::E>(d));
  B(IMUL_Ev, vm<Mul<true>::E>(d));
  B(DIV_Ev, vm<Mul<false>::D>(d));
  B(IDIV_Ev, vm<Mul<true>::D>(d));
  B(IMUL_Gv_Ev, vm<Imul<false>::E>(d));
  B(IMUL_Gv_Ev_Iz, vm<Imul<true>::E>(d));
  B(IMUL_Gv_Ev_Ibs, vm<Imul<true>::E>(d));

  // Shifts and rotates.
#define SHIFTS(NAME, OP)                                        \
  B(NAME##_Eb_Ib, bm<Sh<OP, CountFrom::kImm>::E>(d));           \
  B(NAME##_Ev_Ib, vm<Sh<OP, CountFrom::kImm>::E>(d));           \
  B(NAME##_Eb_1, bm<Sh<OP, CountFrom::kOne>::E>(d));            \
  B(NAME##_Ev_1, vm<Sh<OP, CountFrom::kOne>::E>(d));            \
  B(NAME##_Eb_CL, bm<Sh<OP, CountFrom::kCl>::E>(d));            \
  B(NAME##_Ev_CL, vm<Sh<OP, CountFrom::kCl>::E>(d))
  SHIFTS(ROL, OpRol);
  SHIFTS(ROR, OpRor);
  SHIFTS(RCL, OpRcl);
  SHIFTS(RCR, OpRcr);
  SHIFTS(SHL, OpShl);
  SHIFTS(SHR, OpShr);
  SHIFTS(SAR, OpSar);
#undef SHIFTS
  B(SHLD_Ev_Gv_Ib, vm<Shd<true, false>::E>(d));
  B(SHLD_Ev_Gv_CL, vm<Shd<true, true>::E>(d));
  B(SHRD_Ev_Gv_Ib, vm<Shd<false, false>::E>(d));
  B(SHRD_Ev_Gv_CL, vm<Shd<false, true>::E>(d));

  // Bits.
  B(BT_Ev_Gv, vm<Bt<BitOp::kTest, false>::E>(d));
  B(BTS_Ev_Gv, vm<Bt<BitOp::kSet, false>::E>(d));
  B(BTR_Ev_Gv, vm<Bt<BitOp::kReset, false>::E>(d));
  B(BTC_Ev_Gv, vm<Bt<BitOp::kComplement, false>::E>(d));
  B(BT_Ev_Ib, vm<Bt<BitOp::kTest, true>::E>(d));
  B(BTS_Ev_Ib, vm<Bt<BitOp::kSet, true>::E>(d));
  B(BTR_Ev_Ib, vm<Bt<BitOp::kReset, true>::E>(d));
  B(BTC_Ev_Ib, vm<Bt<BitOp::kComplement, true>::E>(d));
  B(BSF_Gv_Ev, vm<Scan<ScanOp::kBsf>::E>(d));
  B(BSR_Gv_Ev, vm<Scan<ScanOp::kBsr>::E>(d));
  B(TZCNT_Gv_Ev, vm<Scan<ScanOp::kTzcnt>::E>(d));
  B(LZCNT_Gv_Ev, vm<Scan<ScanOp::kLzcnt>::E>(d));
  B(POPCNT_Gv_Ev, vm<Scan<ScanOp::kPopcnt>::E>(d));
  B(BSWAP_Zv, v<Bswap>(d));

  // Moves and exchanges.
  B(MOV_Eb_Gb, bm<MovEG>(d));
  B(MOV_Ev_Gv, vm<MovEG>(d));
  B(MOV_Gb_Eb, bm<MovGE>(d));
  B(MOV_Gv_Ev, vm<MovGE>(d));
  B(MOV_Eb_Ib, bm<MovEI>(d));
  B(MOV_Ev_Iz, vm<MovEI>(d));
  B(MOV_Zb_Ib, h<MovZI<1>>());
  B(MOV_Zv_Iv, v<MovZI>(d));
  B(MOV_AL_Ob, h<MovMoffs<1, false>>());
  B(MOV_Ob_AL, h<MovMoffs<1, true>>());
  B(MOV_rAX_Ov, v<Moffs<false>::E>(d));
  B(MOV_Ov_rAX, v<Moffs<true>::E>(d));
  B(MOVZX_Gv_Eb, vm<Ext<1, false>::E>(d));
  B(MOVZX_Gv_Ew, vm<Ext<2, false>::E>(d));
  B(MOVSX_Gv_Eb, vm<Ext<1, true>::E>(d));
  B(MOVSX_Gv_Ew, vm<Ext<2, true>::E>(d));
  B(MOVSXD_Gv_Ed, d.op_size == 8 ? vm<Ext<4, true>::E>(d) : vm<MovGE>(d));
  B(LEA_Gv_M, d.is_mem() ? v<Lea>(d) : h<Ud>());
  B(XCHG_Eb_Gb, bm<XchgEG>(d));
  B(XCHG_Ev_Gv, vm<XchgEG>(d));
  B(XCHG_Zv_rAX, v<XchgAccZ>(d));
  B(XADD_Eb_Gb, bm<XaddEG>(d));
  B(XADD_Ev_Gv, vm<XaddEG>(d));
  B(CMPXCHG_Eb_Gb, bm<CmpxchgEG>(d));
  B(CMPXCHG_Ev_Gv, vm<CmpxchgEG>(d));
  B(CMPXCHG8B_Mq, h<Cmpxchg8b>());
  B(CMPXCHG16B_Mdq, h<Cmpxchg8b>());
  B(CBW, h<Cbw>());
  B(CWD, h<Cwd>());
  B(SETCC_Eb, m<Setcc>(d));
  B(CMOVCC_Gv_Ev, vm<Cmovcc>(d));
  B(LAHF, h<Lahf>());
  B(SAHF, h<Sahf>());
  B(CLC, h<Clc>());
  B(STC, h<Stc>());
  B(CMC, h<Cmc>());
  B(CLD, h<Cld>());
  B(STD, h<Std>());
  B(DAA, h<Daa>());
  B(DAS, h<Das>());
  B(AAA, h<Aaa>());
  B(AAS, h<Aas>());
  B(AAM_Ib, h<Aam>());
  B(AAD_Ib, h<Aad>());
  B(SALC, h<Salc>());
  B(XLAT, h<Xlat>());

  // No-ops (hints, fences, cache-line flushes: nothing to model).
  for (Form f : {Form::NOP, Form::PAUSE, Form::FWAIT, Form::NOP_Ev, Form::ENDBR64, Form::ENDBR32,
                 Form::PREFETCH_Mb, Form::PREFETCHW_Mb, Form::PREFETCHNTA_Mb, Form::PREFETCHT0_Mb,
                 Form::PREFETCHT1_Mb, Form::PREFETCHT2_Mb, Form::LFENCE, Form::MFENCE, Form::SFENCE,
                 Form::CLFLUSH_Mb, Form::CLFLUSHOPT_Mb, Form::CLWB_Mb})
    t[size_t(f)] = Row{[](const DecodedInsn&, DecodeMode) -> Handler { return h<Nop>(); }, false};
  for (Form f : {Form::UD2, Form::UD0_Gv_Ev, Form::UD1_Gv_Ev})
    t[size_t(f)] = Row{[](const DecodedInsn&, DecodeMode) -> Handler { return h<Ud>(); }, true};

  // Stack.
  B(PUSH_Zv, v<PushZ>(d));
  B(POP_Zv, v<PopZ>(d));
  B(PUSH_Iz, v<PushI>(d));
  B(PUSH_Ibs, v<PushI>(d));
  B(PUSH_Ev, vm<PushE>(d));
  B(POP_Ev, vm<PopE>(d));
  B(PUSHA, h<Pusha>());
  B(POPA, h<Popa>());
  B(PUSHF_Fv, h<Pushf>());
  BE(POPF_Fv, h<Popf>());
  B(ENTER_Iw_Ib, h<Enter>());
  B(LEAVE, h<Leave>());
  B(PUSH_ES, h<PushSeg<kSegEs>>());
  B(PUSH_CS, h<PushSeg<kSegCs>>());
  B(PUSH_SS, h<PushSeg<kSegSs>>());
  B(PUSH_DS, h<PushSeg<kSegDs>>());
  B(PUSH_FS, h<PushSeg<kSegFs>>());
  B(PUSH_GS, h<PushSeg<kSegGs>>());
  B(POP_ES, h<PopSeg<kSegEs>>());
  BE(POP_SS, h<PopSeg<kSegSs>>());
  B(POP_DS, h<PopSeg<kSegDs>>());
  B(POP_FS, h<PopSeg<kSegFs>>());
  B(POP_GS, h<PopSeg<kSegGs>>());
  B(MOV_Ev_Sw, m<MovEwSw>(d));
  BE(MOV_Sw_Ew, m<MovSwEw>(d));
  B(LES_Gv_Mp, h<LoadFarPointer<kSegEs>>());
  B(LDS_Gv_Mp, h<LoadFarPointer<kSegDs>>());
  BE(LSS_Gv_Mp, h<LoadFarPointer<kSegSs>>());
  B(LFS_Gv_Mp, h<LoadFarPointer<kSegFs>>());
  B(LGS_Gv_Mp, h<LoadFarPointer<kSegGs>>());

  // Control transfer.
  BE(JMP_Jb, h<JmpJ>());
  BE(JMP_Jz, h<JmpJ>());
  BE(JCC_Jb, jcc(d));
  BE(JCC_Jz, jcc(d));
  BE(JRCXZ_Jb, h<JcxzJ>());
  BE(LOOP_Jb, h<LoopJ>());
  BE(LOOPE_Jb, h<LoopJ>());
  BE(LOOPNE_Jb, h<LoopJ>());
  BE(JMP_Ev, m<JmpE>(d));
  BE(CALL_Jz, h<CallJ>());
  BE(CALL_Ev, m<CallE>(d));
  BE(RET, h<RetNear<false>>());
  BE(RET_Iw, h<RetNear<true>>());
  BE(JMPF_Ap, h<FarAp<false>>());
  BE(CALLF_Ap, h<FarAp<true>>());
  BE(JMPF_Mp, h<FarMp<false>>());
  BE(CALLF_Mp, h<FarMp<true>>());
  BE(RETF, h<RetFar<false>>());
  BE(RETF_Iw, h<RetFar<true>>());
  BE(IRET, h<Iret>());
  BE(INT3, h<Int3>());
  BE(INT_Ib, h<IntIb>());
  BE(INTO, h<Into>());
  BE(SYSCALL, h<Syscall>());
  BE(SYSRET, h<Sysret>());

  // String instructions.
  B(MOVS_b, h<StringOp<StrOp::kMovs, 1>>());
  B(MOVS_v, v<Str<StrOp::kMovs>::E>(d));
  B(CMPS_b, h<StringOp<StrOp::kCmps, 1>>());
  B(CMPS_v, v<Str<StrOp::kCmps>::E>(d));
  B(STOS_b, h<StringOp<StrOp::kStos, 1>>());
  B(STOS_v, v<Str<StrOp::kStos>::E>(d));
  B(LODS_b, h<StringOp<StrOp::kLods, 1>>());
  B(LODS_v, v<Str<StrOp::kLods>::E>(d));
  B(SCAS_b, h<StringOp<StrOp::kScas, 1>>());
  B(SCAS_v, v<Str<StrOp::kScas>::E>(d));
  BE(INS_b, h<StringOp<StrOp::kIns, 1>>());
  BE(INS_v, d.op_size == 2 ? h<StringOp<StrOp::kIns, 2>>() : h<StringOp<StrOp::kIns, 4>>());
  BE(OUTS_b, h<StringOp<StrOp::kOuts, 1>>());
  BE(OUTS_v, d.op_size == 2 ? h<StringOp<StrOp::kOuts, 2>>() : h<StringOp<StrOp::kOuts, 4>>());

  // Port I/O: ends the block so the main loop sees the device's effects.
  BE(IN_AL_Ib, h<In<1, false>>());
  BE(IN_eAX_Ib, h<In<4, false>>());
  BE(OUT_Ib_AL, h<Out<1, false>>());
  BE(OUT_Ib_eAX, h<Out<4, false>>());
  BE(IN_AL_DX, h<In<1, true>>());
  BE(IN_eAX_DX, h<In<4, true>>());
  BE(OUT_DX_AL, h<Out<1, true>>());
  BE(OUT_DX_eAX, h<Out<4, true>>());

  // System.
  B(CLI, h<Cli>());
  BE(STI, h<Sti>());
  BE(HLT, h<Hlt>());
  B(LGDT_Ms, h<LoadDtr<false>>());
  B(LIDT_Ms, h<LoadDtr<true>>());
  B(SGDT_Ms, h<StoreDtr<false>>());
  B(SIDT_Ms, h<StoreDtr<true>>());
  B(LLDT_Ew, h<LoadSystemSegment<false>>());
  B(LTR_Ew, h<LoadSystemSegment<true>>());
  B(SLDT_Ew, h<StoreSystemSegment<false>>());
  B(STR_Ew, h<StoreSystemSegment<true>>());
  B(SMSW_Ew, h<Smsw>());
  BE(LMSW_Ew, h<Lmsw>());
  B(MOV_Rd_Cd, h<MovRdCd>());
  BE(MOV_Cd_Rd, h<MovCdRd>());
  B(MOV_Rd_Dd, h<MovDr<false>>());
  B(MOV_Dd_Rd, h<MovDr<true>>());
  B(CLTS, h<Clts>());
  BE(INVLPG_Mb, h<Invlpg>());
  B(WBINVD, h<CacheOp>());
  B(INVD, h<CacheOp>());
  B(WBNOINVD, h<CacheOp>());
  B(RDMSR, h<Rdmsr>());
  BE(WRMSR, h<Wrmsr>());
  B(RDTSC, h<Rdtsc<false>>());
  B(RDTSCP, h<Rdtsc<true>>());
  B(CPUID, h<Cpuid>());
  B(SWAPGS, h<Swapgs>());
#undef B
#undef BE
  return t;
}

const std::array<Row, size_t(Form::kCount)>& table() {
  static const auto t = build_table();
  return t;
}

}  // namespace

Binding bind_form(const DecodedInsn& d, DecodeMode mode) {
  if (d.form == Form::kInvalid) return Binding{h<Ud>(), true, true};
  const Row& r = table()[size_t(d.form)];
  if (!r.bind) return Binding{h<Unimplemented>(), true, false};
  bool br = form_info(d.form).flags & x86_col::Br;
  return Binding{r.bind(d, mode), r.ends_block || br, true};
}

bool form_has_semantics(Form f) { return f == Form::kInvalid || table()[size_t(f)].bind != nullptr; }

}  // namespace rwd::tcg
