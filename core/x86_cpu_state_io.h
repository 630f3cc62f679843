// Serialising and printing the CPU state (kept apart from x86_cpu_state.h,
// which the semantics include and must stay free of library headers).
#pragma once

#include <string>

#include "core/snapshot.h"
#include "core/x86_cpu_state.h"

namespace rwd::core {

// Layout version of the checkpoint form; checkpoints record it beside the
// bytes. 2: x87 FCS and FDS; 3: MTRRs, mid_rep_icount; 4: the NMI latch and
// the wait-for-SIPI state.
// Older layouts load.
inline constexpr uint32_t kCpuStateVersion = 4;

// Checkpoint form of the state: explicit fields, versioned (core/snapshot.h).
void save_cpu_state(const X86CpuState& state, StateWriter& out);
// Throws SnapshotError on a truncated or unknown-version state.
X86CpuState load_cpu_state(StateReader& in);

// "rax" ... "r15" for Gpr numbers 0-15.
const char* gpr_name(unsigned gpr);

// A multi-line register dump for humans (crash reports, divergence messages).
std::string format_cpu_state(const X86CpuState& state);

}  // namespace rwd::core
