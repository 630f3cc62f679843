// Delivery of exceptions and interrupts through the IVT (real mode) or the IDT
// (protected mode: 16/32-bit interrupt and trap gates, stack switch through
// the TSS on a privilege change; long mode: 64-bit gates, IST, IRETQ frame).
// Delivering an event is not an instruction: it never touches icount.
// A fault while delivering returns false with the new exception recorded; the
// caller (the vCPU) turns that into #DF or a triple fault.
#pragma once

#include "tcg-llvm/semantics/segment.h"

namespace rwd::tcg {

enum class EventKind : uint8_t {
  kException,  // fault or trap raised by the CPU
  kExternal,   // INTR / NMI
  kSoftware,   // INT n, INT3, INTO: gate DPL is checked against CPL
};

// Error codes of faults raised while delivering an event carry EXT unless
// the event is INT n, INT3 or INTO (SDM Vol. 3 §6.13).
inline uint32_t event_ext(EventKind kind) { return kind == EventKind::kSoftware ? 0 : 1; }
inline uint32_t idt_error(uint8_t vector, EventKind kind) { return (uint32_t(vector) << 3) | 2 | event_ext(kind); }

template <class M> inline bool deliver_real(M& m, uint8_t vector) {
  uint64_t entry = uint64_t(vector) * 4;
  if (entry + 3 > m.s.idtr.limit) return fail(m, vec::kGp, 0);
  U<4> ivt;
  if (!m.template read_sys<4>(m.s.idtr.base + entry, ivt)) return false;
  uint64_t sp = m.s.gpr[core::kRsp];
  if (!push<2>(m, U<2>(m.s.rflags)) || !push<2>(m, m.s.seg[kSegCs].selector) ||
      !push<2>(m, U<2>(m.s.rip))) {
    m.s.gpr[core::kRsp] = sp;
    return false;
  }
  m.s.rflags &= ~(fl::kIf | fl::kTf | fl::kAc | fl::kRf);
  load_real(m.s.seg[kSegCs], uint16_t(ivt >> 16));
  m.segments_changed();
  m.s.rip = ivt & 0xffff;
  return true;
}

template <class M> inline bool deliver_protected(M& m, uint8_t vector, EventKind kind, bool has_err,
                                                 uint32_t err, bool rf) {
  bool lm = m.s.long_mode_active();
  unsigned gate_size = lm ? 16 : 8;
  uint32_t gerr = idt_error(vector, kind);
  if (uint64_t(vector) * gate_size + gate_size - 1 > m.s.idtr.limit) return fail(m, vec::kGp, gerr);
  uint64_t gaddr = m.s.idtr.base + uint64_t(vector) * gate_size;
  U<4> g0, g1, g2 = 0;
  if (!m.template read_sys<4>(gaddr, g0) || !m.template read_sys<4>(gaddr + 4, g1)) return false;
  if (lm && !m.template read_sys<4>(gaddr + 8, g2)) return false;
  unsigned type = (g1 >> 8) & 0xf, gdpl = (g1 >> 13) & 3;
  bool is32 = type == 0xe || type == 0xf;
  bool is16 = !lm && (type == 0x6 || type == 0x7);
  if (type == 0x5 && !lm) {
    m.unimplemented_feature("task gate in the IDT");
    return fail(m, vec::kGp, gerr);
  }
  if (!is32 && !is16) return fail(m, vec::kGp, gerr);
  unsigned cpl = m.s.cpl();
  if (kind == EventKind::kSoftware && gdpl < cpl) return fail(m, vec::kGp, gerr);
  if (!(g1 & (1u << 15))) return fail(m, vec::kNp, gerr);
  bool trap = type & 1;
  uint16_t sel = uint16_t(g0 >> 16);
  uint64_t off = (g0 & 0xffff) | (g1 & 0xffff0000ull) | (uint64_t(g2) << 32);
  if (is16) off &= 0xffff;

  const uint32_t ext = event_ext(kind);
  if ((sel & 0xfffc) == 0) return fail(m, vec::kGp, ext);
  Descriptor cs;
  uint64_t cs_addr, slot;
  if (!descriptor_slot(m, sel, slot)) return fail(m, vec::kGp, sel_error(sel) | ext);
  if (!read_descriptor(m, sel, cs, &cs_addr)) return false;
  if (!cs.code() || cs.dpl() > cpl) return fail(m, vec::kGp, sel_error(sel) | ext);
  if (!cs.present()) return fail(m, vec::kNp, sel_error(sel) | ext);
  if (lm && !(cs.hi & (1u << 21))) return fail(m, vec::kGp, sel_error(sel) | ext);
  if (lm && !canonical(off)) return fail(m, vec::kGp, ext);
  unsigned new_cpl = cs.conforming() ? cpl : cs.dpl();
  unsigned n = lm ? 8 : is32 ? 4 : 2;

  uint64_t old_ss = m.s.seg[kSegSs].selector, old_sp = m.s.gpr[core::kRsp];
  core::SegmentCache new_ss = m.s.seg[kSegSs];
  const bool switch_stack = new_cpl < cpl;
  const unsigned ist = lm ? (g1 & 7) : 0;
  // Without a stack switch the frame goes on the current stack through SS,
  // except in IA-32e mode at an inner ring, where it is written at RSP
  // whatever mode the event interrupted.
  FrameStack frame{lm && new_cpl < 3, 0, old_sp, size_mask(m.stack_size())};
  if (switch_stack || ist) {
    if (!inner_stack(m, new_cpl, ist, ext, new_ss, frame.sp)) return false;
    if (!switch_stack) new_ss = m.s.seg[kSegSs];  // IST at the same ring: SS stays
    frame.inner = true;
    frame.base = new_ss.base;
    frame.mask = lm ? ~0ull : (new_ss.attrs & sa::kDb) ? 0xffffffffull : 0xffff;
    const unsigned slots = 5 + (has_err ? 1 : 0);
    if (!lm && !inner_stack_room(m, new_ss, frame.sp, frame.mask, n * slots, ext)) return false;
  }
  if (lm) {
    frame.base = 0;
    frame.mask = ~0ull;
    frame.sp &= ~0xfull;
    // The frame (up to 6 slots) must lie at canonical addresses: #SS.
    if (!canonical(frame.sp - 1) || !canonical(frame.sp - 48)) return fail(m, vec::kSs, ext);
  }

  uint64_t flags = (m.s.rflags & ~fl::kRf) | (rf ? fl::kRf : 0) | fl::kFixed1;
  if (lm || switch_stack) {
    if (!frame.push(m, n, old_ss) || !frame.push(m, n, old_sp)) return false;
  }
  if (!frame.push(m, n, flags) || !frame.push(m, n, m.s.seg[kSegCs].selector) || !frame.push(m, n, m.s.rip))
    return false;
  if (has_err && !frame.push(m, n, err)) return false;
  const uint64_t sp = frame.sp;

  if (!mark_accessed(m, cs, cs_addr)) return false;
  m.s.seg[kSegSs] = new_ss;
  set_cache(m.s.seg[kSegCs], uint16_t((sel & 0xfffc) | new_cpl), cs);
  m.segments_changed();
  set_sp(m, sp);
  m.s.rip = off;
  m.s.rflags &= ~(fl::kTf | fl::kNt | fl::kRf | fl::kVm);
  if (!trap) m.s.rflags &= ~fl::kIf;
  if (switch_stack && !lm) drop_inaccessible_segments(m);
  return true;
}

// Delivers one event at the current RIP (the faulting instruction for faults,
// the next instruction for traps, software interrupts and external events).
// `rf` is the RF the pushed flags image carries (the tier applies SDM Vol. 3
// §17.3.1.1: 1 for faults and for events in the middle of a REP string
// instruction, else EFLAGS.RF as it is).
template <class M> inline bool deliver_event(M& m, uint8_t vector, EventKind kind, bool has_err, uint32_t err,
                                             bool rf) {
  if (vector == vec::kNmi && kind == EventKind::kExternal) m.s.nmi_blocked = true;
  m.s.halted = false;
  m.s.mid_rep_icount = ~0ull;  // the handler's first instruction is not between iterations
  if (!m.s.protected_mode()) return deliver_real(m, vector);
  return deliver_protected(m, vector, kind, has_err, err, rf);
}

// Fault-class exceptions: every exception but the traps (#DB, #BP, #OF) and
// the aborts (#DF, #MC).
inline bool fault_class(uint8_t vector) {
  return vector != vec::kDb && vector != vec::kBp && vector != vec::kOf && vector != vec::kDf && vector != 18;
}

// Which exceptions push an error code (SDM Vol. 3 Table 6-1).
inline bool exception_has_error(uint8_t vector) {
  return vector == vec::kDf || (vector >= vec::kTs && vector <= vec::kPf) || vector == vec::kAc ||
         vector == 21 || vector == 29 || vector == 30;
}

}  // namespace rwd::tcg
