// QEMU's isa-debug-exit: a port that ends the run. Writing value v requests a
// guest exit with status (v << 1) | 1 (so a guest can never report a plain 0,
// which tells "the guest said so" apart from a clean emulator exit). The
// process exit status is that value truncated by the operating system, as
// with QEMU.
//
// rewind places one at 0xf4 (4 bytes) unless the command line gives
// `-device isa-debug-exit[,iobase=N][,iosize=N]`; then each such device
// replaces it, with QEMU's defaults (iobase=0x501, iosize=2) for what is not
// given. Reads return 0.
#pragma once

#include <cstdint>

#include "core/machine_config.h"
#include "core/memory.h"
#include "core/run_control.h"
#include "core/snapshot.h"

namespace rwd::hw {

class IsaDebugExit final : public core::RegionOps, public core::Snapshottable {
 public:
  static constexpr uint32_t kStateVersion = 1;
  static constexpr const char* kDriver = "isa-debug-exit";
  static constexpr uint16_t kDefaultBase = 0xf4, kDefaultSize = 4;
  static constexpr uint16_t kQemuDefaultBase = 0x501, kQemuDefaultSize = 2;

  struct Placement {
    uint16_t iobase;
    uint32_t iosize;
  };
  // iobase/iosize from `-device isa-debug-exit,...`; throws ConfigError naming
  // the property and the problem.
  static Placement parse(const core::DeviceConfig& config);

  explicit IsaDebugExit(core::RunControl& run_control) : run_control_(run_control) {}

  uint64_t read(uint64_t offset, unsigned size) override { return 0; }
  void write(uint64_t offset, uint64_t value, unsigned size) override;

  // Accesses of 1 to 4 bytes reach the device whole, so `outl` gives the
  // full 32-bit value.
  static core::AccessRules access_rules();

  // core::Snapshottable: there is no state, only the version. The board still
  // registers each device under its port ("debug-exit@0xf4"), so restoring a
  // checkpoint on a board with other placements fails by name.
  void save_state(core::StateWriter& out) const override { out.u32(kStateVersion); }
  void load_state(core::StateReader& in) override { in.version(kStateVersion); }

 private:
  core::RunControl& run_control_;
};

}  // namespace rwd::hw
