// Near control transfer: JMP, Jcc, JCXZ, LOOP*, CALL, RET, and the software
// interrupts INT n / INT3 / INTO (which retire before the event is delivered).
// Every control transfer ends the predecoded block (Status::kEndBlock).
#pragma once

#include "tcg-llvm/semantics/flags.h"
#include "tcg-llvm/semantics/operands.h"
#include "tcg-llvm/semantics/segmentation.h"

namespace rwd::tcg {

// Near branches are 64-bit in 64-bit mode whatever the operand-size prefix
// says (Intel behaviour; rewind models an Intel CPU here).
template <class M> inline unsigned near_size(M& m, const DecodedInsn& d) {
  return m.mode() == DecodeMode::k64 ? 8 : d.op_size;
}

// A near branch to a non-canonical address faults on the branch (#GP(0)),
// before it changes anything (SDM: JMP, CALL, RET, Jcc).
inline bool near_target_ok(uint64_t target, unsigned n) { return n != 8 || canonical(target); }

template <class M> inline Status jump_to(M& m, const DecodedInsn& d, uint64_t target) {
  unsigned n = near_size(m, d);
  target = branch_target(target, n);
  if (!near_target_ok(target, n)) return raise_err(m, vec::kGp, 0);
  m.s.rip = target;
  return Status::kEndBlock;
}

struct JmpJ {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    return jump_to(m, d, m.s.rip + d.imm);
  }
};
// Jcc with the condition fixed at compile time (the interpreter binds one
// instantiation per condition code, so the test folds to a mask and compare).
template <unsigned Cc> struct JccJ {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (!condition(m.s.rflags, Cc)) return Status::kEndBlock;
    return jump_to(m, d, m.s.rip + d.imm);
  }
};
// JCXZ / JECXZ / JRCXZ: the counter has the address size.
struct JcxzJ {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (get_reg_n(m, core::kRcx, d.addr_size) != 0) return Status::kEndBlock;
    return jump_to(m, d, m.s.rip + d.imm);
  }
};
// LOOP (E2), LOOPE (E1), LOOPNE (E0): decrement the address-size counter.
struct LoopJ {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    uint64_t c = (get_reg_n(m, core::kRcx, d.addr_size) - 1) & size_mask(d.addr_size);
    set_reg_n(m, core::kRcx, d.addr_size, c);
    bool zf = m.s.rflags & fl::kZf;
    bool take = c != 0 && (d.opcode == 0xe2 || (d.opcode == 0xe1 ? zf : !zf));
    if (!take) return Status::kEndBlock;
    return jump_to(m, d, m.s.rip + d.imm);
  }
};
// The target of an indirect near JMP/CALL: an n-byte register or memory operand.
template <bool Mem, class M> inline bool read_near_target(M& m, const DecodedInsn& d, unsigned n, uint64_t& t) {
  if constexpr (Mem) {
    uint64_t off = effective_address(m, d);
    int seg = operand_segment(d);
    if (n == 8) return m.template read<8>(seg, off, t);
    U<4> x4;
    U<2> x2;
    if (n == 4) { if (!m.template read<4>(seg, off, x4)) return false; t = x4; return true; }
    if (!m.template read<2>(seg, off, x2)) return false;
    t = x2;
    return true;
  } else {
    t = get_reg_n(m, d.rm, n);
    return true;
  }
}
template <bool Mem> struct JmpE {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    unsigned n = near_size(m, d);
    uint64_t t;
    RWD_TRY(read_near_target<Mem>(m, d, n, t));
    return jump_to(m, d, t);
  }
};
struct CallJ {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    unsigned n = near_size(m, d);
    uint64_t target = branch_target(m.s.rip + d.imm, n);
    if (!near_target_ok(target, n)) return raise_err(m, vec::kGp, 0);
    RWD_TRY(push_n(m, n, m.s.rip));
    m.s.rip = target;
    return Status::kEndBlock;
  }
};
template <bool Mem> struct CallE {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    unsigned n = near_size(m, d);
    uint64_t t;
    RWD_TRY(read_near_target<Mem>(m, d, n, t));
    if (!near_target_ok(t, n)) return raise_err(m, vec::kGp, 0);
    RWD_TRY(push_n(m, n, m.s.rip));
    m.s.rip = t;
    return Status::kEndBlock;
  }
};
// RET / RET imm16.
template <bool Imm> struct RetNear {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    unsigned n = near_size(m, d);
    uint64_t sp = m.s.gpr[core::kRsp], t;
    RWD_TRY(pop_n_at(m, n, sp, t));
    if (!near_target_ok(t, n)) return raise_err(m, vec::kGp, 0);
    if (Imm) sp += d.imm & 0xffff;
    set_sp(m, sp);
    m.s.rip = t;
    return Status::kEndBlock;
  }
};

// ---- software interrupts --------------------------------------------------

struct IntIb {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    m.set_soft_int(uint8_t(d.imm));
    return Status::kSoftInt;
  }
};
struct Int3 {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    m.set_soft_int(vec::kBp);
    return Status::kSoftInt;
  }
};
// INT1 (ICEBP, F1): a #DB trap after the instruction, delivered like an
// exception: the gate's DPL is not checked.
struct Int1 {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    m.set_soft_int(vec::kDb, true);
    return Status::kSoftInt;
  }
};
// BOUND r, m (legacy modes): #BR unless lower <= index <= upper (signed),
// the bounds being two operand-size words at m.
struct Bound {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (m.mode() == DecodeMode::k64 || !d.is_mem()) return raise(m, vec::kUd);
    uint64_t off = effective_address(m, d);
    int seg = operand_segment(d);
    int64_t index, lower, upper;
    if (d.op_size == 2) {
      U<2> lo, hi;
      RWD_TRY(m.template read<2>(seg, off, lo));
      RWD_TRY(m.template read<2>(seg, (off + 2) & size_mask(d.addr_size), hi));
      index = int16_t(m.s.gpr[d.reg]), lower = int16_t(lo), upper = int16_t(hi);
    } else {
      U<4> lo, hi;
      RWD_TRY(m.template read<4>(seg, off, lo));
      RWD_TRY(m.template read<4>(seg, (off + 4) & size_mask(d.addr_size), hi));
      index = int32_t(m.s.gpr[d.reg]), lower = int32_t(lo), upper = int32_t(hi);
    }
    if (index < lower || index > upper) return raise(m, vec::kBr);
    return Status::kNext;
  }
};
struct Into {
  template <class M> static Status run(M& m, const DecodedInsn&) {
    if (m.mode() == DecodeMode::k64) return raise(m, vec::kUd);
    if (!(m.s.rflags & fl::kOf)) return Status::kNext;
    m.set_soft_int(vec::kOf);
    return Status::kSoftInt;
  }
};

}  // namespace rwd::tcg
