#include "hw/i8254_pit.h"

#include <algorithm>
#include <limits>
#include <string>

namespace rwd::hw {

namespace {

constexpr uint64_t kNsPerSecond = 1'000'000'000;
constexpr uint64_t kNoEdge = std::numeric_limits<uint64_t>::max();

uint16_t to_bcd(uint32_t value) {
  return static_cast<uint16_t>((value % 10) | (value / 10 % 10) << 4 | (value / 100 % 10) << 8 |
                               (value / 1000 % 10) << 12);
}

uint32_t from_bcd(uint16_t raw) {
  return (raw & 0xf) + (raw >> 4 & 0xf) * 10 + (raw >> 8 & 0xf) * 100 + (raw >> 12 & 0xf) * 1000;
}

}  // namespace

I8254Pit::I8254Pit(core::VirtualClock& clock, core::TimerQueue& timers, core::IrqLine irq0)
    : clock_(clock), irq0_(irq0) {
  irq0_timer_ = std::make_unique<core::Timer>(timers, "pit.irq0", [this] { on_irq0_edge(); });
  reset();
}

uint64_t I8254Pit::ns_to_ticks(uint64_t ns) {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(ns) * kFrequencyHz / kNsPerSecond);
}

uint64_t I8254Pit::ticks_to_ns(uint64_t ticks) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(ticks) * kNsPerSecond + kFrequencyHz - 1) /
                               kFrequencyHz);
}

void I8254Pit::reset() {
  // No count is loaded at power-on: nothing counts and IRQ0 stays quiet until
  // the guest (or a BIOS, which we do not run) programs channel 0.
  for (Channel& ch : channels_) ch = Channel{};
  port_b_ = 0;
  channels_[2].gate = false;  // port B bit 0
  irq0_timer_->cancel();
  update_irq0();
}

uint64_t I8254Pit::elapsed(const Channel& ch, uint64_t now) const {
  if (!ch.counting) return ch.frozen_d;
  return now > ch.start_tick ? now - ch.start_tick : 0;
}

uint16_t I8254Pit::counter_value(const Channel& ch, uint64_t d) const {
  uint32_t modulus = ch.bcd ? 10000 : 0x10000;
  uint32_t n = ch.count;
  uint32_t v;
  switch (ch.mode) {
    case 2:
      v = n - static_cast<uint32_t>(d % n);  // N, N-1, ..., 1, N, ...
      break;
    case 3:
      v = n - static_cast<uint32_t>((2 * d) % n);  // counts down by two, twice per period
      break;
    default:
      // Modes 0, 1, 4, 5 keep counting down (and wrap) after terminal count.
      v = static_cast<uint32_t>((n + modulus - d % modulus) % modulus);
      break;
  }
  v %= modulus;
  return ch.bcd ? to_bcd(v) : static_cast<uint16_t>(v);
}

bool I8254Pit::out_level(const Channel& ch, uint64_t d) const {
  // After a control word OUT is low in mode 0 and high in every other mode.
  if (!ch.count_loaded) return ch.mode != 0;
  uint64_t n = ch.count;
  switch (ch.mode) {
    case 0:
      return d >= n;
    case 1:
      return !ch.triggered || d >= n;
    case 2:
      return !ch.gate || d % n != n - 1;  // low for the one clock at count 1
    case 3:
      return !ch.gate || d % n < (n + 1) / 2;
    case 4:
      return d != n;
    default:  // 5
      return !ch.triggered || d != n;
  }
}

uint64_t I8254Pit::next_rising_edge(const Channel& ch, uint64_t now) const {
  if (!ch.count_loaded || !ch.counting) return kNoEdge;
  uint64_t n = ch.count;
  uint64_t edge;
  switch (ch.mode) {
    case 0:
    case 1:
      edge = ch.start_tick + n;
      break;
    case 2:
    case 3: {
      if (n < 2) return kNoEdge;  // count 1 is illegal in these modes
      uint64_t d = now > ch.start_tick ? now - ch.start_tick : 0;
      edge = ch.start_tick + (d / n + 1) * n;
      break;
    }
    default:  // 4, 5: low for one clock at terminal count
      edge = ch.start_tick + n + 1;
      break;
  }
  return edge > now ? edge : kNoEdge;
}

