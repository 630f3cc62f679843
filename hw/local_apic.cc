#include "hw/local_apic.h"

#include <bit>

namespace rwd::hw {

namespace {

// Register numbers: MMIO offset >> 4, x2APIC MSR - 0x800.
enum Reg : unsigned {
  kIdReg = 0x2, kVersionReg = 0x3, kTpr = 0x8, kApr = 0x9, kPpr = 0xa, kEoi = 0xb, kRrd = 0xc, kLdr = 0xd, kDfr = 0xe,
  kSvr = 0xf, kIsr0 = 0x10, kTmr0 = 0x18, kIrr0 = 0x20, kEsr = 0x28, kLvtCmci = 0x2f, kIcrLow = 0x30,
  kIcrHigh = 0x31, kLvtTimerReg = 0x32, kLvtErrorReg = 0x37, kInitialCount = 0x38, kCurrentCount = 0x39,
  kDcr = 0x3e, kSelfIpi = 0x3f,
};

constexpr uint32_t kMasked = 1u << 16;
constexpr uint32_t kLevelTrigger = 1u << 15;
constexpr uint8_t kTimerOneShot = 0, kTimerPeriodic = 1, kTimerTscDeadline = 2;
// Writable bits of each LVT entry: vector, delivery mode (not the timer's),
// polarity and trigger (LINT0/1 only), mask, timer mode.
constexpr uint32_t kLvtWritable[] = {0x000700ff, 0x000107ff, 0x000107ff, 0x0001a7ff, 0x0001a7ff, 0x000100ff};
// ESR bits.
constexpr uint32_t kSendIllegalVector = 1u << 5, kReceiveIllegalVector = 1u << 6, kIllegalRegister = 1u << 7;

bool test(const std::array<uint32_t, 8>& bits, unsigned v) { return (bits[v >> 5] >> (v & 31)) & 1; }
void set(std::array<uint32_t, 8>& bits, unsigned v) { bits[v >> 5] |= 1u << (v & 31); }
void clear(std::array<uint32_t, 8>& bits, unsigned v) { bits[v >> 5] &= ~(1u << (v & 31)); }
int highest(const std::array<uint32_t, 8>& bits) {
  for (int i = 7; i >= 0; --i)
    if (bits[i]) return i * 32 + 31 - std::countl_zero(bits[i]);
  return -1;
}

}  // namespace

// ---- the bus -------------------------------------------------------------------

void ApicBus::deliver(const ApicMessage& message) {
  if (message.mode == apic_mode::kLowestPriority) {
    // The target with the lowest processor priority, ties to the lowest ID.
    LocalApic* best = nullptr;
    for (LocalApic* apic : apics_) {
      if (!apic->accepts(message)) continue;
      if (!best || apic->ppr() < best->ppr() || (apic->ppr() == best->ppr() && apic->id() < best->id())) best = apic;
    }
    if (best) best->receive(message);
    return;
  }
  for (LocalApic* apic : apics_)
    if (apic->accepts(message)) apic->receive(message);
}

// ---- the APIC ------------------------------------------------------------------

LocalApic::LocalApic(unsigned index, core::VirtualClock& clock, core::TimerQueue& timers,
                     core::RunControl& run_control, ApicBus& bus,
                     std::function<const core::X86CpuState&()> cpu_state, std::function<uint64_t()> tsc,
                     core::InterruptController* pic, core::IrqSink& cpu_pins)
    : index_(index),
      clock_(clock),
      run_control_(run_control),
      bus_(bus),
      cpu_state_(std::move(cpu_state)),
      tsc_(std::move(tsc)),
      pic_(pic),
      cpu_pins_(cpu_pins),
      timer_(timers, "lapic-timer@" + std::to_string(index), [this] { on_timer(); }),
      id_(index) {
  reset();
}

void LocalApic::reset() {
  timer_.cancel();
  tpr_ = 0;
  ldr_ = 0;
  dfr_ = 0xffffffff;
  svr_ = 0xff;
  irr_ = {};
  isr_ = {};
  tmr_ = {};
  esr_ = esr_pending_ = 0;
  icr_ = 0;
  lvt_.fill(kMasked);
  // The bootstrap processor's LINT0 as QEMU leaves it: ExtINT, unmasked.
  if (index_ == 0) lvt_[kLvtLint0] = apic_mode::kExtInt << 8;
  initial_count_ = 0;
  dcr_ = 0;
  count_load_ns_ = 0;
  tsc_deadline_ = 0;
  update_intr();
}

void LocalApic::init_ipi() {
  // INIT: everything but the ID and the APIC base (SDM 11.4.7.3), and every
  // LVT masked, the bootstrap processor's LINT0 included.
  reset();
  lvt_.fill(kMasked);
  update_intr();
}

bool LocalApic::hw_enabled() const { return cpu_state_().apic_base & core::apic_base::kEnable; }
bool LocalApic::x2apic() const {
  return (cpu_state_().apic_base & (core::apic_base::kEnable | core::apic_base::kExtd)) ==
         (core::apic_base::kEnable | core::apic_base::kExtd);
}

uint32_t LocalApic::logical_id() const {
  if (x2apic()) return ((id_ >> 4) << 16) | (1u << (id_ & 0xf));
  return ldr_ >> 24;
}

uint8_t LocalApic::ppr() const {
  int isrv = highest(isr_);
  uint8_t isr_class = isrv < 0 ? 0 : uint8_t(isrv & 0xf0);
  return (tpr_ & 0xf0) >= isr_class ? tpr_ : isr_class;
}

int LocalApic::highest_irr() const { return highest(irr_); }

bool LocalApic::pic_path() const {
  if (!hw_enabled()) return true;
  uint32_t lint0 = lvt_[kLvtLint0];
  return !(lint0 & kMasked) && ((lint0 >> 8) & 7) == apic_mode::kExtInt;
}

void LocalApic::update_intr() {
  bool level = false;
  if (hw_enabled() && sw_enabled()) {
    int v = highest_irr();
    level = v >= 0 && (v & 0xf0) > (ppr() & 0xf0);
  }
  if (pic_path() && lint0_level_) level = true;
  if (level != intr_out_) {
    intr_out_ = level;
    cpu_pins_.set_irq(core::kCpuPinIntr, level);
  }
}

uint8_t LocalApic::acknowledge() {
  if (hw_enabled() && sw_enabled()) {
    int v = highest_irr();
    if (v >= 0 && (v & 0xf0) > (ppr() & 0xf0)) {
      clear(irr_, unsigned(v));
      set(isr_, unsigned(v));
      update_intr();
      return uint8_t(v);
    }
  }
  if (pic_path() && lint0_level_ && pic_) {
    uint8_t v = pic_->acknowledge();
    update_intr();
    return v;
  }
  // INTR fell between the CPU's sampling and INTA (a TPR raise): spurious.
  update_intr();
  return uint8_t(svr_ & 0xff);
}

void LocalApic::set_irq(unsigned pin, bool level) {
  if (pin == kLint0) {
    lint0_level_ = level;
    update_intr();
    return;
  }
  // LINT1: NMI (as firmware and Linux program it) or a fixed vector, on the rising edge.
  bool rising = level && !lint1_level_;
  lint1_level_ = level;
  if (rising && hw_enabled()) deliver_local(lvt_[kLvtLint1]);
}

void LocalApic::raise_nmi() {
  // NMI is an edge at the CPU.
  cpu_pins_.set_irq(core::kCpuPinNmi, true);
  cpu_pins_.set_irq(core::kCpuPinNmi, false);
}

void LocalApic::deliver_local(uint32_t lvt) {
  if (lvt & kMasked) return;
  switch ((lvt >> 8) & 7) {
    case apic_mode::kNmi:
      raise_nmi();
      return;
    case apic_mode::kFixed: accept_vector(uint8_t(lvt), (lvt & kLevelTrigger) != 0); return;
    default:
      run_control_.warn_once("lapic-lvt-mode", "local APIC: an LVT entry with delivery mode " +
                                                   std::to_string((lvt >> 8) & 7) + " fired; only fixed and NMI are modelled");
      return;
  }
}

void LocalApic::set_error(uint32_t bit) {
  esr_pending_ |= bit;
  uint32_t lvt = lvt_[kLvtError];
  if (!(lvt & kMasked)) {
    uint8_t v = uint8_t(lvt);
    if (v >= 16) {
      set(irr_, v);
      clear(tmr_, v);
      update_intr();
    }
  }
}

void LocalApic::accept_vector(uint8_t vector, bool level) {
  if (vector < 16) {
    set_error(kReceiveIllegalVector);
    return;
  }
  set(irr_, vector);
  if (level) set(tmr_, vector);
  else clear(tmr_, vector);
  update_intr();
}

bool LocalApic::accepts(const ApicMessage& m) const {
  if (!m.logical) {
    uint32_t broadcast = m.x2apic_format ? 0xffffffffu : 0xffu;
    return m.destination == broadcast || m.destination == id_;
  }
  if (x2apic()) {
    if (m.destination == 0xffffffffu) return true;
    uint32_t ldr = logical_id();
    return (m.destination >> 16) == (ldr >> 16) && (m.destination & ldr & 0xffff);
  }
  uint8_t dest = uint8_t(m.destination);
  if (dest == 0xff) return true;
  uint8_t ldr = uint8_t(logical_id());
  if ((dfr_ >> 28) == 0xf) return (dest & ldr) != 0;       // flat
  return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);  // cluster
}

