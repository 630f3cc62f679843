// Where a PC's RAM appears in the physical address space, derived from the
// RAM size alone: conventional memory below 640 KiB, the VGA/ROM hole up to
// 1 MiB, RAM from 1 MiB up to the PCI hole at 3.5 GiB, the rest above 4 GiB.
// The board maps RAM with it, the RTC reports it in CMOS, and loaders
// describe it to the guest (Multiboot mem_upper and memory map, e820).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace rwd::hw {

struct PcMemoryLayout {
  static constexpr uint64_t kConventionalTop = 0xa0000;    // VGA memory starts here
  static constexpr uint64_t kEbdaBase = 0x9fc00;           // a BIOS's extended data area (1 KiB)
  static constexpr uint64_t kBiosRomBase = 0xf0000;        // the system BIOS segment
  static constexpr uint64_t kHighMemoryBase = 0x100000;    // 1 MiB
  static constexpr uint64_t kPciHoleBase = 0xe0000000;     // no RAM from here to 4 GiB
  static constexpr uint64_t k4GiB = 1ull << 32;
  // The top of RAM below 4 GiB holds the firmware's tables (ACPI), reserved
  // in the map; SeaBIOS keeps the same 128 KiB there on QEMU.
  static constexpr uint64_t kFirmwareAreaSize = 0x20000;

  // One piece of RAM: guest-physical base, offset in the machine's RAM block, size.
  struct RamRange {
    uint64_t guest_base;
    uint64_t ram_offset;
    uint64_t size;
  };
  // An E820-style memory map entry (type 1 usable, 2 reserved).
  struct MapEntry {
    uint64_t base;
    uint64_t length;
    uint32_t type;
  };
  static constexpr uint32_t kUsable = 1, kReserved = 2;

  uint64_t ram_size = 0;
  uint64_t below_4g = 0;  // RAM bytes addressed below the PCI hole (includes the hidden 640K-1M part)
  uint64_t above_4g = 0;  // RAM bytes relocated above 4 GiB

  static PcMemoryLayout for_ram(uint64_t ram_size) {
    PcMemoryLayout layout;
    layout.ram_size = ram_size;
    layout.below_4g = std::min(ram_size, kPciHoleBase);
    layout.above_4g = ram_size - layout.below_4g;
    return layout;
  }

  // RAM as the board maps it. The RAM block's bytes between 640 KiB and
  // 1 MiB stay unmapped (that range belongs to VGA and ROMs), as on a PC.
  std::vector<RamRange> ram_ranges() const {
    std::vector<RamRange> ranges;
    uint64_t low = std::min(ram_size, kConventionalTop);
    if (low) ranges.push_back({0, 0, low});
    if (below_4g > kHighMemoryBase) ranges.push_back({kHighMemoryBase, kHighMemoryBase, below_4g - kHighMemoryBase});
    if (above_4g) ranges.push_back({k4GiB, below_4g, above_4g});
    return ranges;
  }

  // KiB of RAM from 1 MiB to the first hole (Multiboot's mem_upper).
  uint64_t upper_memory_kib() const {
    return below_4g > kHighMemoryBase ? (below_4g - kHighMemoryBase) / 1024 : 0;
  }

  // A firmware area needs at least 1 MiB of RAM above 1 MiB beside it.
  bool has_firmware_area() const { return below_4g >= 2 * kHighMemoryBase + kFirmwareAreaSize; }
  uint64_t firmware_area_base() const { return below_4g - kFirmwareAreaSize; }
  // One past the last usable byte below 4 GiB.
  uint64_t usable_top_below_4g() const { return has_firmware_area() ? firmware_area_base() : below_4g; }
  bool overlaps_firmware_area(uint64_t addr, uint64_t size) const {
    return has_firmware_area() && addr < below_4g && firmware_area_base() < addr + size;
  }

  // The memory map a PC BIOS would report: the EBDA, the BIOS segment and
  // the firmware area reserved, everything else that is RAM usable.
  std::vector<MapEntry> memory_map() const {
    std::vector<MapEntry> map;
    uint64_t low = std::min(ram_size, kConventionalTop);
    uint64_t usable_low = std::min(low, kEbdaBase);
    if (usable_low) map.push_back({0, usable_low, kUsable});
    if (low > kEbdaBase) map.push_back({kEbdaBase, low - kEbdaBase, kReserved});
    map.push_back({kBiosRomBase, kHighMemoryBase - kBiosRomBase, kReserved});
    uint64_t usable_top = usable_top_below_4g();
    if (usable_top > kHighMemoryBase) map.push_back({kHighMemoryBase, usable_top - kHighMemoryBase, kUsable});
    if (has_firmware_area()) map.push_back({usable_top, kFirmwareAreaSize, kReserved});
    if (above_4g) map.push_back({k4GiB, above_4g, kUsable});
    return map;
  }
};

}  // namespace rwd::hw
