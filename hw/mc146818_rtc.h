// The MC146818 real-time clock and its CMOS RAM (index 0x70, data 0x71, IRQ8).
//
// Time is the run's start wall clock (asked of replay::Inputs once, on the
// guest's first look at the clock) plus virtual time, so a replay reads the
// same dates at the same instructions. The clock keeps UTC; the guest may set
// it (directly, or with register B's SET bit / register A's divider reset).
//
// Modelled: BCD/binary and 12/24-hour formats (applied on every read, so
// switching formats never leaves stale registers), the update-in-progress bit
// (set for the last 244 us of each second), periodic, update-ended and alarm
// interrupts with register C's flags cleared on read, the divider reset (the
// first update comes 500 ms after it ends), bit 7 of port 0x70 as NMI
// disable, and the CMOS bytes a PC BIOS leaves for memory sizes.
// Not modelled: daylight-saving adjustment (DSE), the square-wave pin, and
// guest writes to the day-of-week register (it is derived from the date).
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "core/irq.h"
#include "core/memory.h"
#include "core/snapshot.h"
#include "core/timer_queue.h"
#include "core/virtual_clock.h"
#include "replay/inputs.h"

namespace rwd::hw {

class Mc146818Rtc final : public core::RegionOps, public core::Snapshottable {
 public:
  static constexpr uint32_t kStateVersion = 1;
  static constexpr const char* kStateName = "rtc";
  static constexpr uint16_t kBase = 0x70;
  static constexpr unsigned kIrq = 8;
  // Register indexes.
  enum Reg : uint8_t {
    kSeconds = 0x00, kSecondsAlarm = 0x01, kMinutes = 0x02, kMinutesAlarm = 0x03, kHours = 0x04,
    kHoursAlarm = 0x05, kDayOfWeek = 0x06, kDayOfMonth = 0x07, kMonth = 0x08, kYear = 0x09,
    kRegA = 0x0a, kRegB = 0x0b, kRegC = 0x0c, kRegD = 0x0d, kCentury = 0x32,
  };
  // Register bits.
  static constexpr uint8_t kAUip = 0x80;
  static constexpr uint8_t kBSet = 0x80, kBPie = 0x40, kBAie = 0x20, kBUie = 0x10, kBBinary = 0x04,
                           kB24Hour = 0x02;
  static constexpr uint8_t kCIrqf = 0x80, kCPf = 0x40, kCAf = 0x20, kCUf = 0x10;
  static constexpr uint64_t kUipWindowNs = 244'000;

  Mc146818Rtc(core::VirtualClock& clock, core::TimerQueue& timers, core::IrqLine irq8, replay::Inputs& inputs);

  // core::RegionOps for 0x70-0x71: offset 0 index (write), offset 1 data.
  uint64_t read(uint64_t offset, unsigned size) override;
  void write(uint64_t offset, uint64_t value, unsigned size) override;

  // What a PC BIOS stores about RAM: base, extended, >16 MiB and >4 GiB sizes.
  void set_memory_size(uint64_t below_4g, uint64_t above_4g);

  void reset();

  // core::Snapshottable: all 128 CMOS bytes (control registers and register
  // C's flags included), the index and NMI-disable bit, the clock (whether
  // the start wall clock has been asked for yet, and the RTC time at virtual
  // time 0 that it and guest writes produced), the time held while frozen,
  // how far register C's flags are current, the periodic/update/alarm timer,
  // and this side's IRQ8 level. A restored RTC that already knew the time
  // never asks replay::Inputs again; one that did not asks on first use.
  void save_state(core::StateWriter& out) const override;
  void load_state(core::StateReader& in) override;

  bool irq_level() const { return irq_level_; }
  bool nmi_disabled() const { return nmi_disabled_; }
  // Raw CMOS access (no side effects; time registers return stored bytes).
  uint8_t cmos(uint8_t index) const { return cmos_[index & 0x7f]; }
  void set_cmos(uint8_t index, uint8_t value) { cmos_[index & 0x7f] = value; }

 private:
  struct DateTime {
    int64_t year;
    int month, day, hour, minute, second, weekday;  // weekday 1 = Sunday
  };

  uint8_t read_data(uint8_t index);
  void write_data(uint8_t index, uint8_t value);
  void ensure_time();
  int64_t rtc_ns(uint64_t now) const { return epoch_at_zero_ns_ + static_cast<int64_t>(now); }
  int64_t current_seconds(uint64_t now) const;
  void set_current_seconds(int64_t seconds, int64_t fraction_ns);
  bool frozen() const;
  bool divider_in_reset() const { return (cmos_[kRegA] & 0x60) == 0x60; }
  uint64_t periodic_period_32k() const;  // 0 when off
  uint8_t encode(int value) const;
  int decode(uint8_t value) const;
  uint8_t format_field(uint8_t index, const DateTime& t) const;
  bool alarm_matches(const DateTime& t) const;
  void refresh_flags();
  void update_irq();
  void arm_timer(uint64_t not_before_ns = 0);
  void write_reg_a(uint8_t value);
  void write_reg_b(uint8_t value);
  static DateTime to_date_time(int64_t seconds);
  static int64_t to_seconds(const DateTime& t);

  core::VirtualClock& clock_;
  core::IrqLine irq_;
  replay::Inputs& inputs_;
  std::unique_ptr<core::Timer> timer_;
  std::array<uint8_t, 128> cmos_{};
  uint8_t index_ = 0;
  bool nmi_disabled_ = false;
  bool irq_level_ = false;

  bool time_known_ = false;
  int64_t epoch_at_zero_ns_ = 0;  // RTC time (ns since the Unix epoch) at virtual time 0
  int64_t frozen_seconds_ = 0;    // the time while SET or the divider reset holds it
  uint64_t flags_checked_ns_ = 0; // virtual time up to which register C's flags are current
};

}  // namespace rwd::hw
