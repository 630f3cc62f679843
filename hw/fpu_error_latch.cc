#include "hw/fpu_error_latch.h"

namespace rwd::hw {

void FpuErrorLatch::set_irq(unsigned, bool level) {
  if (!level || latched_) return;
  latched_ = true;
  irq_.raise();
}

void FpuErrorLatch::write(uint64_t, uint64_t, unsigned) {
  if (!latched_) return;
  latched_ = false;
  irq_.lower();
}

void FpuErrorLatch::save_state(core::StateWriter& out) const {
  out.u32(kStateVersion);
  out.boolean(latched_);
}

void FpuErrorLatch::load_state(core::StateReader& in) {
  in.version(kStateVersion);
  latched_ = in.boolean();
}

}  // namespace rwd::hw
