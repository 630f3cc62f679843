// The machine configuration as a trace stores it, and back.
#pragma once

#include "core/machine_config.h"
#include "traces/trace_types.h"

namespace rwd::replay {

traces::MachineSpec to_spec(const core::MachineConfig& config);
// Throws traces::TraceError for a field replay cannot use (guest RAM out of
// range, an unknown accelerator); devices are checked by the board.
core::MachineConfig from_spec(const traces::MachineSpec& spec);

}  // namespace rwd::replay
