// Stack instructions: PUSH/POP (registers, memory, immediates), PUSHF/POPF,
// PUSHA/POPA, ENTER/LEAVE. Segment-register pushes and pops live in segment.h.
#pragma once

#include "tcg-llvm/semantics/flags.h"
#include "tcg-llvm/semantics/operands.h"

namespace rwd::tcg {

// PUSH reg (50+r).
template <unsigned N> struct PushZ {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(push<N>(m, U<N>(m.s.gpr[d.reg])));
    return Status::kNext;
  }
};
// POP reg (58+r).
template <unsigned N> struct PopZ {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    uint64_t sp = m.s.gpr[core::kRsp];
    U<N> v;
    RWD_TRY(pop_at<N>(m, sp, v));
    set_sp(m, sp);
    set_reg<N>(m, d, d.reg, v);  // POP rSP leaves the popped value
    return Status::kNext;
  }
};
template <unsigned N> struct PushI {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(push<N>(m, U<N>(d.imm)));
    return Status::kNext;
  }
};
template <unsigned N, bool Mem> struct PushE {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    Rm<N, Mem> src(m, d);
    U<N> v;
    RWD_TRY(src.read(m, d, v));
    RWD_TRY(push<N>(m, v));
    return Status::kNext;
  }
};
// POP r/m: a memory destination's address is computed with the incremented rSP.
template <unsigned N, bool Mem> struct PopE {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    uint64_t old_sp = m.s.gpr[core::kRsp], sp = old_sp;
    U<N> v;
    RWD_TRY(pop_at<N>(m, sp, v));
    set_sp(m, sp);
    Rm<N, Mem> dst(m, d);
    if (!dst.write(m, d, v)) {
      m.s.gpr[core::kRsp] = old_sp;
      return Status::kFault;
    }
    return Status::kNext;
  }
};

// Flags image as PUSHF stores it: VM and RF read as 0.
template <class M> inline uint64_t pushf_image(M& m) {
  return (m.s.rflags & ~(fl::kVm | fl::kRf)) | fl::kFixed1;
}

struct Pushf {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(push_n(m, d.op_size, pushf_image(m)));
    return Status::kNext;
  }
};

// Apply a popped flags image with the privilege rules of POPF/IRET:
// IOPL changes only at CPL 0, IF only when CPL <= IOPL; VM, VIF, VIP unchanged;
// RF cleared by POPF, loaded by IRET (a debugger's handler sets it to run
// the instruction of an instruction breakpoint once). A 16-bit image only
// changes the low 16 bits.
template <class M> inline void write_flags_image(M& m, uint64_t v, unsigned n, unsigned cpl, bool iret = false) {
  uint64_t changeable = fl::kArith | fl::kTf | fl::kDf | fl::kNt | fl::kAc | fl::kId | (iret ? fl::kRf : 0);
  unsigned iopl = (m.s.rflags >> 12) & 3;
  if (cpl == 0) changeable |= fl::kIopl;
  if (cpl <= iopl) changeable |= fl::kIf;
  if (n == 2) changeable &= 0xffff;
  m.s.rflags = ((m.s.rflags & ~(changeable | fl::kRf)) | (v & changeable) | fl::kFixed1);
  m.flags_reloaded();
}

// POPF ends the block: IF may have become 1 and interrupts must be looked at.
struct Popf {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    uint64_t sp = m.s.gpr[core::kRsp], v;
    RWD_TRY(pop_n_at(m, d.op_size, sp, v));
    set_sp(m, sp);
    write_flags_image(m, v, d.op_size, m.s.protected_mode() ? m.s.cpl() : 0);
    return Status::kEndBlock;
  }
};

// PUSHA/PUSHAD and POPA/POPAD (#UD in 64-bit mode).
struct Pusha {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (m.mode() == DecodeMode::k64) return raise(m, vec::kUd);
    unsigned n = d.op_size;
    uint64_t sp = m.s.gpr[core::kRsp];
    for (int r = 0; r < 8; ++r) {
      uint64_t v = r == core::kRsp ? sp : m.s.gpr[r];
      uint64_t at = (sp - (r + 1) * n) & stack_mask(m);
      if (n == 2) RWD_TRY(m.template write<2>(kSegSs, at, U<2>(v)));
      else RWD_TRY(m.template write<4>(kSegSs, at, U<4>(v)));
    }
    set_sp(m, sp - 8 * n);
    return Status::kNext;
  }
};
struct Popa {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (m.mode() == DecodeMode::k64) return raise(m, vec::kUd);
    unsigned n = d.op_size;
    uint64_t sp = m.s.gpr[core::kRsp], vals[8];
    for (int r = 7; r >= 0; --r) RWD_TRY(pop_n_at(m, n, sp, vals[r]));
    for (int r = 0; r < 8; ++r)
      if (r != core::kRsp) set_reg_n(m, uint8_t(r), n, vals[r]);
    set_sp(m, sp);
    return Status::kNext;
  }
};

// ENTER imm16, imm8 (size in imm, nesting level in imm2).
struct Enter {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    unsigned n = m.mode() == DecodeMode::k64 ? (d.op_size == 2 ? 2 : 8) : d.op_size;
    unsigned level = d.imm2 & 31;
    uint64_t size = d.imm & 0xffff;
    uint64_t mask = stack_mask(m);
    uint64_t sp = m.s.gpr[core::kRsp];
    uint64_t bp = m.s.gpr[core::kRbp];
    sp = (sp - n) & mask;
    RWD_TRY(m.check_write(kSegSs, sp, n));
    uint64_t frame = sp;
    // Writes go to fresh stack; the registers are committed at the end.
    auto store = [&](uint64_t at, uint64_t v) {
      return n == 2 ? m.template write<2>(kSegSs, at, U<2>(v))
           : n == 4 ? m.template write<4>(kSegSs, at, U<4>(v))
                    : m.template write<8>(kSegSs, at, v);
    };
    RWD_TRY(store(sp, bp));
    if (level > 0) {
      uint64_t src = bp;
      for (unsigned i = 1; i < level; ++i) {
        src = (src - n) & size_mask(m.stack_size());
        uint64_t v;
        if (n == 2) { U<2> x; RWD_TRY(m.template read<2>(kSegSs, src, x)); v = x; }
        else if (n == 4) { U<4> x; RWD_TRY(m.template read<4>(kSegSs, src, x)); v = x; }
        else RWD_TRY(m.template read<8>(kSegSs, src, v));
        sp = (sp - n) & mask;
        RWD_TRY(store(sp, v));
      }
      sp = (sp - n) & mask;
      RWD_TRY(store(sp, frame));
    }
    sp = (sp - size) & mask;
    set_reg_n(m, core::kRbp, n, frame);
    set_sp(m, sp);
    return Status::kNext;
  }
};
struct Leave {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    uint64_t sp = m.s.gpr[core::kRbp] & stack_mask(m), v;
    unsigned n = m.mode() == DecodeMode::k64 ? (d.op_size == 2 ? 2 : 8) : d.op_size;
    RWD_TRY(pop_n_at(m, n, sp, v));
    set_sp(m, sp);
    set_reg_n(m, core::kRbp, n, v);
    return Status::kNext;
  }
};

}  // namespace rwd::tcg
