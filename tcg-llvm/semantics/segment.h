// Segmentation: descriptor fetch and the checked loads of segment registers
// (MOV Sreg, POP Sreg, LDS/LES/LFS/LGS/LSS), far JMP/CALL/RET and IRET.
//
// Code and data segments through the GDT/LDT with the privilege checks of
// SDM Vol. 3 §5, and call gates (16/32-bit, and 64-bit in IA-32e mode) with
// the stack switch and parameter copy of a call to an inner ring. Task
// switches and virtual-8086 returns are reported through
// M::unimplemented_feature() and raise #GP.
#pragma once

#include "tcg-llvm/semantics/flags.h"
#include "tcg-llvm/semantics/operands.h"
#include "tcg-llvm/semantics/segmentation.h"
#include "tcg-llvm/semantics/stack.h"

namespace rwd::tcg {

namespace sa = core::seg_attr;

struct Descriptor {
  uint32_t lo = 0, hi = 0;
  uint64_t base() const { return (lo >> 16) | ((hi & 0xffull) << 16) | (hi & 0xff000000ull); }
  uint32_t limit() const {
    uint32_t l = (lo & 0xffff) | (hi & 0xf0000);
    return (hi & (1u << 23)) ? (l << 12) | 0xfff : l;
  }
  uint16_t attrs() const { return uint16_t((hi >> 8) & 0xf0ff); }
  unsigned type() const { return (hi >> 8) & 0xf; }
  bool s() const { return hi & (1u << 12); }
  unsigned dpl() const { return (hi >> 13) & 3; }
  bool present() const { return hi & (1u << 15); }
  bool code() const { return s() && (type() & 8); }
  bool conforming() const { return code() && (type() & 4); }
  bool readable_code() const { return code() && (type() & 2); }
  bool writable_data() const { return s() && !(type() & 8) && (type() & 2); }
};

inline uint32_t sel_error(uint16_t sel) { return sel & 0xfffc; }

// Where the descriptor of `sel` lies, when it lies inside its table (the
// GDT, or a present LDT).
template <class M> inline bool descriptor_slot(M& m, uint16_t sel, uint64_t& addr) {
  uint64_t base;
  uint32_t limit;
  if (sel & 4) {
    if (!(m.s.ldtr.attrs & sa::kP)) return false;
    base = m.s.ldtr.base;
    limit = m.s.ldtr.limit;
  } else {
    base = m.s.gdtr.base;
    limit = m.s.gdtr.limit;
  }
  uint64_t off = sel & 0xfff8;
  if (off + 7 > limit) return false;
  addr = base + off;
  return true;
}

// Reads the 8-byte descriptor of a non-null selector; #GP(sel) past the table.
template <class M> inline bool read_descriptor(M& m, uint16_t sel, Descriptor& desc,
                                                uint64_t* addr = nullptr) {
  uint64_t a;
  if (!descriptor_slot(m, sel, a)) return fail(m, vec::kGp, sel_error(sel));
  if (addr) *addr = a;
  return m.template read_sys<4>(a, desc.lo) && m.template read_sys<4>(a + 4, desc.hi);
}

template <class M> inline bool mark_accessed(M& m, const Descriptor& desc, uint64_t addr) {
  if (desc.type() & 1) return true;
  return m.template write_sys<4>(addr + 4, desc.hi | 0x100);
}

inline void set_cache(core::SegmentCache& c, uint16_t sel, const Descriptor& d) {
  c.selector = sel;
  c.base = d.base();
  c.limit = d.limit();
  c.attrs = uint16_t(d.attrs() | 1);  // accessed
}

// A real-mode (or virtual-8086) load: base = selector * 16, the rest kept.
inline void load_real(core::SegmentCache& c, uint16_t sel) {
  c.selector = sel;
  c.base = uint64_t(sel) << 4;
}

// MOV/POP/Lxx into DS, ES, FS, GS or SS with the protected-mode checks.
template <class M> inline bool load_data_segment(M& m, int seg, uint16_t sel) {
  core::SegmentCache& c = m.s.seg[seg];
  if (!m.s.protected_mode() || (m.s.rflags & fl::kVm)) {
    load_real(c, sel);
    m.segments_changed();
    return true;
  }
  unsigned cpl = m.s.cpl(), rpl = sel & 3;
  if ((sel & 0xfffc) == 0) {
    if (seg == kSegSs && !(m.mode() == DecodeMode::k64 && cpl < 3 && rpl == cpl))
      return fail(m, vec::kGp, 0);
    // A null selector: the register becomes unusable (P = 0), keeping DPL for SS.
    c.selector = sel;
    c.base = 0;
    c.limit = 0;
    c.attrs = seg == kSegSs ? uint16_t(cpl << sa::kDplShift) : 0;
    m.segments_changed();
    return true;
  }
  Descriptor d;
  uint64_t addr;
  if (!read_descriptor(m, sel, d, &addr)) return false;
  if (seg == kSegSs) {
    if (rpl != cpl || d.dpl() != cpl || !d.writable_data()) return fail(m, vec::kGp, sel_error(sel));
    if (!d.present()) return fail(m, vec::kSs, sel_error(sel));
  } else {
    if (!d.s() || (d.code() && !d.readable_code())) return fail(m, vec::kGp, sel_error(sel));
    if (!d.conforming() && (rpl > d.dpl() || cpl > d.dpl())) return fail(m, vec::kGp, sel_error(sel));
    if (!d.present()) return fail(m, vec::kNp, sel_error(sel));
  }
  if (!mark_accessed(m, d, addr)) return false;
  set_cache(c, sel, d);
  m.segments_changed();
  return true;
}

// MOV Sreg, r/m16. Loading SS holds interrupts off for one instruction.
template <bool Mem> struct MovSwEw {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    int seg = d.reg & 7;
    if (seg == kSegCs || seg > kSegGs) return raise(m, vec::kUd);
    Rm<2, Mem> src(m, d);
    U<2> sel;
    RWD_TRY(src.read(m, d, sel));
    RWD_TRY(load_data_segment(m, seg, sel));
    if (seg == kSegSs) {
      m.s.interrupt_shadow = core::kShadowMovSs;
      return Status::kEndBlock;
    }
    return Status::kNext;
  }
};
// MOV r/m, Sreg: a register destination takes the operand size (zero-extended).
template <bool Mem> struct MovEwSw {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    int seg = d.reg & 7;
    if (seg > kSegGs) return raise(m, vec::kUd);
    uint16_t sel = m.s.seg[seg].selector;
    if constexpr (Mem) {
      Rm<2, true> dst(m, d);
      RWD_TRY(dst.write(m, d, sel));
    } else {
      set_reg_n(m, d.rm, d.op_size, sel);
    }
    return Status::kNext;
  }
};
template <int Seg> struct PushSeg {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    RWD_TRY(push_n(m, d.op_size, m.s.seg[Seg].selector));
    return Status::kNext;
  }
};
template <int Seg> struct PopSeg {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    uint64_t sp = m.s.gpr[core::kRsp], v;
    RWD_TRY(pop_n_at(m, d.op_size, sp, v));
    RWD_TRY(load_data_segment(m, Seg, uint16_t(v)));
    set_sp(m, sp);
    if (Seg == kSegSs) {
      m.s.interrupt_shadow = core::kShadowMovSs;
      return Status::kEndBlock;
    }
    return Status::kNext;
  }
};
// LDS/LES/LFS/LGS/LSS reg, m16:16/32/64.
template <int Seg> struct LoadFarPointer {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    uint64_t off = effective_address(m, d);
    int s = operand_segment(d);
    uint64_t v;
    U<2> sel;
    unsigned n = d.op_size;
    if (n == 2) { U<2> x; RWD_TRY(m.template read<2>(s, off, x)); v = x; }
    else if (n == 4) { U<4> x; RWD_TRY(m.template read<4>(s, off, x)); v = x; }
    else RWD_TRY(m.template read<8>(s, off, v));
    RWD_TRY(m.template read<2>(s, (off + n) & size_mask(d.addr_size), sel));
    RWD_TRY(load_data_segment(m, Seg, sel));
    set_reg_n(m, d.reg, n, v);
    return Seg == kSegSs ? Status::kEndBlock : Status::kNext;
  }
};

