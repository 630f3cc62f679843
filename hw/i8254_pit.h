// The 8254 programmable interval timer (0x40-0x43) clocked at 1.193182 MHz of
// virtual time, and the PC's system control port B (0x61) that gates channel 2
// and reads its output.
//
// Nothing ticks: each channel remembers the virtual PIT tick at which its
// count started, and the counter and OUT are computed from the current
// virtual time when read. Channel 0's OUT drives IRQ0 through a core::Timer
// armed for its next rising edge (the edge is what the edge-triggered PIC
// sees; the line is lowered and raised again at each edge rather than
// following OUT's low phases exactly).
//
// Modes 0, 2 and 3 are exact (gate included); 1, 4 and 5 are modelled with
// the datasheet's OUT waveforms. Writing a new count in modes 2/3 restarts the
// period at once instead of at the end of the current one.
#pragma once

#include <cstdint>
#include <memory>

#include "core/irq.h"
#include "core/memory.h"
#include "core/snapshot.h"
#include "core/timer_queue.h"
#include "core/virtual_clock.h"

namespace rwd::hw {

class I8254Pit final : public core::RegionOps, public core::Snapshottable {
 public:
  static constexpr uint32_t kStateVersion = 1;
  static constexpr const char* kStateName = "pit";
  static constexpr uint16_t kBase = 0x40, kPortB = 0x61;
  static constexpr unsigned kIrq = 0;
  static constexpr uint64_t kFrequencyHz = 1'193'182;
  // DRAM refresh requests toggle port B bit 4 every 15.085 us on a PC/AT.
  static constexpr uint64_t kRefreshPeriodNs = 15'085;

  I8254Pit(core::VirtualClock& clock, core::TimerQueue& timers, core::IrqLine irq0);

  // core::RegionOps for 0x40-0x43 (1-byte accesses).
  uint64_t read(uint64_t offset, unsigned size) override;
  void write(uint64_t offset, uint64_t value, unsigned size) override;

  // Port 0x61: bit 0 channel 2 gate, bit 1 speaker data, bit 4 refresh
  // toggle, bit 5 channel 2 OUT.
  core::RegionOps& port_b_ops() { return port_b_ops_; }

  void reset();

  // core::Snapshottable: the three channels (mode, count, timing origin,
  // gate, latches and byte-order flip-flops), port B's stored bits (channel
  // 2's gate is part of channel 2), the IRQ0 edge timer and this side's IRQ0
  // level. Nothing is recomputed from the clock on load: the channels hold
  // ticks, which mean the same after the machine restores virtual time.
  void save_state(core::StateWriter& out) const override;
  void load_state(core::StateReader& in) override;

  bool irq0_level() const { return irq0_level_; }
  void set_gate(unsigned channel, bool level);
  bool output(unsigned channel);
  // The counting element as a read would show it (no latch involved).
  uint16_t current_count(unsigned channel);
  // Virtual time -> PIT input clock ticks, and back (the first ns at which
  // `tick` has been reached).
  static uint64_t ns_to_ticks(uint64_t ns);
  static uint64_t ticks_to_ns(uint64_t ticks);

 private:
  struct Channel {
    uint8_t mode = 0;          // 0-5
    uint8_t access = 3;        // 1 lobyte, 2 hibyte, 3 lobyte then hibyte
    bool bcd = false;
    bool gate = true;
    uint32_t count = 0x10000;  // initial count (0 written means 0x10000, or 10000 in BCD)
    bool count_loaded = false; // a count has been written since the control word
    bool counting = false;     // the counting element runs
    bool triggered = false;    // modes 1/5: a gate trigger started the count
    uint64_t start_tick = 0;   // tick at which the count started (d = 0)
    uint64_t frozen_d = 0;     // ticks elapsed when counting was suspended
    bool write_high_next = false;  // access 3: next write is the high byte
    uint8_t write_low = 0;
    bool read_high_next = false;   // access 3 (unlatched): next read is the high byte
    bool latched = false;
    uint16_t latch_value = 0;
    bool latched_high_next = false;
    bool status_latched = false;
    uint8_t status = 0;
  };

  class PortBOps final : public core::RegionOps {
   public:
    explicit PortBOps(I8254Pit& pit) : pit_(pit) {}
    uint64_t read(uint64_t offset, unsigned size) override { return pit_.read_port_b(); }
    void write(uint64_t offset, uint64_t value, unsigned size) override {
      pit_.write_port_b(static_cast<uint8_t>(value));
    }

   private:
    I8254Pit& pit_;
  };

  uint64_t now_ticks() const { return ns_to_ticks(clock_.now_ns()); }
  uint64_t elapsed(const Channel& ch, uint64_t now) const;
  uint16_t counter_value(const Channel& ch, uint64_t d) const;
  bool out_level(const Channel& ch, uint64_t d) const;
  // Tick of OUT's next rising edge after `now`, or UINT64_MAX if none.
  uint64_t next_rising_edge(const Channel& ch, uint64_t now) const;
  uint8_t read_channel(Channel& ch);
  void write_channel(unsigned index, uint8_t value);
  void write_control(uint8_t value);
  void latch_count(Channel& ch);
  void latch_status(Channel& ch);
  void load_count(unsigned index, uint32_t raw);
  void start_counting(Channel& ch, uint64_t now);
  uint8_t read_port_b();
  void write_port_b(uint8_t value);
  void update_irq0();  // after channel 0 was reprogrammed
  void on_irq0_edge();
  void arm_irq0(uint64_t after_tick);
  static void save_channel(const Channel& ch, core::StateWriter& out);
  static Channel load_channel(unsigned index, core::StateReader& in);

  core::VirtualClock& clock_;
  core::IrqLine irq0_;
  bool irq0_level_ = false;
  std::unique_ptr<core::Timer> irq0_timer_;
  Channel channels_[3];
  uint8_t port_b_ = 0;  // bits 0-3 as written
  PortBOps port_b_ops_{*this};
};

}  // namespace rwd::hw