void LocalApic::receive(const ApicMessage& m) {
  switch (m.mode) {
    case apic_mode::kFixed:
    case apic_mode::kLowestPriority:
      if (hw_enabled()) accept_vector(m.vector, m.level_triggered);
      return;
    case apic_mode::kNmi:
      raise_nmi();
      return;
    case apic_mode::kInit:
      if (m.level_triggered && !m.assert_level) return;  // INIT level de-assert
      bus_.startup(index_, true, 0);
      return;
    case apic_mode::kStartup: bus_.startup(index_, false, m.vector); return;
    case apic_mode::kExtInt:
      // Virtual wire through the IOAPIC: the 8259's vector on INTA.
      run_control_.warn_once("lapic-extint", "local APIC: ExtINT messages from the IOAPIC are not modelled");
      return;
    default:
      run_control_.warn_once("lapic-smi", "local APIC: SMI is not modelled; the message was dropped");
      return;
  }
}

void LocalApic::eoi() {
  int v = highest(isr_);
  if (v < 0) return;
  clear(isr_, unsigned(v));
  if (test(tmr_, unsigned(v))) bus_.broadcast_eoi(uint8_t(v));
  update_intr();
}

void LocalApic::send_ipi(uint64_t icr, uint32_t destination) {
  ApicMessage m;
  m.vector = uint8_t(icr);
  m.mode = uint8_t((icr >> 8) & 7);
  m.logical = (icr >> 11) & 1;
  m.assert_level = (icr >> 14) & 1;
  m.level_triggered = (icr >> 15) & 1;
  m.x2apic_format = x2apic();
  m.destination = destination;
  if ((m.mode == apic_mode::kFixed || m.mode == apic_mode::kLowestPriority) && m.vector < 16) {
    set_error(kSendIllegalVector);
    return;
  }
  switch ((icr >> 18) & 3) {
    case 0: bus_.deliver(m); return;
    case 1: receive(m); return;  // self
    case 2:                      // all including self
    case 3:                      // all excluding self
      for (LocalApic* apic : bus_.apics())
        if (apic != this || ((icr >> 18) & 3) == 2) apic->receive(m);
      return;
  }
}