// ---- far transfers ----------------------------------------------------------

// Checks a far JMP/CALL target code segment (not a gate) and its descriptor.
template <class M> inline bool check_far_target(M& m, uint16_t sel, const Descriptor& d) {
  unsigned cpl = m.s.cpl();
  if (!d.code()) return fail(m, vec::kGp, sel_error(sel));
  if (d.conforming() ? d.dpl() > cpl : ((sel & 3) > cpl || d.dpl() != cpl))
    return fail(m, vec::kGp, sel_error(sel));
  if (!d.present()) return fail(m, vec::kNp, sel_error(sel));
  return true;
}

template <class M> inline void commit_cs(M& m, uint16_t sel, const Descriptor& d, unsigned cpl) {
  set_cache(m.s.seg[kSegCs], uint16_t((sel & 0xfffc) | cpl), d);
  m.segments_changed();
}

// The stack of an inner ring `cpl` from the TSS: in IA-32e mode RSPn (or
// IST slot `ist`) with a null SS of RPL cpl; else SSn:ESPn of a 32-bit TSS
// or SSn:SPn of a 16-bit one, SSn checked as a stack for that ring (#TS,
// #SS). `ext` is the EXT bit of the error codes.
template <class M> inline bool inner_stack(M& m, unsigned cpl, unsigned ist, uint32_t ext, core::SegmentCache& ss,
                                           uint64_t& sp) {
  if (m.s.long_mode_active()) {
    const uint64_t slot = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * cpl;
    if (slot + 7 > m.s.tr.limit) return fail(m, vec::kTs, sel_error(m.s.tr.selector) | ext);
    if (!m.template read_sys<8>(m.s.tr.base + slot, sp)) return false;
    ss.selector = uint16_t(cpl);
    ss.base = 0;
    ss.limit = 0;
    ss.attrs = uint16_t(cpl << sa::kDplShift);
    return true;
  }
  // 32-bit TSS: ESPn at 4 + 8n, SSn at 8 + 8n; 16-bit TSS: SPn at 2 + 4n, SSn at 4 + 4n.
  const bool tss32 = (m.s.tr.attrs & 0xf) == 0x9 || (m.s.tr.attrs & 0xf) == 0xb;
  const uint64_t sp_off = tss32 ? 4 + 8 * cpl : 2 + 4 * cpl;
  const uint64_t ss_off = tss32 ? 8 + 8 * cpl : 4 + 4 * cpl;
  if (ss_off + 1 > m.s.tr.limit) return fail(m, vec::kTs, sel_error(m.s.tr.selector) | ext);
  if (tss32) {
    U<4> esp;
    if (!m.template read_sys<4>(m.s.tr.base + sp_off, esp)) return false;
    sp = esp;
  } else {
    U<2> esp;
    if (!m.template read_sys<2>(m.s.tr.base + sp_off, esp)) return false;
    sp = esp;
  }
  U<2> nss;
  if (!m.template read_sys<2>(m.s.tr.base + ss_off, nss)) return false;
  Descriptor ssd;
  uint64_t slot_addr;
  if ((nss & 0xfffc) == 0 || !descriptor_slot(m, nss, slot_addr)) return fail(m, vec::kTs, sel_error(nss) | ext);
  if (!read_descriptor(m, nss, ssd)) return false;
  if ((nss & 3) != cpl || ssd.dpl() != cpl || !ssd.writable_data()) return fail(m, vec::kTs, sel_error(nss) | ext);
  if (!ssd.present()) return fail(m, vec::kSs, sel_error(nss) | ext);
  set_cache(ss, nss, ssd);
  return true;
}

