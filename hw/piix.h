// The PIIX southbridge functions of QEMU's `pc` machine on bus 0, device 1:
//
//  - 01.0 PIIX3 PCI-to-ISA bridge (8086:7000), multi-function: the PIRQ
//    route registers (0x60-0x63) that firmware programs, kept as written
//    (no PCI device here raises INTx), and the other ISA-bridge registers
//    firmware touches;
//  - 01.3 PIIX4 power management (8086:7113, revision 3): PMBA (0x40) and
//    PMREGMISC bit 0 (0x80) place the ACPI PM block (hw/acpi_pm) in I/O
//    space; SMBus base and host configuration only read back. DEVACTB's
//    APMC_EN (0x5b bit 1) reads 1, QEMU's way of telling firmware that SMM
//    needs no setup (rewind has no SMM).
//
// With no firmware to program the PM function (rewind loads the kernel
// itself), the board programs it as SeaBIOS does: PMBA 0x600, enabled, SCI
// on IRQ 9.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "hw/pci.h"

namespace rwd::hw {

class Piix3Isa final : public PciFunction {
 public:
  static constexpr const char* kStateName = "piix3-isa";
  static constexpr uint8_t kPirqRoute = 0x60;
  Piix3Isa();
};

class Piix4Pm final : public PciFunction {
 public:
  static constexpr const char* kStateName = "piix4-pm";
  static constexpr uint8_t kPmBase = 0x40, kDevActB = 0x58, kPmRegMisc = 0x80, kSmbBase = 0x90, kSmbHstCfg = 0xd2;
  // Told where the PM block now is, or that it is disabled.
  using Placement = std::function<void(std::optional<uint16_t> base)>;

  // `place` is first told at apply().
  explicit Piix4Pm(Placement place);
  // What firmware would do: PM block at `base`, enabled, SCI on IRQ `sci`.
  void program_as_firmware(uint16_t base, uint8_t sci);

 private:
  void config_written(uint8_t offset, unsigned size) override;

  Placement place_;
  std::optional<uint16_t> placed_;
  bool placed_once_ = false;
};

}  // namespace rwd::hw
