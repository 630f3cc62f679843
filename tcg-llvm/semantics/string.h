// String instructions MOVS/STOS/LODS/CMPS/SCAS/INS/OUTS with REP/REPE/REPNE in
// 16/32/64-bit address sizes. With a REP prefix each call executes ONE
// iteration and returns Status::kRepeat while more remain, so every iteration
// counts as one instruction and interrupts can be taken between iterations
// (see tcg_vcpu.h). A REP with a zero count retires once, doing nothing.
#pragma once

#include "tcg-llvm/semantics/flags.h"
#include "tcg-llvm/semantics/operands.h"
#include "tcg-llvm/semantics/system.h"

namespace rwd::tcg {

enum class StrOp : uint8_t { kMovs, kStos, kLods, kCmps, kScas, kIns, kOuts };

template <StrOp Op, unsigned N> struct StringOp {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    const unsigned as = d.addr_size;
    const uint64_t amask = size_mask(as);
    const bool rep = d.rep != RepPrefix::kNone;
    // The I/O permission check (IOPL, then the TSS bitmap) comes first: a
    // REP INS/OUTS with a zero count still faults without permission.
    if constexpr (Op == StrOp::kIns || Op == StrOp::kOuts) RWD_TRY(io_allowed(m, uint16_t(m.s.gpr[core::kRdx]), N));
    if (rep && get_reg_n(m, core::kRcx, as) == 0) return Status::kNext;
    const int src_seg = d.seg == SegOverride::kNone ? kSegDs : static_cast<int>(d.seg);
    uint64_t si = m.s.gpr[core::kRsi] & amask, di = m.s.gpr[core::kRdi] & amask;
    const uint64_t step = (m.s.rflags & fl::kDf) ? uint64_t(0) - N : N;
    bool uses_si = Op == StrOp::kMovs || Op == StrOp::kLods || Op == StrOp::kCmps || Op == StrOp::kOuts;
    bool uses_di = Op != StrOp::kLods && Op != StrOp::kOuts;
    bool compare = Op == StrOp::kCmps || Op == StrOp::kScas;
    U<N> a = 0, b = 0;
    if constexpr (Op == StrOp::kMovs) {
      RWD_TRY(m.template read<N>(src_seg, si, a));
      RWD_TRY(m.template write<N>(kSegEs, di, a));
    } else if constexpr (Op == StrOp::kStos) {
      RWD_TRY(m.template write<N>(kSegEs, di, U<N>(m.s.gpr[core::kRax])));
    } else if constexpr (Op == StrOp::kLods) {
      RWD_TRY(m.template read<N>(src_seg, si, a));
      set_reg<N>(m, d, core::kRax, a);
    } else if constexpr (Op == StrOp::kCmps) {
      // Which operand is read first shows only when both would fault, and
      // is the implementation's choice; rewind follows the host CPU the
      // difftest measures against (tests/difftest): ES:rDI first, except
      // for REPE CMPSB, which reads DS:rSI first.
      if (N == 1 && d.rep == RepPrefix::kRepE) {
        RWD_TRY(m.template read<N>(src_seg, si, a));
        RWD_TRY(m.template read<N>(kSegEs, di, b));
      } else {
        RWD_TRY(m.template read<N>(kSegEs, di, b));
        RWD_TRY(m.template read<N>(src_seg, si, a));
      }
    } else if constexpr (Op == StrOp::kScas) {
      a = U<N>(m.s.gpr[core::kRax]);
      RWD_TRY(m.template read<N>(kSegEs, di, b));
    } else if constexpr (Op == StrOp::kIns) {
      RWD_TRY(m.check_write(kSegEs, di, N));  // fault before the port is read
      a = U<N>(m.io_in(uint16_t(m.s.gpr[core::kRdx]), N));
      RWD_TRY(m.template write<N>(kSegEs, di, a));
    } else {
      RWD_TRY(m.template read<N>(src_seg, si, a));
      m.io_out(uint16_t(m.s.gpr[core::kRdx]), N, uint32_t(a));
    }
    if (compare) m.s.rflags = (m.s.rflags & ~fl::kArith) | flags_sub<N>(a, b, U<N>(a - b));
    if (uses_si) set_reg_n(m, core::kRsi, as, si + step);
    if (uses_di) set_reg_n(m, core::kRdi, as, di + step);
    if (!rep) return Status::kNext;
    uint64_t cnt = (get_reg_n(m, core::kRcx, as) - 1) & amask;
    set_reg_n(m, core::kRcx, as, cnt);
    if (cnt == 0) return Status::kNext;
    if (compare) {
      bool zf = m.s.rflags & fl::kZf;
      if ((d.rep == RepPrefix::kRepE) != zf) return Status::kNext;  // REPE stops on ZF=0, REPNE on ZF=1
    }
    return Status::kRepeat;
  }
};

}  // namespace rwd::tcg