// The stack an event or a gate call pushes its frame on: an inner ring's
// stack from the TSS (`inner`: supervisor writes at linear base + sp, which
// may not be SS yet), or the current one (stack writes through SS at the
// current privilege, segment-checked, never alignment-checked: a ring-3
// handler's frame is a user-mode write).
struct FrameStack {
  bool inner;
  uint64_t base, sp, mask;
  template <class M> bool push(M& m, unsigned n, uint64_t v) {
    sp = (sp - n) & mask;
    if (inner) {
      if (n == 8) return m.template write_sys<8>(base + sp, v);
      if (n == 4) return m.template write_sys<4>(base + sp, U<4>(v));
      return m.template write_sys<2>(base + sp, U<2>(v));
    }
    if (n == 8) return m.template write<8, false>(kSegSs, sp, v);
    if (n == 4) return m.template write<4, false>(kSegSs, sp, U<4>(v));
    return m.template write<2, false>(kSegSs, sp, U<2>(v));
  }
};

// Whether an inner legacy-mode stack (expand-up) has `bytes` of room below
// sp: #SS(SS selector | ext) otherwise (SDM: CALL through a gate, interrupt
// delivery with a stack switch).
template <class M> inline bool inner_stack_room(M& m, const core::SegmentCache& ss, uint64_t sp, uint64_t mask,
                                                unsigned bytes, uint32_t ext) {
  const uint64_t top = (sp & mask) == 0 ? mask + 1 : sp & mask;
  const unsigned type = ss.attrs & sa::kTypeMask;
  if (!(type & 4) && (bytes > top || top - 1 > ss.limit)) return fail(m, vec::kSs, sel_error(ss.selector) | ext);
  return true;
}