bool I8254Pit::output(unsigned channel) {
  const Channel& ch = channels_[channel];
  return out_level(ch, elapsed(ch, now_ticks()));
}

uint16_t I8254Pit::current_count(unsigned channel) {
  const Channel& ch = channels_[channel];
  return counter_value(ch, elapsed(ch, now_ticks()));
}

uint64_t I8254Pit::read(uint64_t offset, unsigned size) {
  if (offset >= 3) return 0xff;  // the control register is write-only
  return read_channel(channels_[offset]);
}

void I8254Pit::write(uint64_t offset, uint64_t value, unsigned size) {
  if (offset == 3) {
    write_control(static_cast<uint8_t>(value));
  } else if (offset < 3) {
    write_channel(static_cast<unsigned>(offset), static_cast<uint8_t>(value));
  }
}

uint8_t I8254Pit::read_channel(Channel& ch) {
  if (ch.status_latched) {
    ch.status_latched = false;
    return ch.status;
  }
  if (ch.latched) {
    uint16_t v = ch.latch_value;
    switch (ch.access) {
      case 1:
        ch.latched = false;
        return v & 0xff;
      case 2:
        ch.latched = false;
        return v >> 8;
      default:
        if (!ch.latched_high_next) {
          ch.latched_high_next = true;
          return v & 0xff;
        }
        ch.latched = false;
        return v >> 8;
    }
  }
  uint16_t v = counter_value(ch, elapsed(ch, now_ticks()));
  switch (ch.access) {
    case 1:
      return v & 0xff;
    case 2:
      return v >> 8;
    default:
      ch.read_high_next = !ch.read_high_next;
      return ch.read_high_next ? (v & 0xff) : (v >> 8);
  }
}

void I8254Pit::latch_count(Channel& ch) {
  if (ch.latched) return;  // a second latch before the first is read is ignored
  ch.latched = true;
  ch.latched_high_next = false;
  ch.latch_value = counter_value(ch, elapsed(ch, now_ticks()));
}

void I8254Pit::latch_status(Channel& ch) {
  if (ch.status_latched) return;
  uint64_t now = now_ticks();
  // Null count: a count was written but not yet moved into the counting
  // element (that happens on the next clock, or on the gate trigger in 1/5).
  bool null_count = !ch.count_loaded || ((ch.mode == 1 || ch.mode == 5) && !ch.triggered) ||
                    (ch.counting && now < ch.start_tick);
  ch.status = static_cast<uint8_t>((out_level(ch, elapsed(ch, now)) ? 0x80 : 0) | (null_count ? 0x40 : 0) |
                                   ch.access << 4 | ch.mode << 1 | (ch.bcd ? 1 : 0));
  ch.status_latched = true;
}

void I8254Pit::write_control(uint8_t value) {
  unsigned select = value >> 6;
  if (select == 3) {
    // Read-back: bit 5 clear latches counts, bit 4 clear latches status, for
    // each channel selected by bits 1-3.
    for (unsigned i = 0; i < 3; ++i) {
      if (!(value & (2u << i))) continue;
      if (!(value & 0x20)) latch_count(channels_[i]);
      if (!(value & 0x10)) latch_status(channels_[i]);
    }
    return;
  }
  Channel& ch = channels_[select];
  unsigned access = (value >> 4) & 3;
  if (access == 0) {
    latch_count(ch);
    return;
  }
  bool gate = ch.gate;
  ch = Channel{};
  ch.gate = gate;
  ch.access = static_cast<uint8_t>(access);
  ch.mode = (value >> 1) & 7;
  if (ch.mode > 5) ch.mode -= 4;  // 6 and 7 are aliases of 2 and 3
  ch.bcd = value & 1;
  if (select == 0) update_irq0();
}

