// The PIIX3 reset control register at port 0xCF9, the FADT's reset register:
// RST_CPU (bit 2) going from 0 to 1 resets the machine (SYS_RST, bit 1, and
// FULL_RST, bit 3, only choose the kind of reset, which is the same here).
#pragma once

#include <cstdint>

#include "core/memory.h"
#include "core/run_control.h"
#include "core/snapshot.h"

namespace rwd::hw {

class ResetControl final : public core::RegionOps, public core::Snapshottable {
 public:
  static constexpr uint32_t kStateVersion = 1;
  static constexpr const char* kStateName = "reset-control";
  static constexpr uint16_t kPort = 0xcf9;
  static constexpr uint8_t kSysRst = 1u << 1, kRstCpu = 1u << 2, kFullRst = 1u << 3;
  static constexpr uint8_t kResetValue = kSysRst | kRstCpu;  // what the FADT tells the OS to write

  explicit ResetControl(core::RunControl& run_control) : run_control_(run_control) {}

  uint64_t read(uint64_t, unsigned) override { return value_; }
  void write(uint64_t, uint64_t value, unsigned) override;
  void reset() { value_ = 0; }

  void save_state(core::StateWriter& out) const override;
  void load_state(core::StateReader& in) override;

 private:
  core::RunControl& run_control_;
  uint8_t value_ = 0;  // SYS_RST and FULL_RST as written; RST_CPU reads 0
};

}  // namespace rwd::hw