// Far CALL/JMP through a call gate (SDM Vol. 3 §5.8): the gate's DPL must
// admit CPL and the selector's RPL; the target is a code segment no less
// privileged than CPL (a JMP: the same, or conforming). A CALL to a more
// privileged non-conforming segment switches to that ring's stack from the
// TSS, pushes the old SS:rSP, copies the gate's parameter count of words
// (16-bit gate) or doublewords (32-bit gate; none for 64-bit gates) from the
// old stack, then pushes CS:rIP, all in the gate's size.
template <class M> inline Status through_call_gate(M& m, uint16_t gsel, const Descriptor& g, uint64_t gaddr,
                                                   bool call) {
  const bool lm = m.s.long_mode_active();
  const unsigned type = g.type();
  if (type == 0x5 || type == 0x1 || type == 0x3 || type == 0x9 || type == 0xb) {
    if (!lm) m.unimplemented_feature("far transfer to a TSS or task gate (task switch)");
    return raise_err(m, vec::kGp, sel_error(gsel));
  }
  if (lm ? type != 0xc : (type != 0x4 && type != 0xc)) return raise_err(m, vec::kGp, sel_error(gsel));
  const unsigned cpl = m.s.cpl();
  if (g.dpl() < cpl || g.dpl() < (gsel & 3u)) return raise_err(m, vec::kGp, sel_error(gsel));
  if (!g.present()) return raise_err(m, vec::kNp, sel_error(gsel));
  uint64_t off = (g.lo & 0xffff) | (g.hi & 0xffff0000u);
  if (lm) {
    // A 64-bit gate is 16 bytes; the upper half's type field must be 0.
    U<4> hi32, type_dw;
    RWD_TRY(m.template read_sys<4>(gaddr + 8, hi32));
    RWD_TRY(m.template read_sys<4>(gaddr + 12, type_dw));
    if ((type_dw >> 8) & 0x1f) return raise_err(m, vec::kGp, sel_error(gsel));
    off |= uint64_t(hi32) << 32;
  } else if (type == 0x4) {
    off &= 0xffff;
  }
  const unsigned n = lm ? 8 : type == 0xc ? 4 : 2;  // the gate's size
  const uint16_t sel = uint16_t(g.lo >> 16);
  if ((sel & 0xfffc) == 0) return raise_err(m, vec::kGp, 0);
  Descriptor cs;
  uint64_t cs_addr;
  RWD_TRY(read_descriptor(m, sel, cs, &cs_addr));
  if (!cs.code() || cs.dpl() > cpl || (!call && !cs.conforming() && cs.dpl() != cpl))
    return raise_err(m, vec::kGp, sel_error(sel));
  if (!cs.present()) return raise_err(m, vec::kNp, sel_error(sel));
  if (lm && (!(cs.hi & (1u << 21)) || (cs.hi & (1u << 22)))) return raise_err(m, vec::kGp, sel_error(sel));
  if (lm ? !canonical(off) : off > cs.limit()) return raise_err(m, vec::kGp, 0);
  const unsigned new_cpl = call && !cs.conforming() ? cs.dpl() : cpl;
  const uint64_t ret_cs = m.s.seg[kSegCs].selector, ret_ip = m.s.rip;
  RWD_TRY(mark_accessed(m, cs, cs_addr));  // before the pushes, so a fault leaves RSP alone
  if (new_cpl == cpl) {
    if (call) {
      uint64_t sp = m.s.gpr[core::kRsp];
      RWD_TRY(push_n(m, n, ret_cs));
      if (!push_n(m, n, ret_ip)) { m.s.gpr[core::kRsp] = sp; return Status::kFault; }
    }
    commit_cs(m, sel, cs, cpl);
    m.s.rip = off;
    return Status::kEndBlock;
  }
  core::SegmentCache new_ss = m.s.seg[kSegSs];
  uint64_t sp;
  RWD_TRY(inner_stack(m, new_cpl, 0, 0, new_ss, sp));
  const unsigned count = lm ? 0 : (g.hi & 0x1f);
  FrameStack frame{true, new_ss.base, sp, ~0ull};
  if (!lm) {
    frame.mask = (new_ss.attrs & sa::kDb) ? 0xffffffffull : 0xffff;
    RWD_TRY(inner_stack_room(m, new_ss, sp, frame.mask, n * (4 + count), 0));
  } else if (!canonical(sp - 1) || !canonical(sp - 32)) {
    return raise_err(m, vec::kSs, 0);
  }
  const core::SegmentCache& old = m.s.seg[kSegSs];
  const uint64_t old_ss = old.selector, old_sp = m.s.gpr[core::kRsp], old_mask = stack_mask(m);
  // The parameters lie within the old stack (#SS(0) otherwise).
  if (count && ((old_sp & old_mask) + uint64_t(count) * n - 1 > old.limit)) return raise_err(m, vec::kSs, 0);
  RWD_TRY(frame.push(m, n, old_ss));
  RWD_TRY(frame.push(m, n, old_sp));
  // Parameters keep their order (the one at the highest address goes
  // first); they are read as the new ring reads, supervisor accesses.
  for (unsigned i = count; i-- > 0;) {
    const uint64_t at = old.base + ((old_sp + uint64_t(i) * n) & old_mask);
    uint64_t v = 0;
    if (n == 4) { U<4> x; RWD_TRY(m.template read_sys<4>(at & 0xffffffffull, x)); v = x; }
    else { U<2> x; RWD_TRY(m.template read_sys<2>(at & 0xffffffffull, x)); v = x; }
    RWD_TRY(frame.push(m, n, v));
  }
  RWD_TRY(frame.push(m, n, ret_cs));
  RWD_TRY(frame.push(m, n, ret_ip));
  sp = frame.sp;
  m.s.seg[kSegSs] = new_ss;
  commit_cs(m, sel, cs, new_cpl);
  set_sp(m, sp);
  m.s.rip = off;
  return Status::kEndBlock;
}

