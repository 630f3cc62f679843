// The ACPI tables rewind's PC board puts in the firmware area at the top of
// RAM below 4 GiB (PcMemoryLayout; reserved in the e820 map), as SeaBIOS
// does on QEMU: RSDP (revision 2) -> RSDT and XSDT -> FADT -> FACS and a
// DSDT with \_S5 (SLP_TYP AcpiPm::kSlpTypS5), so that an OS can power the
// machine off, and the PCI root bridge \_SB.PCI0 (PNP0A03, with the
// resources it decodes), so that it enumerates PCI bus 0. The FADT describes hw::AcpiPm (SCI on IRQ 9, no
// SMI command port: always in ACPI mode) and the reset register at port
// 0xCF9 (hw::ResetControl). The MADT lists one local APIC per vCPU (APIC ID =
// ACPI processor UID = vCPU index), the I/O APIC (ID IoApic::kId at
// IoApic::kBase, GSI base 0), the interrupt-source overrides ISA IRQ 0 -> GSI 2
// and IRQ 9 (SCI) level-triggered, active high, as QEMU's, and LINT1 as NMI
// on every CPU; PCAT_COMPAT says the 8259 pair is there too. The HPET table
// describes hw::Hpet (event timer block ID, 0xfed00000, minimum tick 128).
//
// The tables are a fixed function of the area's address; an OS finds the
// RSDP through boot_params.acpi_rsdp_addr (the Linux loader sets it), since
// without -bios the board has no BIOS ROM in which to hide it. With -bios
// the firmware places them (build_acpi_loader_files below).
#pragma once

#include <cstdint>
#include <vector>

#include "hw/pc_memory_layout.h"

namespace rwd::hw {

inline constexpr uint64_t kAcpiFacsOffset = 0x000, kAcpiFadtOffset = 0x080,
                          kAcpiRsdtOffset = 0x180, kAcpiXsdtOffset = 0x1c0, kAcpiRsdpOffset = 0x200,
                          kAcpiHpetOffset = 0x240, kAcpiMadtOffset = 0x280;
// The DSDT follows the MADT (both vary in size), 16-byte aligned.
inline constexpr unsigned kAcpiMaxCpus = 255;  // xAPIC IDs 0..254 (the I/O APIC takes one more)

// The tables, to be written at `base` (64-byte aligned), for `cpus` vCPUs;
// the PCI root bridge's memory window runs from `pci_hole_base` (the end of
// RAM below 4 GiB) to the I/O APIC.
std::vector<uint8_t> build_acpi_tables(uint64_t base, unsigned cpus, uint64_t pci_hole_base);

// The same tables for firmware that places them itself (SeaBIOS on QEMU):
// fw_cfg files "etc/acpi/tables" (everything but the RSDP, built for address
// 0, so every pointer holds an offset) and "etc/acpi/rsdp", and the
// "etc/table-loader" script (QEMU's BIOSLinkerLoader commands, 128 bytes
// each): allocate the RSDP in the F segment and the tables in high memory,
// add each file's address to the pointers that lead into it, then fix the
// checksums of the tables that hold pointers.
struct AcpiLoaderFiles {
  std::vector<uint8_t> tables;
  std::vector<uint8_t> rsdp;
  std::vector<uint8_t> loader;
};
inline constexpr const char* kAcpiTablesFile = "etc/acpi/tables";
inline constexpr const char* kAcpiRsdpFile = "etc/acpi/rsdp";
inline constexpr const char* kTableLoaderFile = "etc/table-loader";
AcpiLoaderFiles build_acpi_loader_files(unsigned cpus, uint64_t pci_hole_base);

// Where a board with this layout has its RSDP (0 without a firmware area).
inline uint64_t acpi_rsdp_address(const PcMemoryLayout& layout) {
  return layout.has_firmware_area() ? layout.firmware_area_base() + kAcpiRsdpOffset : 0;
}

}  // namespace rwd::hw
