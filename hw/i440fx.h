// The i440FX PCI and memory controller (host bridge, 00:00.0) as QEMU's `pc`
// machine has it: 8086:1237 revision 2, subsystem 1af4:1100 (which tells
// SeaBIOS it runs on QEMU). Its registers that matter decide what the
// guest sees between 640 KiB and 1 MiB:
//
//  - PAM0-PAM6 (0x59-0x5f): for 0xf0000-0xfffff (PAM0 bits 5:4) and twelve
//    16 KiB pieces from 0xc0000 (the low then high nibble of PAM1..PAM6),
//    bit 0 enables reads from RAM, bit 1 writes to RAM: 0 reads and writes
//    go to PCI (the firmware ROM's last 128 KiB below 1 MiB, nothing
//    elsewhere), 1 reads RAM and drops writes (shadowed ROM), 3 is RAM. 2,
//    writes to RAM with reads from PCI, is RAM as on QEMU.
//  - SMRAM (0x72): D_OPEN (bit 6) shows the RAM under 0xa0000-0xbffff. rewind
//    has no SMM, so the rest only reads back.
//
// The RAM behind the window is part of the machine's RAM block (the bytes
// at the same offsets), so shadow RAM is checkpointed with the rest.
#pragma once

#include <cstdint>
#include <string>

#include "core/dirty_log.h"
#include "core/memory.h"
#include "hw/pci.h"

namespace rwd::hw {

class I440fx final : public PciFunction {
 public:
  static constexpr const char* kStateName = "i440fx";
  static constexpr uint8_t kPam0 = 0x59, kSmram = 0x72;
  static constexpr uint8_t kSmramDOpen = 0x40;
  static constexpr uint64_t kSmramBase = 0xa0000, kSmramSize = 0x20000;
  static constexpr uint64_t kPamBase = 0xc0000;

  // Nothing is mapped until apply(). `ram`: the RAM block (its bytes 0xa0000-0xfffff back the window);
  // `isa_rom`/`isa_rom_size`: the bytes PCI shows just below 1 MiB (the end
  // of the firmware image, at most 128 KiB), or none.
  I440fx(core::AddressSpace& memory, uint8_t* ram, core::DirtyLog* dirty_log, const uint8_t* isa_rom,
         uint64_t isa_rom_size);
  ~I440fx() override { unmap(); }

  // The window's regions leave the address space (the board's teardown).
  void unmap();

 private:
  void config_written(uint8_t offset, unsigned size) override;
  void map_window();
  // The access mode of PAM piece i (0: 0xf0000, 1..12: 0xc0000 + 16 KiB * (i - 1)).
  unsigned pam_mode(unsigned piece) const;

  core::AddressSpace& memory_;
  uint8_t* ram_;
  core::DirtyLog* dirty_log_;
  const uint8_t* isa_rom_;
  uint64_t isa_rom_size_;
  uint8_t mapped_pam_[7] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};  // as last applied
  int mapped_smram_ = -1;
  bool mapped_ = false;
};

}  // namespace rwd::hw