// JMPF / CALLF to sel:off. Call pushes the return address on the current stack.
template <class M> inline Status far_transfer(M& m, const DecodedInsn& d, uint16_t sel, uint64_t off, bool call) {
  unsigned n = d.op_size;
  if (!m.s.protected_mode() || (m.s.rflags & fl::kVm)) {
    if (call) {
      uint64_t sp = m.s.gpr[core::kRsp];
      RWD_TRY(push_n(m, n, m.s.seg[kSegCs].selector));
      if (!push_n(m, n, m.s.rip)) { m.s.gpr[core::kRsp] = sp; return Status::kFault; }
    }
    load_real(m.s.seg[kSegCs], sel);
    m.segments_changed();
    m.s.rip = off & size_mask(n);
    return Status::kEndBlock;
  }
  Descriptor desc;
  uint64_t addr;
  if ((sel & 0xfffc) == 0) return raise_err(m, vec::kGp, 0);
  RWD_TRY(read_descriptor(m, sel, desc, &addr));
  if (!desc.s()) return through_call_gate(m, sel, desc, addr, call);
  RWD_TRY(check_far_target(m, sel, desc));
  bool to64 = m.s.long_mode_active() && (desc.hi & (1u << 21));
  uint64_t target = to64 ? off : off & size_mask(n == 8 ? 4 : n);
  if (to64 ? !canonical(target) : target > desc.limit()) return raise_err(m, vec::kGp, 0);
  RWD_TRY(mark_accessed(m, desc, addr));  // before the pushes, so a fault leaves RSP alone
  if (call) {
    uint64_t sp = m.s.gpr[core::kRsp];
    RWD_TRY(push_n(m, n, m.s.seg[kSegCs].selector));
    if (!push_n(m, n, m.s.rip)) { m.s.gpr[core::kRsp] = sp; return Status::kFault; }
  }
  commit_cs(m, sel, desc, m.s.cpl());
  m.s.rip = target;
  return Status::kEndBlock;
}

