// `-kernel FILE` on the PC board: picks the loader by the image's own
// markings, as QEMU does — a Linux setup header ("HdrS") first, then a
// Multiboot header — and loads it. An image that is neither gets the
// Multiboot loader's one-line explanation of what is missing.
#pragma once

#include "core/machine.h"
#include "core/machine_config.h"
#include "core/x86_cpu_state.h"
#include "replay/image_file.h"

namespace rwd::hw {

enum class KernelKind { kLinux, kMultiboot };

// Opens the kernel once through `open` (so a recorder sees it once). Sets the
// entry state in `cpu`. Throws LoadError.
KernelKind load_pc_kernel(core::Machine& machine, const core::MachineConfig& config, const replay::ImageOpener& open,
                          core::X86CpuState& cpu);

}  // namespace rwd::hw
