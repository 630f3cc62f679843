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

// Error codes for faults raised while delivering an external event carry EXT.
inline uint32_t idt_error(uint8_t vector, EventKind kind) {
  return (uint32_t(vector) << 3) | 2 | (kind == EventKind::kExternal ? 1 : 0);
}

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

// Writes one stack slot at linear base+sp (the new stack may not be SS yet).
template <class M> inline bool push_linear(M& m, uint64_t base, uint64_t& sp, uint64_t mask, unsigned n,
                                           uint64_t v) {
  sp = (sp - n) & mask;
  if (n == 8) return m.template write_sys<8>(base + sp, v);
  if (n == 4) return m.template write_sys<4>(base + sp, U<4>(v));
  return m.template write_sys<2>(base + sp, U<2>(v));
}

template <class M> inline bool deliver_protected(M& m, uint8_t vector, EventKind kind, bool has_err,
                                                 uint32_t err) {
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

  if ((sel & 0xfffc) == 0) return fail(m, vec::kGp, kind == EventKind::kExternal ? 1 : 0);
  Descriptor cs;
  uint64_t cs_addr;
  if (!read_descriptor(m, sel, cs, &cs_addr)) return false;
  if (!cs.code() || cs.dpl() > cpl) return fail(m, vec::kGp, sel_error(sel));
  if (!cs.present()) return fail(m, vec::kNp, sel_error(sel));
  if (lm && !(cs.hi & (1u << 21))) return fail(m, vec::kGp, sel_error(sel));
  const uint32_t ext = kind == EventKind::kExternal ? 1 : 0;
  if (lm && !canonical(off)) return fail(m, vec::kGp, ext);
  unsigned new_cpl = cs.conforming() ? cpl : cs.dpl();
  unsigned n = lm ? 8 : is32 ? 4 : 2;

  uint64_t old_ss = m.s.seg[kSegSs].selector, old_sp = m.s.gpr[core::kRsp];
  uint64_t sp = old_sp, ss_base = m.s.seg[kSegSs].base, mask = size_mask(m.stack_size());
  core::SegmentCache new_ss = m.s.seg[kSegSs];
  bool switch_stack = new_cpl < cpl;
  unsigned ist = lm ? (g1 & 7) : 0;
  if (lm) {
    ss_base = 0;
    mask = ~0ull;
    if (switch_stack || ist) {
      uint64_t slot = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * new_cpl;
      if (slot + 7 > m.s.tr.limit) return fail(m, vec::kTs, sel_error(m.s.tr.selector));
      if (!m.template read_sys<8>(m.s.tr.base + slot, sp)) return false;
    }
    if (switch_stack) {
      new_ss.selector = uint16_t(new_cpl);
      new_ss.base = 0;
      new_ss.limit = 0;
      new_ss.attrs = uint16_t(new_cpl << sa::kDplShift);
    }
    sp &= ~0xfull;
    // The frame (up to 6 slots) must lie at canonical addresses: #SS.
    if (!canonical(sp - 1) || !canonical(sp - 48)) return fail(m, vec::kSs, ext);
  } else if (switch_stack) {
    // 32-bit TSS: ESPn at 4 + 8n, SSn at 8 + 8n; 16-bit TSS: SPn at 2 + 4n, SSn at 4 + 4n.
    bool tss32 = (m.s.tr.attrs & 0xf) == 0x9 || (m.s.tr.attrs & 0xf) == 0xb;
    uint64_t esp_off = tss32 ? 4 + 8 * new_cpl : 2 + 4 * new_cpl;
    uint64_t ss_off = tss32 ? 8 + 8 * new_cpl : 4 + 4 * new_cpl;
    if (ss_off + 1 > m.s.tr.limit) return fail(m, vec::kTs, sel_error(m.s.tr.selector));
    U<2> nss;
    if (tss32) {
      U<4> esp;
      if (!m.template read_sys<4>(m.s.tr.base + esp_off, esp)) return false;
      sp = esp;
    } else {
      U<2> esp;
      if (!m.template read_sys<2>(m.s.tr.base + esp_off, esp)) return false;
      sp = esp;
    }
    if (!m.template read_sys<2>(m.s.tr.base + ss_off, nss)) return false;
    Descriptor ssd;
    if ((nss & 0xfffc) == 0) return fail(m, vec::kTs, sel_error(nss));
    if (!read_descriptor(m, nss, ssd)) return false;
    if ((nss & 3) != new_cpl || ssd.dpl() != new_cpl || !ssd.writable_data())
      return fail(m, vec::kTs, sel_error(nss));
    if (!ssd.present()) return fail(m, vec::kSs, sel_error(nss));
    set_cache(new_ss, nss, ssd);
    ss_base = new_ss.base;
    mask = (new_ss.attrs & sa::kDb) ? 0xffffffffull : 0xffff;
  }

  uint64_t flags = (m.s.rflags & ~fl::kRf) | fl::kFixed1;
  if (lm || switch_stack) {
    if (!push_linear(m, ss_base, sp, mask, n, old_ss) || !push_linear(m, ss_base, sp, mask, n, old_sp))
      return false;
  }
  if (!push_linear(m, ss_base, sp, mask, n, flags) ||
      !push_linear(m, ss_base, sp, mask, n, m.s.seg[kSegCs].selector) ||
      !push_linear(m, ss_base, sp, mask, n, m.s.rip))
    return false;
  if (has_err && !push_linear(m, ss_base, sp, mask, n, err)) return false;

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
template <class M> inline bool deliver_event(M& m, uint8_t vector, EventKind kind, bool has_err, uint32_t err) {
  if (vector == vec::kNmi && kind == EventKind::kExternal) m.s.nmi_blocked = true;
  m.s.halted = false;
  if (!m.s.protected_mode()) return deliver_real(m, vector);
  return deliver_protected(m, vector, kind, has_err, err);
}

// Which exceptions push an error code (SDM Vol. 3 Table 6-1).
inline bool exception_has_error(uint8_t vector) {
  return vector == vec::kDf || (vector >= vec::kTs && vector <= vec::kPf) || vector == vec::kAc ||
         vector == 21 || vector == 29 || vector == 30;
}

}  // namespace rwd::tcg