template <bool Call> struct FarAp {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    return far_transfer(m, d, d.imm2, d.imm, Call);
  }
};
template <bool Call> struct FarMp {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    uint64_t off = effective_address(m, d), v;
    int s = operand_segment(d);
    unsigned n = d.op_size;
    U<2> sel;
    if (n == 2) { U<2> x; RWD_TRY(m.template read<2>(s, off, x)); v = x; }
    else if (n == 4) { U<4> x; RWD_TRY(m.template read<4>(s, off, x)); v = x; }
    else RWD_TRY(m.template read<8>(s, off, v));
    RWD_TRY(m.template read<2>(s, (off + n) & size_mask(d.addr_size), sel));
    return far_transfer(m, d, sel, v, Call);
  }
};

// After a return to an outer ring, data segments the new CPL may not use
// become null (SDM: RET/IRET "for each of ES, FS, GS, DS").
template <class M> inline void drop_inaccessible_segments(M& m) {
  unsigned cpl = m.s.cpl();
  const int kData[] = {kSegEs, kSegDs, kSegFs, kSegGs};
  for (int s : kData) {
    core::SegmentCache& c = m.s.seg[s];
    unsigned type = c.attrs & sa::kTypeMask;
    bool data_or_nc = !(type & 8) || !(type & 4);
    if ((c.attrs & sa::kP) && data_or_nc && ((c.attrs >> sa::kDplShift) & 3) < cpl) {
      c.selector = 0;
      c.attrs = 0;
    }
  }
}

// Return to sel:off at privilege rpl (shared by RETF and IRET), popping the
// outer stack pointer from `sp` when the privilege changes. `sp` is the
// stack pointer after the return frame.
template <class M> inline bool return_far(M& m, unsigned n, uint16_t sel, uint64_t off, uint64_t& sp,
                                          uint64_t extra, bool always_pop_ss) {
  if ((sel & 0xfffc) == 0) return fail(m, vec::kGp, 0);
  Descriptor d;
  uint64_t addr;
  if (!read_descriptor(m, sel, d, &addr)) return false;
  unsigned cpl = m.s.cpl(), rpl = sel & 3;
  if (!d.code() || rpl < cpl) return fail(m, vec::kGp, sel_error(sel));
  if (d.conforming() ? d.dpl() > rpl : d.dpl() != rpl) return fail(m, vec::kGp, sel_error(sel));
  if (!d.present()) return fail(m, vec::kNp, sel_error(sel));
  bool to64 = m.s.long_mode_active() && (d.hi & (1u << 21));
  if (to64 && !canonical(off)) return fail(m, vec::kGp, 0);  // IRETQ/RETF to a non-canonical RIP
  sp += extra;
  if (rpl > cpl || always_pop_ss) {
    uint64_t new_sp, ss;
    if (!pop_n_at(m, n, sp, new_sp) || !pop_n_at(m, n, sp, ss)) return false;
    // The new SS is checked at the new privilege level.
    core::SegmentCache saved_cs = m.s.seg[kSegCs], saved_ss = m.s.seg[kSegSs];
    m.s.seg[kSegSs].attrs = uint16_t((m.s.seg[kSegSs].attrs & ~(3u << sa::kDplShift)) | (rpl << sa::kDplShift));
    bool null_ok = m.s.long_mode_active() && to64 && rpl < 3;
    bool ok;
    if ((ss & 0xfffc) == 0 && null_ok) {
      m.s.seg[kSegSs].selector = uint16_t(ss);
      m.s.seg[kSegSs].base = 0;
      m.s.seg[kSegSs].attrs = uint16_t(rpl << sa::kDplShift);
      ok = true;
    } else {
      ok = (ss & 3) == rpl ? load_data_segment(m, kSegSs, uint16_t(ss))
                           : fail(m, vec::kGp, sel_error(uint16_t(ss)));
    }
    if (!ok) {
      m.s.seg[kSegCs] = saved_cs;
      m.s.seg[kSegSs] = saved_ss;
      m.segments_changed();
      return false;
    }
    if (!mark_accessed(m, d, addr)) return false;
    commit_cs(m, sel, d, rpl);
    m.s.rip = to64 ? off : off & 0xffffffffull;
    sp = new_sp + extra;
    set_sp(m, sp);
    if (rpl > cpl) drop_inaccessible_segments(m);
    return true;
  }
  if (!mark_accessed(m, d, addr)) return false;
  commit_cs(m, sel, d, rpl);
  m.s.rip = to64 ? off : off & 0xffffffffull;
  set_sp(m, sp);
  return true;
}

