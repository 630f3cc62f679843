// The PC's wiring of x87 errors for CR0.NE = 0 (DOS-compatible mode): the
// CPU's FERR# output sets a latch that drives IRQ 13; a write of any value to
// port 0xF0 clears it (on real boards that also asserts IGNNE#, which lets
// the stalled instruction go on; rewind's CPU does not stall, as QEMU's
// does not). With CR0.NE = 1, the mode every modern kernel uses, x87 errors
// are #MF exceptions and this latch never sees FERR#.
#pragma once

#include <cstdint>

#include "core/irq.h"
#include "core/memory.h"
#include "core/snapshot.h"

namespace rwd::hw {

class FpuErrorLatch final : public core::IrqSink, public core::RegionOps, public core::Snapshottable {
 public:
  static constexpr uint32_t kStateVersion = 1;
  static constexpr const char* kStateName = "fpu-error";
  static constexpr uint16_t kPort = 0xf0;
  static constexpr unsigned kIrq = 13;

  explicit FpuErrorLatch(core::IrqLine irq13) : irq_(irq13) {}

  // FERR# (any pin): a rising level sets the latch.
  void set_irq(unsigned, bool level) override;
  uint64_t read(uint64_t, unsigned) override { return 0xff; }
  void write(uint64_t, uint64_t, unsigned) override;

  bool latched() const { return latched_; }

  // The IRQ 13 level is part of the PIC's state, so loading does not drive it.
  void save_state(core::StateWriter& out) const override;
  void load_state(core::StateReader& in) override;

 private:
  core::IrqLine irq_;
  bool latched_ = false;
};

}  // namespace rwd::hw
