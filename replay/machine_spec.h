// The machine configuration as a trace stores it, and back.
#pragma once

#include "core/machine_config.h"
#include "traces/trace_types.h"

namespace rwd::replay {

traces::MachineSpec to_spec(const core::MachineConfig& config);
core::MachineConfig from_spec(const traces::MachineSpec& spec);

}  // namespace rwd::replay
