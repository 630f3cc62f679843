// The Multiboot (version 1) loader: what QEMU does for `-kernel` when the
// image carries a Multiboot header, without the option ROM in between.
//
//  - The header (magic 0x1BADB002, flags, checksum) must lie 4-aligned in the
//    first 8192 bytes. Of the required flags (bits 0-15) only page-aligned
//    modules (bit 0) and memory information (bit 1) are provided: a header
//    asking for more is refused, as the specification demands. With flags bit 16 (the "a.out kludge") the load
//    addresses come from the header; otherwise the image must be a 32-bit ELF
//    whose PT_LOAD segments are loaded at their physical addresses (p_paddr),
//    bss zeroed, entering at e_entry (translated to a physical address when
//    it lies in an executable segment whose p_vaddr differs, as QEMU does).
//  - Modules (-initrd entries; text after a space is the module's own command
//    line, the whole entry is its string) follow the kernel page-aligned,
//    after the module list and the command lines, exactly where QEMU puts them.
//  - The kernel command line is "<kernel path> <-append text>", QEMU's form.
//  - The memory map, the information structure and a flat GDT like the one
//    QEMU's multiboot ROM loads share one page, the information area, at
//    offsets 0, 0x500 and 0x600: at 0x9000 as on QEMU, or — when the image,
//    its command lines or modules lie there (QEMU would overwrite them) — on
//    the first free page of conventional memory from 0x1000 up.
//  - mem_lower is 639 KiB (the last KiB below 640 KiB is a BIOS's EBDA, as
//    QEMU with SeaBIOS reports), mem_upper the KiB from 1 MiB to the PCI hole.
//  - Entry state: EAX=0x2BADB002, EBX=info address, 32-bit protected mode
//    without paging, CS=0x08 and DS/ES/FS/GS/SS=0x10 flat 4 GiB segments,
//    GDTR at that GDT, EFLAGS=0x2 (interrupts off), EIP=entry. CR0 is PE|ET:
//    ET is hardwired to 1 on every CPU since the 486 (KVM reports it too).
//
// Every malformed or unsupported input raises LoadError with one line naming
// the file and the problem; nothing is written to guest memory before the
// whole image has been checked. Files are read through replay::ImageFile, a
// piece at a time: neither the kernel nor a module is held in host memory
// whole.
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

inline constexpr uint32_t kMultibootHeaderMagic = 0x1badb002;
inline constexpr uint32_t kMultibootBootloaderMagic = 0x2badb002;
// The information area: one page, at QEMU's address unless the image lies there.
inline constexpr uint32_t kMultibootInfoAreaDefault = 0x9000;
inline constexpr uint32_t kMultibootMmapOffset = 0, kMultibootInfoOffset = 0x500, kMultibootGdtOffset = 0x600;
inline constexpr uint32_t kMultibootSearchBytes = 8192;

struct MultibootOptions {
  std::string kernel;               // path, also the first word of the command line
  std::string append;               // -append
  std::vector<std::string> modules; // -initrd entries: "path[ arguments]"
  replay::ImageOpener open;         // how the kernel and modules are opened
};

// The file of an -initrd entry "path[ arguments]".
std::string multiboot_module_path(const std::string& entry);

struct MultibootModule {
  uint32_t start;
  uint32_t end;        // one past the last byte
  std::string string;  // the -initrd entry, as the guest sees it
};

// What was loaded where.
struct MultibootBoot {
  uint32_t entry;
  uint32_t info_addr;
  uint32_t image_start;  // lowest byte of the kernel image
  uint32_t image_end;    // one past its end, bss included
  std::string cmdline;
  std::vector<MultibootModule> modules;
};

// True if the file starts with a valid Multiboot header in its first 8 KiB
// (how a caller picks this loader over another). False for unreadable files.
bool is_multiboot_kernel(replay::ImageFile& file);

// Load into `memory` (RAM must already be mapped as `layout` describes) and
// set the entry state in `cpu` (other fields untouched). Throws LoadError.
MultibootBoot load_multiboot(core::AddressSpace& memory, const PcMemoryLayout& layout,
                             const MultibootOptions& options, core::X86CpuState& cpu);

}  // namespace rwd::hw