// ---- registers -------------------------------------------------------------------

bool LocalApic::read_register(unsigned reg, uint64_t& value) {
  const bool x2 = x2apic();
  switch (reg) {
    case kIdReg: value = x2 ? id_ : uint64_t(id_) << 24; return true;
    case kVersionReg: value = kVersion; return true;
    case kTpr: value = tpr_; return true;
    case kApr: value = 0; return !x2;  // no x2APIC MSR
    case kPpr: value = ppr(); return true;
    case kEoi: value = 0; return !x2;  // write-only in x2APIC mode
    case kRrd: value = 0; return !x2;
    case kLdr: value = x2 ? logical_id() : ldr_; return true;
    case kDfr: value = dfr_; return !x2;
    case kSvr: value = svr_; return true;
    case kEsr: value = esr_; return true;
    case kIcrLow: value = x2 ? icr_ : uint32_t(icr_); return true;
    case kIcrHigh: value = icr_ >> 32; return !x2;
    case kInitialCount: value = initial_count_; return true;
    case kCurrentCount: value = timer_current_count(); return true;
    case kDcr: value = dcr_; return true;
    case kSelfIpi: value = 0; return false;
    case kLvtCmci: value = 0; return false;  // no CMCI (the version register counts 6 LVTs)
    default:
      if (reg >= kIsr0 && reg < kIsr0 + 8) { value = isr_[reg - kIsr0]; return true; }
      if (reg >= kTmr0 && reg < kTmr0 + 8) { value = tmr_[reg - kTmr0]; return true; }
      if (reg >= kIrr0 && reg < kIrr0 + 8) { value = irr_[reg - kIrr0]; return true; }
      if (reg >= kLvtTimerReg && reg <= kLvtErrorReg) { value = lvt_[reg - kLvtTimerReg]; return true; }
      value = 0;
      return false;
  }
}

