#include "hw/ioapic.h"

#include <string>

namespace rwd::hw {

namespace {
constexpr uint32_t kVersionRegister = 0x00170020;  // 24 entries (max index 23), version 0x20
constexpr uint64_t kMasked = 1ull << 16, kLevel = 1ull << 15, kRemoteIrr = 1ull << 14, kDeliveryStatus = 1ull << 12;
// Writable: vector, delivery mode, destination mode, polarity, trigger, mask, destination.
constexpr uint64_t kWritable = 0xff000000000000ffull | 0x7ull << 8 | 1ull << 11 | 1ull << 13 | kLevel | kMasked;
}  // namespace

IoApic::IoApic(ApicBus& bus) : bus_(bus) {
  reset();
  bus_.set_eoi_listener([this](uint8_t vector) { end_of_interrupt(vector); });
}

void IoApic::reset() {
  id_ = kId;
  select_ = 0;
  entries_.fill(kMasked);
  // Pin levels are the devices' to drive: they survive a reset.
}

uint64_t IoApic::read(uint64_t offset, unsigned) {
  if (offset == 0x00) return select_;
  if (offset == 0x10) return read_register(select_);
  return 0;
}

void IoApic::write(uint64_t offset, uint64_t value, unsigned) {
  if (offset == 0x00) {
    select_ = uint8_t(value);
  } else if (offset == 0x10) {
    write_register(select_, uint32_t(value));
  } else if (offset == 0x40) {
    end_of_interrupt(uint8_t(value));
  }
}

uint32_t IoApic::read_register(uint8_t index) const {
  switch (index) {
    case 0x00:
    case 0x02: return uint32_t(id_) << 24;
    case 0x01: return kVersionRegister;
    default:
      if (index >= 0x10 && index < 0x10 + 2 * kPins) {
        uint64_t e = entries_[(index - 0x10) / 2];
        return (index & 1) ? uint32_t(e >> 32) : uint32_t(e);
      }
      return 0;
  }
}

void IoApic::write_register(uint8_t index, uint32_t value) {
  if (index == 0x00) {
    id_ = (value >> 24) & 0xf;
    return;
  }
  if (index < 0x10 || index >= 0x10 + 2 * kPins) return;  // version, arbitration: read-only
  unsigned pin = (index - 0x10) / 2;
  uint64_t e = entries_[pin];
  uint64_t merged = (index & 1) ? (e & 0xffffffffull) | (uint64_t(value) << 32)
                                : (e & 0xffffffff00000000ull) | value;
  entries_[pin] = (e & (kRemoteIrr | kDeliveryStatus)) | (merged & kWritable);
  if (!(entries_[pin] & kLevel)) entries_[pin] &= ~kRemoteIrr;  // edge: no remote IRR
  service(pin);
}

void IoApic::set_irq(unsigned pin, bool level) {
  if (pin >= kPins) return;
  bool was = (levels_ >> pin) & 1;
  if (level) levels_ |= 1u << pin;
  else levels_ &= ~(1u << pin);
  uint64_t e = entries_[pin];
  if (e & kMasked) return;
  if (e & kLevel) {
    service(pin);
  } else if (level && !was) {
    bus_.deliver(message(pin));  // edge: the rising edge sends
  }
}

ApicMessage IoApic::message(unsigned pin) const {
  uint64_t e = entries_[pin];
  ApicMessage m;
  m.destination = uint32_t(e >> 56);
  m.logical = (e >> 11) & 1;
  m.mode = uint8_t((e >> 8) & 7);
  m.vector = uint8_t(e);
  m.level_triggered = (e & kLevel) != 0;
  return m;
}

void IoApic::service(unsigned pin) {
  uint64_t& e = entries_[pin];
  if ((e & kMasked) || !(e & kLevel) || (e & kRemoteIrr) || !((levels_ >> pin) & 1)) return;
  ApicMessage m = message(pin);
  if (m.mode == apic_mode::kFixed || m.mode == apic_mode::kLowestPriority) e |= kRemoteIrr;
  bus_.deliver(m);
}

void IoApic::end_of_interrupt(uint8_t vector) {
  for (unsigned pin = 0; pin < kPins; ++pin) {
    uint64_t& e = entries_[pin];
    if ((e & kRemoteIrr) && uint8_t(e) == vector) {
      e &= ~kRemoteIrr;
      service(pin);
    }
  }
}

void IoApic::save_state(core::StateWriter& out) const {
  out.u32(kStateVersion);
  out.u8(id_);
  out.u8(select_);
  for (uint64_t e : entries_) out.u64(e);
  out.u32(levels_);
}

void IoApic::load_state(core::StateReader& in) {
  in.version(kStateVersion);
  id_ = in.u8();
  select_ = in.u8();
  for (uint64_t& e : entries_) e = in.u64();
  levels_ = in.u32() & ((1u << kPins) - 1);
}

}  // namespace rwd::hw
