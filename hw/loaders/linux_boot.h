// The Linux x86 boot protocol loader (Documentation/arch/x86/boot.rst): what
// QEMU does for `-kernel bzImage`, without the real-mode setup code and the
// option ROM in between — rewind enters the kernel's protected-mode part
// directly, as the protocol's 32-bit and 64-bit boot paths allow.
//
//  - The image is a bzImage: boot flag 0xAA55 at 0x1fe, "HdrS" at 0x202,
//    protocol 2.12 or later (xloadflags exists), LOADED_HIGH. Its first
//    (setup_sects + 1) * 512 bytes are the real-mode setup, which is not
//    run; the rest is the protected-mode kernel, loaded at pref_address with
//    init_size bytes reserved from there.
//  - boot_params (the "zero page") holds the image's setup header, the
//    command line pointer (the -append text, as QEMU passes it), the initrd
//    (one -initrd file, placed page-aligned as high as initrd_addr_max and
//    usable RAM below 4 GiB allow, above the kernel's init_size) and the e820 map
//    of PcMemoryLayout, and (protocol 2.14 on) the board's ACPI RSDP.
//    type_of_loader is 0xff (no assigned ID).
//  - A kernel with XLF_KERNEL_64 is entered at its 64-bit entry (load
//    address + 0x200) in long mode, with the first 4 GiB identity-mapped by
//    2 MiB pages that the loader builds — the path KVM needs too; others at
//    the 32-bit entry (the load address) in flat protected mode without
//    paging. Either way CS is __BOOT_CS (0x10), DS/ES/SS/FS/GS __BOOT_DS
//    (0x18), interrupts are off and RSI holds boot_params' address.
//  - The loader's own structures live in conventional memory, at the
//    addresses QEMU gives boot_params (0x10000) and the command line
//    (0x20000); an image or initrd overlapping them is refused.
//
// Every malformed or unsupported input raises LoadError with one line naming
// the file and the problem; nothing is written to guest memory before the
// whole image has been checked.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/machine.h"
#include "core/machine_config.h"
#include "core/memory.h"
#include "core/x86_cpu_state.h"
#include "hw/loaders/load_error.h"
#include "hw/pc_memory_layout.h"
#include "replay/image_file.h"

namespace rwd::hw {

inline constexpr uint64_t kLinuxBootParamsAddr = 0x10000;
inline constexpr uint64_t kLinuxGdtAddr = 0x11000;
inline constexpr uint64_t kLinuxPageTablesAddr = 0x12000;  // PML4, PDPT, 4 page directories
inline constexpr uint64_t kLinuxCmdlineAddr = 0x20000;
inline constexpr uint16_t kLinuxMinProtocol = 0x020c;

struct LinuxBootOptions {
  std::string kernel;                // path
  std::string append;                // -append: the kernel command line
  std::vector<std::string> initrd;   // at most one file
  replay::ImageOpener open;
};

// What was loaded where.
struct LinuxBoot {
  uint16_t protocol;         // e.g. 0x020f
  bool entered_64bit;
  uint64_t load_addr;        // the protected-mode kernel
  uint64_t entry;
  uint64_t reserved_end;     // load_addr + max(init_size, kernel bytes)
  uint64_t initrd_addr = 0;  // 0 without an initrd
  uint64_t initrd_size = 0;
  std::string cmdline;
};

// True if the file carries a Linux setup header ("HdrS" at 0x202 and the
// boot flag), whatever its protocol version: how a caller picks this loader.
bool is_linux_kernel(replay::ImageFile& file);

// Load into `memory` (RAM mapped as `layout` describes) and set the entry
// state in `cpu` (other fields untouched). Throws LoadError.
LinuxBoot load_linux(core::AddressSpace& memory, const PcMemoryLayout& layout, const LinuxBootOptions& options,
                     core::X86CpuState& cpu);

}  // namespace rwd::hw