bool LocalApic::write_register(unsigned reg, uint64_t value, bool via_msr) {
  const uint32_t v = uint32_t(value);
  // x2APIC MSRs other than the ICR are 32 bits: the upper half must be zero.
  if (via_msr && reg != kIcrLow && (value >> 32)) return false;
  switch (reg) {
    case kTpr:
      if (via_msr && (v & ~0xffu)) return false;
      tpr_ = uint8_t(v);
      update_intr();
      return true;
    case kEoi:
      if (via_msr && v) return false;
      eoi();
      return true;
    case kLdr:
      if (via_msr) return false;  // read-only in x2APIC mode
      ldr_ = v & 0xff000000u;
      return true;
    case kDfr:
      if (via_msr) return false;
      dfr_ = v | 0x0fffffffu;
      return true;
    case kSvr: {
      if (via_msr && (v & ~0x13ffu)) return false;
      svr_ = v & 0x3ffu;  // vector, APIC enable, focus check (no EOI-broadcast suppression)
      if (!sw_enabled())
        for (uint32_t& lvt : lvt_) lvt |= kMasked;
      update_intr();
      return true;
    }
    case kEsr:
      if (via_msr && v) return false;
      esr_ = esr_pending_;
      esr_pending_ = 0;
      return true;
    case kIcrLow:
      if (via_msr) {
        icr_ = value & ~(uint64_t(1) << 12);
        send_ipi(icr_, uint32_t(icr_ >> 32));
      } else {
        icr_ = (icr_ & 0xffffffff00000000ull) | (v & ~(1u << 12));
        send_ipi(icr_, uint32_t(icr_ >> 56));
      }
      return true;
    case kIcrHigh:
      if (via_msr) return false;
      icr_ = (icr_ & 0xffffffffull) | (uint64_t(v & 0xff000000u) << 32);
      return true;
    case kInitialCount:
      if (timer_mode() == kTimerTscDeadline) return true;  // ignored in TSC-deadline mode
      initial_count_ = v;
      count_load_ns_ = clock_.now_ns();
      arm_timer();
      return true;
    case kDcr: {
      // The count goes on at the new rate from what it has reached.
      uint32_t current = timer_current_count();
      dcr_ = v & 0xb;
      if (initial_count_ && timer_mode() != kTimerTscDeadline) {
        // Reload so that the current count is kept.
        uint64_t elapsed = uint64_t(initial_count_ - current) << timer_shift();
        count_load_ns_ = clock_.now_ns() - elapsed;
        arm_timer();
      }
      return true;
    }
    case kSelfIpi:
      if (!via_msr || (v & ~0xffu)) return false;
      accept_vector(uint8_t(v), false);
      return true;
    default:
      if (reg >= kLvtTimerReg && reg <= kLvtErrorReg) {
        unsigned n = reg - kLvtTimerReg;
        uint32_t nv = v & kLvtWritable[n];
        if (via_msr && (v & ~kLvtWritable[n])) return false;
        if (!sw_enabled()) nv |= kMasked;
        if (n == kLvtTimer && ((nv >> 17) & 3) == 3) nv &= ~(3u << 17);  // reserved mode: one-shot
        bool mode_change = n == kLvtTimer && ((nv ^ lvt_[n]) >> 17 & 3);
        lvt_[n] = nv;
        if (mode_change) {
          // Entering or leaving TSC-deadline mode disarms the timer.
          initial_count_ = 0;
          tsc_deadline_ = 0;
          arm_timer();
        }
        update_intr();  // LINT0's mask and mode decide whether the 8259 reaches INTR
        return true;
      }
      // Read-only (ID, version, PPR, ISR/TMR/IRR, current count) or reserved.
      return !via_msr;
  }
}

