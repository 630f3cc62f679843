#include "hw/hpet.h"

#include <string>

namespace rwd::hw {

namespace {
// Registers (byte offsets of 64-bit registers).
constexpr uint64_t kCapId = 0x000, kGenConf = 0x010, kIntStatus = 0x020, kMainCounter = 0x0f0, kTimer0 = 0x100;
constexpr uint64_t kTimerStride = 0x20;
// Timer configuration bits.
constexpr uint64_t kLevel = 1u << 1, kIntEnable = 1u << 2, kPeriodic = 1u << 3, kPeriodicCap = 1u << 4,
                   kSize64Cap = 1u << 5, kValSet = 1u << 6, kMode32 = 1u << 8, kRouteShift = 9,
                   kRouteMask = 0x1full << kRouteShift;
constexpr uint64_t kTimerWritable = kLevel | kIntEnable | kPeriodic | kValSet | kMode32 | kRouteMask;
constexpr uint64_t kTimerFixed = kPeriodicCap | kSize64Cap | (uint64_t(Hpet::kIntRouteCap) << 32);
}  // namespace

Hpet::Hpet(core::VirtualClock& clock, core::TimerQueue& timers, std::function<void(unsigned, bool)> gsi)
    : clock_(clock), gsi_(std::move(gsi)) {
  for (unsigned n = 0; n < kTimers; ++n)
    comparators_[n].timer = std::make_unique<core::Timer>(timers, "hpet-timer" + std::to_string(n), [this, n] { fire(n); });
  reset();
}

void Hpet::reset() {
  bool was_legacy = legacy_routing();
  for (unsigned n = 0; n < kTimers; ++n) {
    set_line(n, false);
    Comparator& t = comparators_[n];
    t.timer->cancel();
    t.config = kTimerFixed;
    t.cmp = ~uint64_t(0);
    t.period = 0;
  }
  config_ = 0;
  status_ = 0;
  counter_base_ = 0;
  counter_base_ns_ = clock_.now_ns();
  if (was_legacy) {
    gsi_(kPitInput, pit_level_);
    gsi_(kRtcInput, rtc_level_);
  }
}

void Hpet::set_irq(unsigned pin, bool level) {
  bool& input = pin == kPitInput ? pit_level_ : rtc_level_;
  input = level;
  if (!legacy_routing()) gsi_(pin == kPitInput ? kPitInput : kRtcInput, level);
}

uint64_t Hpet::main_counter() const {
  if (!enabled()) return counter_base_;
  return counter_base_ + (clock_.now_ns() - counter_base_ns_) / kNsPerTick;
}

bool Hpet::is_32bit(const Comparator& t) const { return (t.config & kMode32) != 0; }
bool Hpet::periodic(const Comparator& t) const { return (t.config & kPeriodic) != 0; }

unsigned Hpet::gsi_of(unsigned n) const {
  if (legacy_routing() && n < 2) return n == 0 ? 0 : 8;
  return unsigned((comparators_[n].config & kRouteMask) >> kRouteShift);
}

void Hpet::set_line(unsigned n, bool level) {
  Comparator& t = comparators_[n];
  if (t.line == level) return;
  t.line = level;
  gsi_(gsi_of(n), level);
}

uint64_t Hpet::read(uint64_t offset, unsigned) {
  uint64_t value = read64(offset & ~uint64_t(7));
  return (offset & 4) ? value >> 32 : value & 0xffffffffull;
}

void Hpet::write(uint64_t offset, uint64_t value, unsigned) {
  unsigned shift = (offset & 4) ? 32 : 0;
  write64(offset & ~uint64_t(7), (value & 0xffffffffull) << shift, 0xffffffffull << shift);
}

uint64_t Hpet::read64(uint64_t reg) const {
  if (reg == kCapId) return (uint64_t(kPeriodFs) << 32) | kCapabilities;
  if (reg == kGenConf) return config_;
  if (reg == kIntStatus) return status_;
  if (reg == kMainCounter) return main_counter();
  if (reg >= kTimer0 && reg < kTimer0 + kTimers * kTimerStride) {
    const Comparator& t = comparators_[(reg - kTimer0) / kTimerStride];
    switch ((reg - kTimer0) % kTimerStride) {
      case 0x00: return t.config;
      case 0x08: return is_32bit(t) ? t.cmp & 0xffffffffull : t.cmp;
      default: return 0;  // FSB route: no FSB delivery
    }
  }
  return 0;
}

void Hpet::write64(uint64_t reg, uint64_t value, uint64_t mask) {
  if (reg == kGenConf) {
    const uint64_t old = config_;
    const uint64_t now_counter = main_counter();
    const uint64_t next = (config_ & ~mask) | (value & mask & (kEnable | kLegacyRoute));
    if ((old ^ next) & kLegacyRoute) {
      // Timers 0 and 1 move between their routes and IRQs 0/8, which the
      // PIT and RTC give up or get back.
      bool held[2] = {comparators_[0].line, comparators_[1].line};
      set_line(0, false);
      set_line(1, false);
      config_ = next;
      bool legacy = legacy_routing();
      gsi_(kPitInput, legacy ? false : pit_level_);
      gsi_(kRtcInput, legacy ? false : rtc_level_);
      set_line(0, held[0]);
      set_line(1, held[1]);
    }
    config_ = next;
    if ((old ^ config_) & kEnable) {
      counter_base_ = now_counter;
      counter_base_ns_ = clock_.now_ns();
      if (!enabled()) {
        status_ = 0;
        for (unsigned n = 0; n < kTimers; ++n) set_line(n, false);
      }
    }
    for (unsigned n = 0; n < kTimers; ++n) arm(n);
    return;
  }
  if (reg == kIntStatus) {
    // Write 1 to clear a level-triggered timer's status, and its line.
    uint64_t clear = value & mask & status_;
    status_ &= ~clear;
    for (unsigned n = 0; n < kTimers; ++n)
      if ((clear >> n) & 1) set_line(n, false);
    return;
  }
  if (reg == kMainCounter) {
    if (enabled()) return;  // the spec requires halting the counter first
    counter_base_ = (counter_base_ & ~mask) | (value & mask);
    return;
  }
  if (reg >= kTimer0 && reg < kTimer0 + kTimers * kTimerStride) {
    unsigned n = unsigned((reg - kTimer0) / kTimerStride);
    write_timer(n, unsigned((reg - kTimer0) % kTimerStride), value, mask);
  }
}

void Hpet::write_timer(unsigned n, unsigned field, uint64_t value, uint64_t mask) {
  Comparator& t = comparators_[n];
  if (field == 0x00) {
    uint64_t writable = kTimerWritable & mask;
    uint64_t config = (t.config & ~writable) | (value & writable);
    // A route the capability does not offer is not taken.
    unsigned route = unsigned((config & kRouteMask) >> kRouteShift);
    if (!((kIntRouteCap >> route) & 1)) config = (config & ~kRouteMask) | (t.config & kRouteMask);
    if ((config ^ t.config) & (kRouteMask | kLevel | kIntEnable)) {
      set_line(n, false);  // from where it was
      status_ &= ~(uint64_t(1) << n);
    }
    t.config = config;
    if (is_32bit(t)) {
      t.cmp &= 0xffffffffull;
      t.period &= 0xffffffffull;
    }
    arm(n);
    return;
  }
  if (field != 0x08) return;  // FSB route: no FSB delivery
  uint64_t width = is_32bit(t) ? 0xffffffffull : ~uint64_t(0);
  mask &= width;
  // A periodic timer's comparator write sets its period; with VAL_SET also
  // the comparator (QEMU's reading of the spec).
  if (!periodic(t) || (t.config & kValSet)) t.cmp = (t.cmp & ~mask) | (value & mask);
  if (periodic(t)) t.period = (t.period & ~mask) | (value & mask & (width >> 1));
  t.config &= ~kValSet;
  arm(n);
}

void Hpet::arm(unsigned n) {
  Comparator& t = comparators_[n];
  if (!enabled()) {
    t.timer->cancel();
    return;
  }
  const uint64_t now = main_counter();
  uint64_t ahead;
  if (is_32bit(t)) {
    uint32_t diff = uint32_t(t.cmp) - uint32_t(now);
    ahead = int32_t(diff) > 0 ? diff : 1;
  } else {
    uint64_t diff = t.cmp - now;
    ahead = int64_t(diff) > 0 ? diff : 1;
  }
  // The instant the counter reaches now + ahead.
  uint64_t target = now + ahead - counter_base_;
  t.timer->arm(counter_base_ns_ + target * kNsPerTick);
}

void Hpet::fire(unsigned n) {
  Comparator& t = comparators_[n];
  const uint64_t now = main_counter();
  if (periodic(t) && t.period) {
    if (is_32bit(t)) {
      while (int32_t(uint32_t(now) - uint32_t(t.cmp)) >= 0) t.cmp = uint32_t(t.cmp + t.period);
    } else {
      while (int64_t(now - t.cmp) >= 0) t.cmp += t.period;
    }
    arm(n);
  }
  if (!(t.config & kIntEnable)) return;
  if (t.config & kLevel) {
    status_ |= uint64_t(1) << n;
    set_line(n, true);
  } else {
    set_line(n, true);
    set_line(n, false);
  }
}

void Hpet::save_state(core::StateWriter& out) const {
  out.u32(kStateVersion);
  out.u64(config_);
  out.u64(status_);
  out.u64(counter_base_);
  out.u64(counter_base_ns_);
  out.boolean(pit_level_);
  out.boolean(rtc_level_);
  for (const Comparator& t : comparators_) {
    out.u64(t.config);
    out.u64(t.cmp);
    out.u64(t.period);
    out.boolean(t.line);
    t.timer->save(out);
  }
}

void Hpet::load_state(core::StateReader& in) {
  in.version(kStateVersion);
  config_ = in.u64() & (kEnable | kLegacyRoute);
  status_ = in.u64();
  counter_base_ = in.u64();
  counter_base_ns_ = in.u64();
  pit_level_ = in.boolean();
  rtc_level_ = in.boolean();
  for (Comparator& t : comparators_) {
    t.config = (in.u64() & kTimerWritable) | kTimerFixed;
    t.cmp = in.u64();
    t.period = in.u64();
    // The lines' levels are the interrupt controllers' to restore.
    t.line = in.boolean();
    t.timer->load(in);
  }
}

}  // namespace rwd::hw
