#include "hw/loaders/pc_kernel.h"

#include <memory>

#include "hw/loaders/image_io.h"
#include "hw/loaders/linux_boot.h"
#include "hw/loaders/load_error.h"
#include "hw/loaders/multiboot.h"
#include "hw/pc_memory_layout.h"

namespace rwd::hw {

KernelKind load_pc_kernel(core::Machine& machine, const core::MachineConfig& config, const replay::ImageOpener& open,
                          core::X86CpuState& cpu) {
  if (config.kernel.empty()) throw LoadError("no kernel given (-kernel)");
  PcMemoryLayout layout = PcMemoryLayout::for_ram(machine.ram_size());
  std::unique_ptr<replay::ImageFile> kernel = image_io::open_image(open, "kernel", config.kernel, layout.ram_size);
  bool linux = is_linux_kernel(*kernel);
  // The loader opens the kernel again: hand it the file already open.
  replay::ImageOpener reuse = [&](const std::string& role, const std::string& path, uint64_t max_size) {
    if (kernel && role == "kernel" && path == config.kernel) return std::move(kernel);
    return open(role, path, max_size);
  };
  if (linux) {
    load_linux(machine.memory(), layout, {config.kernel, config.append, config.initrd, reuse}, cpu);
    return KernelKind::kLinux;
  }
  load_multiboot(machine.memory(), layout, {config.kernel, config.append, config.initrd, reuse}, cpu);
  return KernelKind::kMultiboot;
}

}  // namespace rwd::hw