void I8254Pit::write_channel(unsigned index, uint8_t value) {
  Channel& ch = channels_[index];
  switch (ch.access) {
    case 1:
      load_count(index, value);
      return;
    case 2:
      load_count(index, static_cast<uint32_t>(value) << 8);
      return;
    default:
      if (!ch.write_high_next) {
        ch.write_low = value;
        ch.write_high_next = true;
        // Mode 0: writing the first byte stops the count and drops OUT.
        if (ch.mode == 0) {
          ch.count_loaded = false;
          ch.counting = false;
          if (index == 0) update_irq0();
        }
        return;
      }
      ch.write_high_next = false;
      load_count(index, ch.write_low | static_cast<uint32_t>(value) << 8);
      return;
  }
}

void I8254Pit::load_count(unsigned index, uint32_t raw) {
  Channel& ch = channels_[index];
  if (raw == 0) {
    ch.count = ch.bcd ? 10000 : 0x10000;
  } else {
    ch.count = ch.bcd ? from_bcd(static_cast<uint16_t>(raw)) : raw;
    if (ch.count == 0) ch.count = 10000;
  }
  ch.count_loaded = true;
  ch.triggered = false;
  ch.frozen_d = 0;
  ch.counting = false;
  uint64_t now = now_ticks();
  switch (ch.mode) {
    case 1:
    case 5:
      break;  // waits for a gate trigger
    default:
      // The count reaches the counting element on the next clock; counting
      // then proceeds while the gate is high.
      if (ch.gate) start_counting(ch, now + 1);
      break;
  }
  if (index == 0) update_irq0();
}

void I8254Pit::start_counting(Channel& ch, uint64_t start_tick) {
  ch.start_tick = start_tick;
  ch.frozen_d = 0;
  ch.counting = true;
}

void I8254Pit::set_gate(unsigned index, bool level) {
  Channel& ch = channels_[index];
  if (ch.gate == level) return;
  ch.gate = level;
  if (!ch.count_loaded) return;
  uint64_t now = now_ticks();
  switch (ch.mode) {
    case 0:
    case 4:
      // The gate enables counting: low suspends it, high resumes it.
      if (!level && ch.counting) {
        ch.frozen_d = elapsed(ch, now);
        ch.counting = false;
      } else if (level && !ch.counting) {
        ch.start_tick = now - std::min(now, ch.frozen_d);
        ch.counting = true;
      }
      break;
    case 2:
    case 3:
      // Low stops counting (OUT high); the rising edge reloads the count.
      if (!level) {
        ch.frozen_d = elapsed(ch, now);
        ch.counting = false;
      } else {
        start_counting(ch, now + 1);
      }
      break;
    default:
      // Modes 1 and 5: the rising edge (re)triggers the count.
      if (level) {
        ch.triggered = true;
        start_counting(ch, now + 1);
      }
      break;
  }
  if (index == 0) update_irq0();
}

uint8_t I8254Pit::read_port_b() {
  uint64_t now = clock_.now_ns();
  uint8_t refresh = ((now / kRefreshPeriodNs) & 1) ? 0x10 : 0x00;
  return static_cast<uint8_t>((port_b_ & 0x0f) | refresh | (output(2) ? 0x20 : 0x00));
}

void I8254Pit::write_port_b(uint8_t value) {
  // Bits 2/3 (parity and I/O channel check enables) are stored only: no NMI
  // source exists. Bit 1 gates channel 2 to the speaker, which makes no sound here.
  port_b_ = value & 0x0f;
  set_gate(2, value & 0x01);
}

void I8254Pit::update_irq0() {
  bool level = output(0);
  if (level != irq0_level_) {
    irq0_level_ = level;
    irq0_.set(level);
  }
  arm_irq0(now_ticks());
}

void I8254Pit::arm_irq0(uint64_t after_tick) {
  uint64_t edge = next_rising_edge(channels_[0], after_tick);
  if (edge == kNoEdge) {
    irq0_timer_->cancel();
  } else {
    irq0_timer_->arm(ticks_to_ns(edge));
  }
}