uint32_t LocalApic::mmio_read(uint32_t offset) {
  if (x2apic() || !hw_enabled()) return 0xffffffffu;  // the MMIO window is off
  uint64_t value = 0;
  if (!read_register(offset >> 4, value)) set_error(kIllegalRegister);
  return uint32_t(value);
}

void LocalApic::mmio_write(uint32_t offset, uint32_t value) {
  if (x2apic() || !hw_enabled()) return;
  unsigned reg = offset >> 4;
  if (reg == kSelfIpi) return;  // x2APIC only
  if (!write_register(reg, value, false)) set_error(kIllegalRegister);
}

bool LocalApic::read_msr(uint32_t index, uint64_t& value) {
  if (index == core::msr::kTscDeadline) {
    value = timer_mode() == kTimerTscDeadline ? tsc_deadline_ : 0;
    return true;
  }
  if (!x2apic()) return false;
  return read_register(index - core::msr::kX2apicFirst, value);
}

bool LocalApic::write_msr(uint32_t index, uint64_t value) {
  if (index == core::msr::kTscDeadline) {
    if (timer_mode() != kTimerTscDeadline) return true;  // ignored in the other modes
    tsc_deadline_ = value;
    arm_timer();
    return true;
  }
  if (!x2apic()) return false;
  return write_register(index - core::msr::kX2apicFirst, value, true);
}

void LocalApic::apic_base_changed(uint64_t old_value) {
  uint64_t now = cpu_state_().apic_base;
  if ((old_value & core::apic_base::kEnable) && !(now & core::apic_base::kEnable)) {
    // Globally disabled: as after power-on, LVTs masked, software-disabled.
    reset();
    lvt_.fill(kMasked);
  }
  if ((now & ~uint64_t(0xfff)) != kDefaultBase && (now & core::apic_base::kEnable) &&
      !(now & core::apic_base::kExtd))
    run_control_.warn_once("lapic-relocated", "local APIC: the xAPIC window was moved away from 0xfee00000; it "
                                              "stays there (relocation is not modelled)");
  update_intr();
}

void LocalApic::set_cr8(uint64_t value) {
  tpr_ = uint8_t((value & 0xf) << 4);
  update_intr();
}

// ---- the timer ---------------------------------------------------------------------

