#include "hw/reset_control.h"

namespace rwd::hw {

void ResetControl::write(uint64_t, uint64_t value, unsigned) {
  // RST_CPU is self-clearing, so every write with it set is a 0 -> 1 transition.
  if (value & kRstCpu) run_control_.request_reset();
  value_ = static_cast<uint8_t>(value & (kSysRst | kFullRst));
}

void ResetControl::save_state(core::StateWriter& out) const {
  out.u32(kStateVersion);
  out.u8(value_);
}

void ResetControl::load_state(core::StateReader& in) {
  in.version(kStateVersion);
  value_ = in.u8();
}

}  // namespace rwd::hw