template <bool Imm> struct RetFar {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    unsigned n = d.op_size;
    uint64_t sp = m.s.gpr[core::kRsp], off, sel;
    RWD_TRY(pop_n_at(m, n, sp, off));
    RWD_TRY(pop_n_at(m, n, sp, sel));
    uint64_t extra = Imm ? (d.imm & 0xffff) : 0;
    if (!m.s.protected_mode() || (m.s.rflags & fl::kVm)) {
      load_real(m.s.seg[kSegCs], uint16_t(sel));
      m.segments_changed();
      m.s.rip = off & size_mask(n);
      set_sp(m, sp + extra);
      return Status::kEndBlock;
    }
    RWD_TRY(return_far(m, n, uint16_t(sel), off, sp, extra, false));
    return Status::kEndBlock;
  }
};

// IRET / IRETD / IRETQ.
struct Iret {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    unsigned n = d.op_size;
    uint64_t sp = m.s.gpr[core::kRsp], ip, cs, flags;
    if (!m.s.protected_mode()) {
      RWD_TRY(pop_n_at(m, n, sp, ip));
      RWD_TRY(pop_n_at(m, n, sp, cs));
      RWD_TRY(pop_n_at(m, n, sp, flags));
      load_real(m.s.seg[kSegCs], uint16_t(cs));
      m.segments_changed();
      m.s.rip = ip & size_mask(n);
      set_sp(m, sp);
      write_flags_image(m, flags, n, 0, true);
      m.s.nmi_blocked = false;
      return Status::kEndBlock;
    }
    if ((m.s.rflags & fl::kVm) || (!m.s.long_mode_active() && (m.s.rflags & fl::kNt))) {
      m.unimplemented_feature("IRET from virtual-8086 mode or to a nested task");
      return raise_err(m, vec::kGp, 0);
    }
    RWD_TRY(pop_n_at(m, n, sp, ip));
    RWD_TRY(pop_n_at(m, n, sp, cs));
    RWD_TRY(pop_n_at(m, n, sp, flags));
    if (!m.s.long_mode_active() && (flags & fl::kVm) && m.s.cpl() == 0) {
      m.unimplemented_feature("IRET to virtual-8086 mode");
      return raise_err(m, vec::kGp, 0);
    }
    unsigned old_cpl = m.s.cpl();
    uint64_t old_flags = m.s.rflags;
    bool from64 = m.mode() == DecodeMode::k64;
    RWD_TRY(return_far(m, n, uint16_t(cs), ip, sp, 0, from64));
    // Flags are applied with the privilege of the IRET itself.
    m.s.rflags = old_flags;
    write_flags_image(m, flags, n, old_cpl, true);
    m.s.nmi_blocked = false;
    return Status::kEndBlock;
  }
};