void I8254Pit::on_irq0_edge() {
  if (irq0_level_) irq0_.lower();
  irq0_.raise();
  irq0_level_ = true;
  // Look past the edge that fired even if the clock reads earlier (the queue
  // may be run ahead of time): never re-arm the same edge.
  arm_irq0(std::max(now_ticks(), ns_to_ticks(irq0_timer_->deadline_ns())));
}

void I8254Pit::save_state(core::StateWriter& out) const {
  out.u32(kStateVersion);
  for (const Channel& ch : channels_) save_channel(ch, out);
  out.u8(port_b_);
  out.boolean(irq0_level_);
  irq0_timer_->save(out);
}

void I8254Pit::save_channel(const Channel& ch, core::StateWriter& out) {
  out.u8(ch.mode);
  out.u8(ch.access);
  out.boolean(ch.bcd);
  out.boolean(ch.gate);
  out.u32(ch.count);
  out.boolean(ch.count_loaded);
  out.boolean(ch.counting);
  out.boolean(ch.triggered);
  out.u64(ch.start_tick);
  out.u64(ch.frozen_d);
  out.boolean(ch.write_high_next);
  out.u8(ch.write_low);
  out.boolean(ch.read_high_next);
  out.boolean(ch.latched);
  out.u16(ch.latch_value);
  out.boolean(ch.latched_high_next);
  out.boolean(ch.status_latched);
  out.u8(ch.status);
}

I8254Pit::Channel I8254Pit::load_channel(unsigned index, core::StateReader& in) {
  Channel ch;
  ch.mode = in.u8();
  ch.access = in.u8();
  ch.bcd = in.boolean();
  ch.gate = in.boolean();
  ch.count = in.u32();
  ch.count_loaded = in.boolean();
  ch.counting = in.boolean();
  ch.triggered = in.boolean();
  ch.start_tick = in.u64();
  ch.frozen_d = in.u64();
  ch.write_high_next = in.boolean();
  ch.write_low = in.u8();
  ch.read_high_next = in.boolean();
  ch.latched = in.boolean();
  ch.latch_value = in.u16();
  ch.latched_high_next = in.boolean();
  ch.status_latched = in.boolean();
  ch.status = in.u8();

  std::string who = std::string(kStateName) + ": corrupt state: channel " + std::to_string(index);
  if (ch.mode > 5) throw core::SnapshotError(who + " mode " + std::to_string(ch.mode) + " is not 0-5");
  if (ch.access < 1 || ch.access > 3) {
    throw core::SnapshotError(who + " access mode " + std::to_string(ch.access) + " is not 1-3");
  }
  // The count is a divisor (d % n) and a modulus: zero or beyond the
  // counter's range would divide by zero or show impossible counter values.
  uint32_t max_count = ch.bcd ? 10000 : 0x10000;
  if (ch.count == 0 || ch.count > max_count) {
    throw core::SnapshotError(who + " count " + std::to_string(ch.count) + " is not 1-" + std::to_string(max_count));
  }
  return ch;
}

void I8254Pit::load_state(core::StateReader& in) {
  in.version(kStateVersion);
  Channel channels[3];
  for (unsigned i = 0; i < 3; ++i) channels[i] = load_channel(i, in);
  uint8_t port_b = in.u8();
  bool irq0_level = in.boolean();
  if (port_b & ~0x0f) {
    throw core::SnapshotError(std::string(kStateName) + ": corrupt state: port B bits " + std::to_string(port_b) +
                              " include ones computed on read");
  }
  irq0_timer_->load(in);
  for (unsigned i = 0; i < 3; ++i) channels_[i] = channels[i];
  port_b_ = port_b;
  // This side's view only: the PIC restores its own input level, and an
  // irq0_.set() here could be an edge the original run never had.
  irq0_level_ = irq0_level;
}

}  // namespace rwd::hw
