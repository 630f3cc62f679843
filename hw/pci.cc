#include "hw/pci.h"

namespace rwd::hw {

PciFunction::PciFunction(uint16_t vendor, uint16_t device, uint8_t revision, uint32_t class_code,
                         uint8_t header_type) {
  set_word(kVendorId, vendor);
  set_word(kDeviceId, device);
  // I/O and memory space, bus master, SERR#: the bits firmware sets.
  set_word(kCommand, 0, 0x0107);
  set_byte(kRevision, revision);
  set_byte(kClassCode, uint8_t(class_code));
  set_byte(kClassCode + 1, uint8_t(class_code >> 8));
  set_byte(kClassCode + 2, uint8_t(class_code >> 16));
  set_byte(kCacheLineSize, 0, 0xff);
  set_byte(kLatencyTimer, 0, 0xff);
  set_byte(kHeaderType, header_type);
  set_byte(kInterruptLine, 0, 0xff);
}

void PciFunction::set_byte(uint8_t offset, uint8_t value, uint8_t writable) {
  config_[offset] = power_on_[offset] = value;
  writable_[offset] = writable;
}

void PciFunction::set_word(uint8_t offset, uint16_t value, uint16_t writable) {
  set_byte(offset, uint8_t(value), uint8_t(writable));
  set_byte(uint8_t(offset + 1), uint8_t(value >> 8), uint8_t(writable >> 8));
}

void PciFunction::set_dword(uint8_t offset, uint32_t value, uint32_t writable) {
  set_word(offset, uint16_t(value), uint16_t(writable));
  set_word(uint8_t(offset + 2), uint16_t(value >> 16), uint16_t(writable >> 16));
}

uint32_t PciFunction::dword(uint8_t offset) const { return read_config(offset, 4); }

uint32_t PciFunction::read_config(uint8_t offset, unsigned size) const {
  uint32_t v = 0;
  for (unsigned i = 0; i < size && offset + i < 256; ++i) v |= uint32_t(config_[offset + i]) << (8 * i);
  return v;
}

void PciFunction::write_config(uint8_t offset, uint32_t value, unsigned size) {
  unsigned n = 0;
  for (; n < size && offset + n < 256; ++n) {
    uint8_t mask = writable_[offset + n];
    uint8_t b = uint8_t(value >> (8 * n));
    config_[offset + n] = uint8_t((config_[offset + n] & ~mask) | (b & mask));
  }
  config_written(offset, n);
}

void PciFunction::reset() {
  config_ = power_on_;
  config_written(0, 256);
}

void PciFunction::save_state(core::StateWriter& out) const {
  out.u32(kStateVersion);
  out.bytes(config_.data(), config_.size());
}

void PciFunction::load_state(core::StateReader& in) {
  in.version(kStateVersion);
  std::array<uint8_t, 256> config;
  in.bytes(config.data(), config.size());
  in.expect_end();
  // What the function fixed stays fixed: a state can only change what the
  // guest could have written.
  for (unsigned i = 0; i < 256; ++i)
    config_[i] = uint8_t((power_on_[i] & ~writable_[i]) | (config[i] & writable_[i]));
  config_written(0, 256);
}

void PciConfigPorts::plug(unsigned device, unsigned function, PciFunction* f) {
  functions_.at((device & 31) << 3 | (function & 7)) = f;
}

PciFunction* PciConfigPorts::function(unsigned device, unsigned function) const {
  return functions_.at((device & 31) << 3 | (function & 7));
}

PciFunction* PciConfigPorts::addressed() const {
  if (!(address_ & 0x80000000u) || ((address_ >> 16) & 0xff) != 0) return nullptr;  // bus 0 only
  return functions_[(address_ >> 8) & 0xff];
}

uint64_t PciConfigPorts::read(uint64_t offset, unsigned size) {
  if (offset == 0 && size == 4) return address_;
  if (offset == 1 && size == 1 && reset_control_) return reset_control_->read(0, 1);
  if (offset < 4) return ~0ull;  // not the address register's width
  PciFunction* f = addressed();
  if (!f) return ~0ull;
  return f->read_config(uint8_t((address_ & 0xfc) + (offset - 4)), size);
}

void PciConfigPorts::write(uint64_t offset, uint64_t value, unsigned size) {
  if (offset == 0 && size == 4) {
    address_ = uint32_t(value) & 0x80fffffcu;  // reserved bits 30:24 and 1:0 read 0
    return;
  }
  if (offset == 1 && size == 1 && reset_control_) {
    reset_control_->write(0, value, 1);
    return;
  }
  if (offset < 4) return;
  if (PciFunction* f = addressed()) f->write_config(uint8_t((address_ & 0xfc) + (offset - 4)), uint32_t(value), size);
}

void PciConfigPorts::save_state(core::StateWriter& out) const {
  out.u32(kStateVersion);
  out.u32(address_);
}

void PciConfigPorts::load_state(core::StateReader& in) {
  in.version(kStateVersion);
  address_ = in.u32() & 0x80fffffcu;
  in.expect_end();
}

}  // namespace rwd::hw