unsigned LocalApic::timer_shift() const {
  unsigned v = ((dcr_ >> 1) & 4) | (dcr_ & 3);
  return (v + 1) & 7;  // 0b111: divide by 1; else by 2^(v+1)
}

uint32_t LocalApic::timer_current_count() const {
  if (timer_mode() == kTimerTscDeadline || initial_count_ == 0) return 0;
  uint64_t ticks = (clock_.now_ns() - count_load_ns_) >> timer_shift();
  if (timer_mode() == kTimerPeriodic) return uint32_t(initial_count_ - ticks % initial_count_);
  return ticks >= initial_count_ ? 0 : uint32_t(initial_count_ - ticks);
}

uint64_t LocalApic::tsc_now() const { return tsc_(); }

void LocalApic::arm_timer() {
  const uint64_t now = clock_.now_ns();
  if (timer_mode() == kTimerTscDeadline) {
    if (!tsc_deadline_) {
      timer_.cancel();
      return;
    }
    uint64_t tsc = tsc_now();
    // The TSC counts virtual nanoseconds: a deadline in the past fires now.
    timer_.arm(tsc_deadline_ > tsc ? now + (tsc_deadline_ - tsc) : now);
    return;
  }
  if (initial_count_ == 0) {
    timer_.cancel();
    return;
  }
  const unsigned shift = timer_shift();
  const uint64_t period = uint64_t(initial_count_) << shift;
  const uint64_t elapsed = now - count_load_ns_;
  if (timer_mode() == kTimerPeriodic) {
    timer_.arm(count_load_ns_ + (elapsed / period + 1) * period);
  } else if (elapsed < period) {
    timer_.arm(count_load_ns_ + period);
  } else {
    timer_.cancel();  // a one-shot that has fired
  }
}

void LocalApic::on_timer() {
  if (timer_mode() == kTimerTscDeadline) tsc_deadline_ = 0;
  if (hw_enabled()) deliver_local(lvt_[kLvtTimer]);
  arm_timer();
}

// ---- state -------------------------------------------------------------------------

void LocalApic::save_state(core::StateWriter& out) const {
  out.u32(kStateVersion);
  out.u32(id_);
  out.u8(tpr_);
  out.u32(ldr_);
  out.u32(dfr_);
  out.u32(svr_);
  for (const Bits* bits : {&irr_, &isr_, &tmr_})
    for (uint32_t w : *bits) out.u32(w);
  out.u32(esr_);
  out.u32(esr_pending_);
  out.u64(icr_);
  for (uint32_t lvt : lvt_) out.u32(lvt);
  out.u32(initial_count_);
  out.u32(dcr_);
  out.u64(count_load_ns_);
  out.u64(tsc_deadline_);
  out.boolean(lint0_level_);
  out.boolean(lint1_level_);
  out.boolean(intr_out_);
  timer_.save(out);
}

void LocalApic::load_state(core::StateReader& in) {
  in.version(kStateVersion);
  uint32_t id = in.u32();
  if (id != id_)
    throw core::SnapshotError(state_name() + ": corrupt state: APIC ID " + std::to_string(id) + " for vCPU " +
                              std::to_string(index_));
  tpr_ = in.u8();
  ldr_ = in.u32();
  dfr_ = in.u32();
  svr_ = in.u32();
  for (Bits* bits : {&irr_, &isr_, &tmr_})
    for (uint32_t& w : *bits) w = in.u32();
  esr_ = in.u32();
  esr_pending_ = in.u32();
  icr_ = in.u64();
  for (uint32_t& lvt : lvt_) lvt = in.u32();
  initial_count_ = in.u32();
  dcr_ = in.u32();
  count_load_ns_ = in.u64();
  tsc_deadline_ = in.u64();
  lint0_level_ = in.boolean();
  lint1_level_ = in.boolean();
  // The INTR level is the machine's to restore: setting it here could be an
  // edge the original run never had.
  intr_out_ = in.boolean();
  timer_.load(in);
}

}  // namespace rwd::hw
