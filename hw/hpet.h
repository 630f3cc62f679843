// The High Precision Event Timer of QEMU's pc machine (IA-PC HPET spec 1.0a):
// a 64-bit main counter at 100 MHz of virtual time (10 ns per tick, as QEMU's)
// and three comparators, each one-shot or periodic, 64- or 32-bit, edge or
// level, at 0xfed00000.
//
//  - The PIT's and RTC's interrupt outputs pass through the HPET (IrqSink
//    pins kPitInput and kRtcInput) on their way to ISA IRQs 0 and 8, as
//    through the chipset's legacy-replacement mux. With legacy replacement
//    on (GEN_CONF.LEG_RT), timer 0 drives IRQ 0 and timer 1 IRQ 8 instead and
//    the PIT's and RTC's outputs are cut off. Otherwise timer n drives the
//    GSI its INT_ROUTE_CNF names (0-15 through the ISA fan-out to both the
//    8259s and the I/O APIC, 16-23 to the I/O APIC), as INT_ROUTE_CAP allows.
//  - A comparator fires when the main counter reaches it (the low 32 bits in
//    32-bit mode); a periodic one then advances by its period past the
//    counter. As on QEMU, a comparator written behind the counter (by less
//    than half the counter's range) fires one tick later, and a one-shot
//    fires once per write: neither the counter coming round to it again nor
//    the 32-bit one-shot's interrupt at the counter's wrap is modelled.
//  - Level-triggered timers set their GEN_INT_STS bit and hold the line until
//    software writes 1 to it; edge-triggered ones pulse the line.
//  - Registers are 64 bits wide, accessed in 32-bit halves (the board's access
//    rules split 64-bit accesses).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>

#include "core/irq.h"
#include "core/memory.h"
#include "core/snapshot.h"
#include "core/timer_queue.h"
#include "core/virtual_clock.h"

namespace rwd::hw {

class Hpet final : public core::RegionOps, public core::IrqSink, public core::Snapshottable {
 public:
  static constexpr uint32_t kStateVersion = 1;
  static constexpr const char* kStateName = "hpet";
  static constexpr uint64_t kBase = 0xfed00000, kSize = 0x400;
  static constexpr unsigned kTimers = 3;
  static constexpr uint64_t kNsPerTick = 10;              // 100 MHz
  static constexpr uint32_t kPeriodFs = 10'000'000;       // COUNTER_CLK_PERIOD
  static constexpr uint32_t kIntRouteCap = 0x00ff0104;    // GSIs 2, 8 and 16-23, as QEMU's pc
  // The ACPI HPET table's event timer block ID: GCAP_ID's low 32 bits.
  static constexpr uint32_t kCapabilities = 0x8086a201;   // vendor 8086, legacy, 64-bit, 3 timers, rev 1
  static constexpr unsigned kPitInput = 0, kRtcInput = 8;  // IrqSink pins = their ISA IRQs

  // `gsi(n, level)` drives global system interrupt n (0-23).
  Hpet(core::VirtualClock& clock, core::TimerQueue& timers, std::function<void(unsigned gsi, bool level)> gsi);

  uint64_t read(uint64_t offset, unsigned size) override;
  void write(uint64_t offset, uint64_t value, unsigned size) override;
  void reset();

  // The PIT's and RTC's outputs.
  void set_irq(unsigned pin, bool level) override;
  bool legacy_routing() const { return (config_ & kLegacyRoute) != 0; }
  uint64_t main_counter() const;

  void save_state(core::StateWriter& out) const override;
  void load_state(core::StateReader& in) override;

 private:
  static constexpr uint64_t kEnable = 1, kLegacyRoute = 2;
  struct Comparator {
    uint64_t config = 0;
    uint64_t cmp = 0;
    uint64_t period = 0;
    bool line = false;  // the level this timer drives on its GSI
    std::unique_ptr<core::Timer> timer;
  };

  uint64_t read64(uint64_t reg) const;
  void write64(uint64_t reg, uint64_t value, uint64_t mask);
  void write_timer(unsigned n, unsigned field, uint64_t value, uint64_t mask);
  bool enabled() const { return (config_ & kEnable) != 0; }
  bool is_32bit(const Comparator& t) const;
  bool periodic(const Comparator& t) const;
  unsigned gsi_of(unsigned n) const;
  void set_line(unsigned n, bool level);
  void arm(unsigned n);
  void fire(unsigned n);
  void update_status_lines();

  core::VirtualClock& clock_;
  std::function<void(unsigned, bool)> gsi_;
  uint64_t config_ = 0;
  uint64_t status_ = 0;
  uint64_t counter_base_ = 0;    // the main counter at counter_base_ns_ (frozen while disabled)
  uint64_t counter_base_ns_ = 0;
  bool pit_level_ = false, rtc_level_ = false;  // the legacy inputs
  std::array<Comparator, kTimers> comparators_;
};

}  // namespace rwd::hw
