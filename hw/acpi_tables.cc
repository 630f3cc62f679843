#include "hw/acpi_tables.h"

#include <algorithm>
#include <cstring>
#include <initializer_list>

#include "hw/acpi_pm.h"
#include "hw/hpet.h"
#include "hw/ioapic.h"
#include "hw/local_apic.h"
#include "hw/reset_control.h"

namespace rwd::hw {

namespace {

using Bytes = std::vector<uint8_t>;

void put(Bytes& b, uint64_t off, uint64_t v, unsigned n) {
  for (unsigned i = 0; i < n; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}
void put_text(Bytes& b, uint64_t off, const char* text) { std::memcpy(&b[off], text, std::strlen(text)); }

uint8_t checksum_of(const Bytes& b, uint64_t off, uint64_t len) {
  uint8_t sum = 0;
  for (uint64_t i = 0; i < len; ++i) sum = static_cast<uint8_t>(sum + b[off + i]);
  return static_cast<uint8_t>(-sum);
}

constexpr uint64_t kHeaderSize = 36;

// The common header (ACPI 6.5, 5.2.6); the checksum is filled in last.
void put_header(Bytes& b, uint64_t off, const char* signature, uint32_t length, uint8_t revision) {
  put_text(b, off, signature);
  put(b, off + 4, length, 4);
  b[off + 8] = revision;
  put_text(b, off + 10, "REWIND");    // OEM ID (6)
  put_text(b, off + 16, "RWDPC   ");  // OEM table ID (8)
  put(b, off + 24, 1, 4);             // OEM revision
  put_text(b, off + 28, "RWND");      // creator ID
  put(b, off + 32, 1, 4);             // creator revision
}
void seal(Bytes& b, uint64_t off) {
  uint32_t length = static_cast<uint32_t>(b[off + 4] | b[off + 5] << 8 | b[off + 6] << 16 | b[off + 7] << 24);
  b[off + 9] = 0;
  b[off + 9] = checksum_of(b, off, length);
}

// A Generic Address Structure for an I/O port block.
void put_io_gas(Bytes& b, uint64_t off, uint64_t port, unsigned bits, unsigned access_size) {
  b[off] = 1;  // system I/O space
  b[off + 1] = static_cast<uint8_t>(bits);
  b[off + 2] = 0;
  b[off + 3] = static_cast<uint8_t>(access_size);
  put(b, off + 4, port, 8);
}

// ---- AML (ACPI 6.5, chapter 20), just what the DSDT needs ----

void append(Bytes& b, std::initializer_list<uint8_t> bytes) { b.insert(b.end(), bytes); }
void append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }
void append_le(Bytes& b, uint64_t v, unsigned n) {
  for (unsigned i = 0; i < n; ++i) b.push_back(uint8_t(v >> (8 * i)));
}

// PkgLength followed by `body`: the length counts its own bytes too.
Bytes package(uint8_t op, const Bytes& body) {
  Bytes out{op};
  size_t total = body.size() + 1;
  if (total < 0x40) {
    out.push_back(uint8_t(total));
  } else {
    unsigned extra = total + 1 < 0x1000 ? 1 : total + 2 < 0x100000 ? 2 : 3;
    total = body.size() + 1 + extra;
    out.push_back(uint8_t(extra << 6 | (total & 0xf)));
    for (unsigned i = 0; i < extra; ++i) out.push_back(uint8_t(total >> (4 + 8 * i)));
  }
  append(out, body);
  return out;
}

Bytes name_seg(const char (&seg)[5]) { return Bytes(seg, seg + 4); }

// Word Address Space descriptor (6.4.3.5.3): a producer with fixed bounds.
void word_space(Bytes& b, uint8_t type, uint8_t type_flags, uint16_t min, uint16_t max) {
  append(b, {0x88, 0x0d, 0x00, type, 0x0c, type_flags});
  append_le(b, 0, 2);  // granularity
  append_le(b, min, 2);
  append_le(b, max, 2);
  append_le(b, 0, 2);  // translation
  append_le(b, uint32_t(max) - min + 1, 2);
}

// DWord Memory descriptor (6.4.3.5.2): cacheable, read-write, fixed bounds.
void dword_memory(Bytes& b, uint32_t min, uint32_t max) {
  append(b, {0x87, 0x17, 0x00, 0x00, 0x0c, 0x03});
  append_le(b, 0, 4);
  append_le(b, min, 4);
  append_le(b, max, 4);
  append_le(b, 0, 4);
  append_le(b, uint64_t(max) - min + 1, 4);
}

// The DSDT's body:
//   Name (_S5, Package (4) { 5, 5, 0, 0 })      SLP_TYPa, SLP_TYPb for power-off
//   Scope (\_SB) { Device (PCI0) {               the i440FX root bridge, so an
//     Name (_HID, EisaId ("PNP0A03"))             OS enumerates bus 0
//     Name (_ADR, 0)  Name (_UID, 0)
//     Name (_CRS, ResourceTemplate () {           what it decodes: bus 0-255, the
//       WordBusNumber 0-0xff, IO 0xcf8/8,         config ports, I/O around them,
//       WordIO 0-0xcf7, WordIO 0xd00-0xffff,      VGA memory and the PCI hole up
//       DWordMemory 0xa0000-0xbffff,              to the I/O APIC, as QEMU's pc
//       DWordMemory hole-0xfebfffff })
//   } }
Bytes dsdt_body(uint64_t pci_hole_base) {
  constexpr uint8_t kS5 = AcpiPm::kSlpTypS5;
  Bytes b;
  append(b, {0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, kS5, 0x0a, kS5, 0x00, 0x00});

  Bytes crs;
  word_space(crs, 2, 0x00, 0x0000, 0x00ff);  // bus numbers
  append(crs, {0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08});  // IO (Decode16, 0xcf8, 0xcf8, 1, 8)
  word_space(crs, 1, 0x03, 0x0000, 0x0cf7);  // I/O, ISA and non-ISA ranges
  word_space(crs, 1, 0x03, 0x0d00, 0xffff);
  dword_memory(crs, 0x000a0000, 0x000bffff);
  dword_memory(crs, uint32_t(pci_hole_base), 0xfebfffff);
  append(crs, {0x79, 0x00});  // end tag
  Bytes buffer_body{0x0b};    // BufferSize as a WordConst
  append_le(buffer_body, crs.size(), 2);
  append(buffer_body, crs);

  Bytes device = name_seg("PCI0");
  append(device, {0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03});  // EisaId ("PNP0A03")
  append(device, {0x08, '_', 'A', 'D', 'R', 0x00});
  append(device, {0x08, '_', 'U', 'I', 'D', 0x00});
  append(device, {0x08, '_', 'C', 'R', 'S'});
  append(device, package(0x11, buffer_body));  // BufferOp

  Bytes scope{'\\', '_', 'S', 'B', '_'};
  Bytes device_op{0x5b};
  append(device_op, package(0x82, device));  // DeviceOp
  append(scope, device_op);
  append(b, package(0x10, scope));  // ScopeOp
  return b;
}

}  // namespace

std::vector<uint8_t> build_acpi_tables(uint64_t base, unsigned cpus, uint64_t pci_hole_base) {
  constexpr uint32_t kFadtSize = 244, kFacsSize = 64, kRsdpSize = 36;
  constexpr uint32_t kLapicEntry = 8, kIoapicEntry = 12, kOverrideEntry = 10, kNmiEntry = 6;
  cpus = std::clamp(cpus, 1u, kAcpiMaxCpus);
  const uint32_t madt_size = kHeaderSize + 8 + cpus * kLapicEntry + kIoapicEntry + 2 * kOverrideEntry + kNmiEntry;
  const Bytes dsdt_aml = dsdt_body(pci_hole_base);
  const uint32_t dsdt_size = uint32_t(kHeaderSize + dsdt_aml.size());
  const uint64_t dsdt_offset = (kAcpiMadtOffset + madt_size + 15) & ~uint64_t(15);
  Bytes b(dsdt_offset + dsdt_size, 0);

  // FACS: no waking vector, no global lock use.
  put_text(b, kAcpiFacsOffset, "FACS");
  put(b, kAcpiFacsOffset + 4, kFacsSize, 4);
  b[kAcpiFacsOffset + 32] = 1;  // version

  put_header(b, dsdt_offset, "DSDT", dsdt_size, 2);
  std::memcpy(&b[dsdt_offset + kHeaderSize], dsdt_aml.data(), dsdt_aml.size());
  seal(b, dsdt_offset);

  const uint64_t f = kAcpiFadtOffset;
  put_header(b, f, "FACP", kFadtSize, 3);
  put(b, f + 36, base + kAcpiFacsOffset, 4);  // FIRMWARE_CTRL
  put(b, f + 40, base + dsdt_offset, 4);      // DSDT
  put(b, f + 46, AcpiPm::kSciIrq, 2);         // SCI_INT; SMI_CMD (48) stays 0
  put(b, f + 56, AcpiPm::kPm1EvtBlk, 4);
  put(b, f + 64, AcpiPm::kPm1CntBlk, 4);
  put(b, f + 76, AcpiPm::kPmTmrBlk, 4);
  b[f + 88] = 4;                              // PM1_EVT_LEN
  b[f + 89] = 2;                              // PM1_CNT_LEN
  b[f + 91] = 4;                              // PM_TMR_LEN
  put(b, f + 96, 101, 2);                     // P_LVL2_LAT > 100: no C2
  put(b, f + 98, 1001, 2);                    // P_LVL3_LAT > 1000: no C3
  put(b, f + 109, 0x3, 2);                    // IAPC_BOOT_ARCH: legacy devices, 8042
  // Flags: WBINVD, PROC_C1, SLP_BUTTON (none), FIX_RTC, RESET_REG_SUP.
  put(b, f + 112, (1u << 0) | (1u << 2) | (1u << 5) | (1u << 6) | (1u << 10), 4);
  put_io_gas(b, f + 116, ResetControl::kPort, 8, 1);
  b[f + 128] = ResetControl::kResetValue;
  // X_FIRMWARE_CTRL (132) stays 0: with both set, Linux installs the FACS twice.
  put(b, f + 140, base + dsdt_offset, 8);      // X_DSDT
  put_io_gas(b, f + 148, AcpiPm::kPm1EvtBlk, 32, 2);
  put_io_gas(b, f + 172, AcpiPm::kPm1CntBlk, 16, 2);
  put_io_gas(b, f + 208, AcpiPm::kPmTmrBlk, 32, 3);
  seal(b, f);

  // HPET table (IA-PC HPET spec 1.0a, 3.2.4).
  constexpr uint32_t kHpetSize = kHeaderSize + 20;
  const uint64_t h = kAcpiHpetOffset;
  put_header(b, h, "HPET", kHpetSize, 1);
  put(b, h + 36, Hpet::kCapabilities, 4);  // event timer block ID
  b[h + 40] = 0;                           // base address: system memory,
  b[h + 41] = 64;                          // 64 bits wide
  put(b, h + 44, Hpet::kBase, 8);
  b[h + 52] = 0;                           // HPET number
  put(b, h + 53, 128, 2);                  // minimum clock tick in periodic mode
  b[h + 55] = 0;                           // no page protection
  seal(b, h);

  // MADT (ACPI 6.5, 5.2.12), revision 3 as QEMU's.
  const uint64_t a = kAcpiMadtOffset;
  put_header(b, a, "APIC", madt_size, 3);
  put(b, a + 36, LocalApic::kDefaultBase, 4);
  put(b, a + 40, 1, 4);  // PCAT_COMPAT: the 8259 pair is present
  uint64_t e = a + 44;
  for (unsigned cpu = 0; cpu < cpus; ++cpu, e += kLapicEntry) {
    b[e] = 0;  // processor local APIC
    b[e + 1] = kLapicEntry;
    b[e + 2] = uint8_t(cpu);  // ACPI processor UID
    b[e + 3] = uint8_t(cpu);  // APIC ID
    put(b, e + 4, 1, 4);      // enabled
  }
  b[e] = 1;  // I/O APIC
  b[e + 1] = kIoapicEntry;
  b[e + 2] = IoApic::kId;
  put(b, e + 4, IoApic::kBase, 4);
  put(b, e + 8, 0, 4);  // GSI base
  e += kIoapicEntry;
  struct Override {
    uint8_t irq;
    uint32_t gsi;
    uint16_t flags;
  };
  // Flags: polarity (bits 0-1; 1 active high) and trigger mode (bits 2-3; 3 level); 0 conforms to the bus.
  for (Override o : {Override{0, 2, 0}, Override{AcpiPm::kSciIrq, AcpiPm::kSciIrq, 0xd}}) {
    b[e] = 2;  // interrupt source override
    b[e + 1] = kOverrideEntry;
    b[e + 2] = 0;  // ISA
    b[e + 3] = o.irq;
    put(b, e + 4, o.gsi, 4);
    put(b, e + 8, o.flags, 2);
    e += kOverrideEntry;
  }
  b[e] = 4;  // local APIC NMI
  b[e + 1] = kNmiEntry;
  b[e + 2] = 0xff;  // all processors
  put(b, e + 3, 0, 2);
  b[e + 5] = 1;  // LINT1
  seal(b, a);

  constexpr uint64_t kTables[] = {kAcpiFadtOffset, kAcpiMadtOffset, kAcpiHpetOffset};
  constexpr uint32_t kCount = sizeof kTables / sizeof kTables[0];
  static_assert(kAcpiRsdtOffset + kHeaderSize + 4 * kCount <= kAcpiXsdtOffset &&
                kAcpiXsdtOffset + kHeaderSize + 8 * kCount <= kAcpiRsdpOffset &&
                kAcpiRsdpOffset + kRsdpSize <= kAcpiHpetOffset && kAcpiHpetOffset + kHpetSize <= kAcpiMadtOffset,
                "the ACPI tables overlap");
  put_header(b, kAcpiRsdtOffset, "RSDT", kHeaderSize + 4 * kCount, 1);
  put_header(b, kAcpiXsdtOffset, "XSDT", kHeaderSize + 8 * kCount, 1);
  for (uint32_t i = 0; i < kCount; ++i) {
    put(b, kAcpiRsdtOffset + kHeaderSize + 4 * i, base + kTables[i], 4);
    put(b, kAcpiXsdtOffset + kHeaderSize + 8 * i, base + kTables[i], 8);
  }
  seal(b, kAcpiRsdtOffset);
  seal(b, kAcpiXsdtOffset);

  const uint64_t r = kAcpiRsdpOffset;
  put_text(b, r, "RSD PTR ");
  put_text(b, r + 9, "REWIND");
  b[r + 15] = 2;                              // revision: ACPI 2.0+, with the XSDT
  put(b, r + 16, base + kAcpiRsdtOffset, 4);
  put(b, r + 20, kRsdpSize, 4);
  put(b, r + 24, base + kAcpiXsdtOffset, 8);
  b[r + 8] = checksum_of(b, r, 20);
  b[r + 32] = checksum_of(b, r, kRsdpSize);
  return b;
}

namespace {

// BIOSLinkerLoader commands (QEMU's hw/acpi/bios-linker-loader.c documents them).
constexpr uint32_t kAllocate = 1, kAddPointer = 2, kAddChecksum = 3;
constexpr uint8_t kZoneHigh = 1, kZoneFseg = 2;
constexpr unsigned kCommandSize = 128, kFileNameSize = 56;

struct LoaderScript {
  Bytes bytes;
  uint64_t begin(uint32_t command) {
    uint64_t at = bytes.size();
    bytes.resize(at + kCommandSize, 0);
    put(bytes, at, command, 4);
    return at + 4;
  }
  void name(uint64_t at, const char* file) { put_text(bytes, at, file); }
  void allocate(const char* file, uint32_t align, uint8_t zone) {
    uint64_t p = begin(kAllocate);
    name(p, file);
    put(bytes, p + kFileNameSize, align, 4);
    bytes[p + kFileNameSize + 4] = zone;
  }
  void add_pointer(const char* dest, const char* src, uint32_t offset, uint8_t size) {
    uint64_t p = begin(kAddPointer);
    name(p, dest);
    name(p + kFileNameSize, src);
    put(bytes, p + 2 * kFileNameSize, offset, 4);
    bytes[p + 2 * kFileNameSize + 4] = size;
  }
  void add_checksum(const char* file, uint32_t offset, uint32_t start, uint32_t length) {
    uint64_t p = begin(kAddChecksum);
    name(p, file);
    put(bytes, p + kFileNameSize, offset, 4);
    put(bytes, p + kFileNameSize + 4, start, 4);
    put(bytes, p + kFileNameSize + 8, length, 4);
  }
};

uint32_t length_of(const Bytes& b, uint64_t table) {
  return uint32_t(b[table + 4] | b[table + 5] << 8 | b[table + 6] << 16 | uint32_t(b[table + 7]) << 24);
}

}  // namespace

AcpiLoaderFiles build_acpi_loader_files(unsigned cpus, uint64_t pci_hole_base) {
  AcpiLoaderFiles files;
  files.tables = build_acpi_tables(0, cpus, pci_hole_base);
  constexpr uint32_t kRsdpSize = 36;
  files.rsdp.assign(files.tables.begin() + kAcpiRsdpOffset, files.tables.begin() + kAcpiRsdpOffset + kRsdpSize);
  // Not an RSDP there any more: only the copy in the F segment is.
  std::fill_n(files.tables.begin() + kAcpiRsdpOffset, kRsdpSize, 0);

  LoaderScript script;
  script.allocate(kAcpiRsdpFile, 16, kZoneFseg);
  script.allocate(kAcpiTablesFile, 64, kZoneHigh);  // 64: the FACS's alignment
  const uint32_t f = kAcpiFadtOffset;
  script.add_pointer(kAcpiTablesFile, kAcpiTablesFile, f + 36, 4);   // FIRMWARE_CTRL
  script.add_pointer(kAcpiTablesFile, kAcpiTablesFile, f + 40, 4);   // DSDT
  script.add_pointer(kAcpiTablesFile, kAcpiTablesFile, f + 140, 8);  // X_DSDT
  script.add_checksum(kAcpiTablesFile, f + 9, f, length_of(files.tables, f));
  for (uint64_t sdt : {kAcpiRsdtOffset, kAcpiXsdtOffset}) {
    const unsigned width = sdt == kAcpiRsdtOffset ? 4 : 8;
    const uint32_t length = length_of(files.tables, sdt);
    for (uint32_t at = kHeaderSize; at < length; at += width)
      script.add_pointer(kAcpiTablesFile, kAcpiTablesFile, uint32_t(sdt + at), uint8_t(width));
    script.add_checksum(kAcpiTablesFile, uint32_t(sdt + 9), uint32_t(sdt), length);
  }
  script.add_pointer(kAcpiRsdpFile, kAcpiTablesFile, 16, 4);  // RSDT
  script.add_pointer(kAcpiRsdpFile, kAcpiTablesFile, 24, 8);  // XSDT
  script.add_checksum(kAcpiRsdpFile, 8, 0, 20);
  script.add_checksum(kAcpiRsdpFile, 32, 0, kRsdpSize);
  files.loader = std::move(script.bytes);
  return files;
}

}  // namespace rwd::hw
