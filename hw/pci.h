// PCI on a PC: configuration space through configuration mechanism #1 and
// the functions that answer on bus 0 (PCI Local Bus Specification 3.0,
// §3.2.2.3.2 and §6).
//
//   0xcf8  CONFIG_ADDRESS, 32-bit accesses only: enable (bit 31), bus
//          (23:16), device (15:11), function (10:8), register (7:2)
//   0xcfc-0xcff  CONFIG_DATA: 1, 2 or 4 bytes of the addressed register
// A byte access to 0xcf9 is not the address register's: the PIIX3's reset
// control register lives there, and the config ports pass such accesses on.
// A function that is not there (or any bus but 0, or enable clear) reads
// all-ones and ignores writes.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/memory.h"
#include "core/snapshot.h"

namespace rwd::hw {

// One PCI function's 256-byte configuration space. Bytes are writable where
// the function's write mask says so; the rest read back what the function
// put there. Subclasses react to writes in config_written().
class PciFunction : public core::Snapshottable {
 public:
  static constexpr uint32_t kStateVersion = 1;
  // Standard header offsets.
  static constexpr uint8_t kVendorId = 0x00, kDeviceId = 0x02, kCommand = 0x04, kStatus = 0x06, kRevision = 0x08,
                           kClassCode = 0x09, kCacheLineSize = 0x0c, kLatencyTimer = 0x0d, kHeaderType = 0x0e,
                           kSubsystemVendorId = 0x2c, kSubsystemId = 0x2e, kInterruptLine = 0x3c,
                           kInterruptPin = 0x3d;
  static constexpr uint8_t kMultiFunction = 0x80;  // in kHeaderType

  virtual ~PciFunction() = default;

  uint32_t read_config(uint8_t offset, unsigned size) const;
  void write_config(uint8_t offset, uint32_t value, unsigned size);
  // Back to the power-on contents.
  void reset();
  // The registers take effect (what the function maps, it maps now): the
  // board calls this once the function is wired and its state registered.
  void apply() { config_written(0, 256); }

  void save_state(core::StateWriter& out) const override;
  void load_state(core::StateReader& in) override;

 protected:
  // `class_code`: base class, subclass and programming interface (0xBBSSPP).
  PciFunction(uint16_t vendor, uint16_t device, uint8_t revision, uint32_t class_code, uint8_t header_type);

  // Power-on contents beyond the identity (subclasses call these in their
  // constructor; reset() comes back to what they set).
  void set_byte(uint8_t offset, uint8_t value, uint8_t writable = 0);
  void set_word(uint8_t offset, uint16_t value, uint16_t writable = 0);
  void set_dword(uint8_t offset, uint32_t value, uint32_t writable = 0);
  uint8_t byte(uint8_t offset) const { return config_[offset]; }
  uint32_t dword(uint8_t offset) const;

  // After a write to [offset, offset + size), and after a state was loaded
  // or reset (offset 0, size 256): the function applies what changed.
  virtual void config_written(uint8_t offset, unsigned size) {}

 private:
  std::array<uint8_t, 256> config_{};
  std::array<uint8_t, 256> power_on_{};
  std::array<uint8_t, 256> writable_{};
};

// The configuration ports and bus 0's functions, by device and function number.
class PciConfigPorts final : public core::RegionOps, public core::Snapshottable {
 public:
  static constexpr uint32_t kStateVersion = 1;
  static constexpr const char* kStateName = "pci-host";
  static constexpr uint16_t kBase = 0xcf8, kSize = 8;

  // `reset_control`: what answers byte accesses at 0xcf9.
  explicit PciConfigPorts(core::RegionOps* reset_control) : reset_control_(reset_control) {}

  void plug(unsigned device, unsigned function, PciFunction* f);
  PciFunction* function(unsigned device, unsigned function) const;

  uint64_t read(uint64_t offset, unsigned size) override;
  void write(uint64_t offset, uint64_t value, unsigned size) override;
  void reset() { address_ = 0; }

  void save_state(core::StateWriter& out) const override;
  void load_state(core::StateReader& in) override;

 private:
  PciFunction* addressed() const;  // by CONFIG_ADDRESS, or nullptr

  core::RegionOps* reset_control_;
  std::array<PciFunction*, 256> functions_{};  // devfn: device << 3 | function
  uint32_t address_ = 0;
};

}  // namespace rwd::hw