// ---- descriptor queries: LAR, LSL, VERR, VERW ---------------------------------

// The descriptor of `sel` when it lies inside its table, without faulting
// for a selector that does not (ZF = 0 then); false only for a memory fault.
template <class M> inline bool probe_descriptor(M& m, uint16_t sel, Descriptor& desc, bool& found) {
  uint64_t a;
  found = (sel & 0xfffc) != 0 && descriptor_slot(m, sel, a);
  if (!found) return true;
  return m.template read_sys<4>(a, desc.lo) && m.template read_sys<4>(a + 4, desc.hi);
}

enum class DescQuery : uint8_t { kLar, kLsl, kVerr, kVerw };

// Whether a descriptor may be queried at the current CPL and the selector's
// RPL (SDM Vol. 2, LAR/LSL/VERR/VERW): the system types each accepts
// (fewer in IA-32e mode), readability/writability for VERR/VERW, and
// DPL >= max(CPL, RPL) except for conforming code segments.
template <class M> inline bool descriptor_visible(M& m, DescQuery q, uint16_t sel, const Descriptor& d) {
  bool ia32e = m.s.long_mode_active();
  if (!d.s()) {
    if (q == DescQuery::kVerr || q == DescQuery::kVerw) return false;
    unsigned t = d.type();
    bool ok;
    if (ia32e) ok = t == 2 || t == 9 || t == 11 || (q == DescQuery::kLar && t == 12);
    else ok = t == 1 || t == 2 || t == 3 || t == 9 || t == 11 || (q == DescQuery::kLar && (t == 4 || t == 5 || t == 12));
    if (!ok) return false;
  } else if (q == DescQuery::kVerr && d.code() && !d.readable_code()) {
    return false;
  } else if (q == DescQuery::kVerw && !d.writable_data()) {
    return false;
  }
  if (d.s() && d.conforming() && q != DescQuery::kVerw) return true;
  unsigned cpl = m.s.cpl(), rpl = sel & 3;
  return d.dpl() >= cpl && d.dpl() >= rpl;
}

// LAR/LSL r, r/m16 and VERR/VERW r/m16: ZF tells whether the selector was
// visible; LAR loads the access rights (descriptor bits 8-23 of the high
// word, with the limit bits 16-19 cleared), LSL the byte-granular limit.
template <DescQuery Q, bool Mem> struct DescriptorQuery {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (!m.s.protected_mode() || (m.s.rflags & fl::kVm)) return raise(m, vec::kUd);
    Rm<2, Mem> src(m, d);
    U<2> sel;
    RWD_TRY(src.read(m, d, sel));
    Descriptor desc;
    bool found;
    RWD_TRY(probe_descriptor(m, sel, desc, found));
    bool ok = found && descriptor_visible(m, Q, sel, desc);
    if (ok && Q == DescQuery::kLar) set_reg_n(m, d.reg, d.op_size, desc.hi & 0x00f0ff00u);
    if (ok && Q == DescQuery::kLsl) set_reg_n(m, d.reg, d.op_size, desc.limit());
    set_flags(m.s, fl::kZf, ok ? fl::kZf : 0);
    return Status::kNext;
  }
};

// ARPL r/m16, r16 (legacy modes): raises the destination's RPL to the source's.
template <bool Mem> struct Arpl {
  template <class M> static Status run(M& m, const DecodedInsn& d) {
    if (!m.s.protected_mode() || (m.s.rflags & fl::kVm)) return raise(m, vec::kUd);
    // A read, then a write only when the RPL changes: a fault reading the
    // operand is a read's (as on the host).
    Rm<2, Mem> dst(m, d);
    U<2> v;
    RWD_TRY(dst.read(m, d, v));
    U<2> src = get_reg<2>(m, d, d.reg);
    bool raise_rpl = (v & 3) < (src & 3);
    if (raise_rpl) RWD_TRY(dst.write(m, d, U<2>((v & ~3u) | (src & 3))));
    set_flags(m.s, fl::kZf, raise_rpl ? fl::kZf : 0);
    return Status::kNext;
  }
};

}  // namespace rwd::tcg
