// The PC board: RAM layout, device wiring, and the -device list.
#define BOOST_TEST_MODULE hw_pc_board
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "core/machine.h"
#include "hw/acpi_tables.h"
#include "hw/pc_board.h"
#include "tests/unit/test_hw_fakes.h"

using namespace rwd;
using hw::PcBoard;
using hw::PcMemoryLayout;

namespace {

struct Board {
  explicit Board(core::MachineConfig c = {}) : config(std::move(c)), machine(config.ram_size), board(machine, config, inputs) {}
  uint8_t in(uint16_t port) { return static_cast<uint8_t>(machine.io().read(port, 1)); }
  void out(uint16_t port, uint8_t value) { machine.io().write(port, value, 1); }

  core::MachineConfig config;
  hw::test::FakeInputs inputs{1'700'000'000ll * 1'000'000'000};
  core::Machine machine;
  PcBoard board;
};

core::MachineConfig with_devices(std::vector<core::DeviceConfig> devices) {
  core::MachineConfig config;
  config.ram_size = 16ull << 20;
  config.devices = std::move(devices);
  return config;
}

std::string board_error(std::vector<core::DeviceConfig> devices) {
  core::MachineConfig config = with_devices(std::move(devices));
  hw::test::FakeInputs inputs;
  core::Machine machine(config.ram_size);
  try {
    PcBoard board(machine, config, inputs);
  } catch (const hw::ConfigError& e) {
    BOOST_TEST(machine.io().flat_view().empty());  // nothing was mapped
    return e.what();
  }
  return "(no error)";
}

}  // namespace

BOOST_AUTO_TEST_CASE(ram_layout) {
  Board b;
  core::AddressSpace& mem = b.machine.memory();
  BOOST_TEST(mem.ram_pointer(0, 0xa0000) == b.machine.ram());
  BOOST_TEST(mem.ram_pointer(0x9ffff, 2) == nullptr);
  BOOST_TEST(mem.lookup(0xa0000) == nullptr);  // VGA / ROM hole left free
  BOOST_TEST(mem.lookup(0xfffff) == nullptr);
  BOOST_TEST(mem.ram_pointer(0x100000, 0x7f00000) == b.machine.ram() + 0x100000);
  BOOST_TEST(mem.lookup(0x8000000) == nullptr);
  mem.write(0x123456, 0xabcd, 2);
  BOOST_TEST(b.machine.ram()[0x123456] == 0xcd);
}

BOOST_AUTO_TEST_CASE(layout_with_ram_above_4g) {
  PcMemoryLayout l = PcMemoryLayout::for_ram(5ull << 30);
  auto ranges = l.ram_ranges();
  BOOST_TEST(ranges.size() == 3u);
  BOOST_TEST(ranges[1].guest_base == 0x100000u);
  BOOST_TEST(ranges[1].size == 0xe0000000u - 0x100000u);
  BOOST_TEST(ranges[2].guest_base == 1ull << 32);
  BOOST_TEST(ranges[2].ram_offset == 0xe0000000u);
  BOOST_TEST(ranges[2].size == (5ull << 30) - 0xe0000000u);
  BOOST_TEST(l.upper_memory_kib() == (0xe0000000u - 0x100000u) / 1024);
  auto map = l.memory_map();
  BOOST_TEST(map.size() == 6u);
  // The firmware area (ACPI tables) is the top 128 KiB below the PCI hole, reserved.
  BOOST_TEST(map[3].base == 0x100000u);
  BOOST_TEST(map[3].length == 0xe0000000u - 0x20000u - 0x100000u);
  BOOST_TEST(map[4].base == 0xe0000000u - 0x20000u);
  BOOST_TEST(map[4].length == 0x20000u);
  BOOST_TEST(map[4].type == PcMemoryLayout::kReserved);
  BOOST_TEST(map.back().base == 1ull << 32);
  BOOST_TEST(map.back().type == PcMemoryLayout::kUsable);
}

// The board's ACPI tables, walked the way an OS walks them: RSDP (both
// checksums) -> XSDT and RSDT -> FADT -> DSDT with \_S5 and FACS, every
// table's checksum, and the FADT's blocks where the devices are.
BOOST_AUTO_TEST_CASE(acpi_tables_in_the_firmware_area) {
  Board b;
  core::AddressSpace& mem = b.machine.memory();
  const PcMemoryLayout& l = b.board.layout();
  auto rd = [&](uint64_t a, unsigned n) { return mem.read(a, n); };
  auto sum = [&](uint64_t a, uint64_t n) {
    uint8_t s = 0;
    for (uint64_t i = 0; i < n; ++i) s = static_cast<uint8_t>(s + rd(a + i, 1));
    return s;
  };
  auto sig = [&](uint64_t a) {
    std::string s;
    for (int i = 0; i < 4; ++i) s += static_cast<char>(rd(a + i, 1));
    return s;
  };
  uint64_t rsdp = hw::acpi_rsdp_address(l);
  BOOST_TEST(rsdp == l.firmware_area_base() + 0x200);
  BOOST_TEST(rsdp % 16 == 0u);
  BOOST_TEST((sig(rsdp) + sig(rsdp + 4)) == "RSD PTR ");
  BOOST_TEST(sum(rsdp, 20) == 0);
  BOOST_TEST(sum(rsdp, 36) == 0);
  BOOST_TEST(rd(rsdp + 15, 1) == 2u);
  uint64_t xsdt = rd(rsdp + 24, 8), rsdt = rd(rsdp + 16, 4);
  BOOST_TEST(sig(xsdt) == "XSDT");
  BOOST_TEST(sig(rsdt) == "RSDT");
  BOOST_TEST(sum(xsdt, rd(xsdt + 4, 4)) == 0);
  BOOST_TEST(sum(rsdt, rd(rsdt + 4, 4)) == 0);
  uint64_t fadt = rd(xsdt + 36, 8);
  BOOST_TEST(rd(rsdt + 36, 4) == fadt);
  BOOST_TEST(sig(fadt) == "FACP");
  BOOST_TEST(rd(fadt + 4, 4) == 244u);
  BOOST_TEST(sum(fadt, 244) == 0);
  BOOST_TEST(rd(fadt + 46, 2) == 9u);        // SCI_INT
  BOOST_TEST(rd(fadt + 48, 4) == 0u);        // no SMI_CMD: always ACPI mode
  BOOST_TEST(rd(fadt + 56, 4) == 0x600u);    // PM1a_EVT_BLK
  BOOST_TEST(rd(fadt + 64, 4) == 0x604u);    // PM1a_CNT_BLK
  BOOST_TEST(rd(fadt + 76, 4) == 0x608u);    // PM_TMR_BLK
  BOOST_TEST(rd(fadt + 120, 8) == 0xcf9u);   // RESET_REG address
  BOOST_TEST(rd(fadt + 128, 1) == 0x06u);    // RESET_VALUE
  uint64_t dsdt = rd(fadt + 140, 8), facs = rd(fadt + 36, 4);
  BOOST_TEST(rd(fadt + 132, 8) == 0u);  // X_FIRMWARE_CTRL unused: FIRMWARE_CTRL says it
  BOOST_TEST(rd(fadt + 40, 4) == dsdt);
  BOOST_TEST(sig(dsdt) == "DSDT");
  BOOST_TEST(sum(dsdt, rd(dsdt + 4, 4)) == 0);
  BOOST_TEST(sig(dsdt + 37) == "_S5_");      // NameOp, then the name
  BOOST_TEST(sig(facs) == "FACS");
  BOOST_TEST(facs % 64 == 0u);

  // The MADT, second in both RSDT and XSDT: one enabled CPU (APIC ID 0), the
  // I/O APIC at 0xfec00000 with GSI base 0, IRQ 0 -> GSI 2, the SCI level
  // and active high, LINT1 as NMI, and the entries exactly fill the table.
  BOOST_TEST(rd(xsdt + 4, 4) == 36u + 24u);
  BOOST_TEST(rd(rsdt + 4, 4) == 36u + 12u);
  uint64_t madt = rd(xsdt + 44, 8);
  BOOST_TEST(rd(rsdt + 40, 4) == madt);
  BOOST_TEST(sig(madt) == "APIC");
  uint64_t madt_len = rd(madt + 4, 4);
  BOOST_TEST(sum(madt, madt_len) == 0);
  BOOST_TEST(rd(madt + 36, 4) == 0xfee00000u);
  BOOST_TEST(rd(madt + 40, 4) == 1u);  // PCAT_COMPAT
  std::vector<std::string> entries;
  for (uint64_t e = madt + 44; e < madt + madt_len; e += rd(e + 1, 1)) {
    BOOST_REQUIRE(rd(e + 1, 1) >= 2u);
    char text[64];
    switch (rd(e, 1)) {
      case 0: std::snprintf(text, sizeof text, "lapic uid=%u id=%u flags=%u", unsigned(rd(e + 2, 1)),
                            unsigned(rd(e + 3, 1)), unsigned(rd(e + 4, 4))); break;
      case 1: std::snprintf(text, sizeof text, "ioapic id=%u at=%#x gsi=%u", unsigned(rd(e + 2, 1)),
                            unsigned(rd(e + 4, 4)), unsigned(rd(e + 8, 4))); break;
      case 2: std::snprintf(text, sizeof text, "override irq=%u gsi=%u flags=%#x", unsigned(rd(e + 3, 1)),
                            unsigned(rd(e + 4, 4)), unsigned(rd(e + 8, 2))); break;
      case 4: std::snprintf(text, sizeof text, "nmi uid=%#x flags=%u lint=%u", unsigned(rd(e + 2, 1)),
                            unsigned(rd(e + 3, 2)), unsigned(rd(e + 5, 1))); break;
      default: std::snprintf(text, sizeof text, "type %u", unsigned(rd(e, 1)));
    }
    entries.push_back(text);
  }
  std::vector<std::string> expected{"lapic uid=0 id=0 flags=1", "ioapic id=0 at=0xfec00000 gsi=0",
                                    "override irq=0 gsi=2 flags=0", "override irq=9 gsi=9 flags=0xd",
                                    "nmi uid=0xff flags=0 lint=1"};
  BOOST_TEST(entries == expected, boost::test_tools::per_element());

  // The HPET table, third: the block ID and address of the board's HPET.
  uint64_t hpet = rd(xsdt + 52, 8);
  BOOST_TEST(rd(rsdt + 44, 4) == hpet);
  BOOST_TEST(sig(hpet) == "HPET");
  BOOST_TEST(rd(hpet + 4, 4) == 56u);
  BOOST_TEST(sum(hpet, 56) == 0);
  BOOST_TEST(rd(hpet + 36, 4) == rd(0xfed00000, 4));  // = the HPET's GCAP_ID low half
  BOOST_TEST(rd(hpet + 44, 8) == 0xfed00000u);
  // All inside the reserved area.
  for (uint64_t t : {rsdp, xsdt, rsdt, fadt, dsdt, facs, madt, hpet}) BOOST_TEST(l.overlaps_firmware_area(t, 1));
  BOOST_TEST(l.overlaps_firmware_area(madt + madt_len - 1, 1));
}

// Writing SLP_TYP 5 (the DSDT's \_S5) with SLP_EN powers off: the run ends
// with status 0; another sleep type does nothing. 0xCF9 with RST_CPU resets.
BOOST_AUTO_TEST_CASE(acpi_power_off_and_the_reset_register) {
  Board b;
  b.machine.io().write(0x604, (3u << 10) | (1u << 13), 2);
  BOOST_TEST(!b.machine.run_control().stop_requested());
  BOOST_TEST(b.machine.io().read(0x604, 2) == ((3u << 10) | 1u));  // SLP_TYP kept, SLP_EN reads 0, SCI_EN 1
  b.machine.io().write(0x604, (5u << 10) | (1u << 13), 2);
  BOOST_TEST(b.machine.run_control().reason() == core::StopReason::kGuestExit);
  BOOST_TEST(b.machine.run_control().exit_status() == 0);
  Board c;
  c.out(0xcf9, 0x02);
  BOOST_TEST(!c.machine.run_control().stop_requested());
  c.out(0xcf9, 0x06);
  BOOST_TEST(c.machine.run_control().reason() == core::StopReason::kReset);
}

BOOST_AUTO_TEST_CASE(default_debug_exit_at_0xf4) {
  Board b;
  b.machine.io().write(0xf4, 3, 4);
  BOOST_TEST(b.machine.run_control().reason() == core::StopReason::kGuestExit);
  BOOST_TEST(b.machine.run_control().exit_status() == 7);
}

BOOST_AUTO_TEST_CASE(debug_exit_moved_by_device_option) {
  Board b(with_devices({{"isa-debug-exit", {{"iobase", "0x501"}, {"iosize", "0x02"}}}}));
  b.out(0xf4, 3);
  BOOST_TEST(!b.machine.run_control().stop_requested());
  b.machine.io().write(0x501, 2, 2);
  BOOST_TEST(b.machine.run_control().exit_status() == 5);
}

BOOST_AUTO_TEST_CASE(device_errors) {
  BOOST_TEST(board_error({{"e1000", {}}}) ==
             "-device e1000: unknown device driver (this PC board knows: isa-debug-exit)");
  BOOST_TEST(board_error({{"isa-debug-exit", {{"iobase", "nope"}}}}) ==
             "isa-debug-exit: iobase='nope' is not a number (expected e.g. 0x501 or 1281)");
  BOOST_TEST(board_error({{"isa-debug-exit", {{"iobase", "0x3f8"}}}}) ==
             "isa-debug-exit: ports 0x3f8-0x3f9 overlap COM1 (0x3f8-0x3ff)");
  BOOST_TEST(board_error({{"isa-debug-exit", {}}, {"isa-debug-exit", {{"iobase", "0x502"}}}}) ==
             "isa-debug-exit: ports 0x502-0x503 overlap another isa-debug-exit at 0x501");
}

BOOST_AUTO_TEST_CASE(com1_is_console_0) {
  Board b;
  BOOST_TEST(b.inputs.receivers[0] == &b.board.com1());
  for (char c : std::string("ok\n")) b.out(0x3f8, static_cast<uint8_t>(c));
  BOOST_TEST(b.inputs.output == "ok\n");
  b.inputs.type("k");
  BOOST_TEST(b.in(0x3fd) & 0x01);
  BOOST_TEST(b.in(0x3f8) == 'k');
}

BOOST_AUTO_TEST_CASE(interrupt_path_to_the_cpu) {
  Board b;
  // The vCPU's INTA goes to its local APIC, which hands the 8259's vector on
  // (LINT0 in ExtINT mode, as the bootstrap processor comes out of reset).
  core::InterruptController* inta = b.machine.cpu_environment().interrupt_controller;
  BOOST_TEST(inta == &b.board.local_apic(0));
  // PIC at 0x20/0x28, then the UART raises IRQ4.
  for (auto [port, value] : {std::pair{0x20, 0x11}, {0x21, 0x20}, {0x21, 0x04}, {0x21, 0x01}, {0xa0, 0x11},
                             {0xa1, 0x28}, {0xa1, 0x02}, {0xa1, 0x01}}) {
    b.out(static_cast<uint16_t>(port), static_cast<uint8_t>(value));
  }
  BOOST_TEST(!b.board.pic().output());
  b.out(0x3fc, 0x08);  // OUT2
  b.out(0x3f9, 0x02);  // THRE interrupt
  BOOST_TEST(b.board.pic().output());
  BOOST_TEST(inta->acknowledge() == 0x24);
}

// FERR# (the CPU's x87 error output with CR0.NE clear) reaches the PIC as
// IRQ 13 and stays there until port 0xF0 is written, as on QEMU's pc.
BOOST_AUTO_TEST_CASE(fpu_error_latches_irq13_until_port_f0) {
  Board b;
  for (auto [port, value] : {std::pair{0x20, 0x11}, {0x21, 0x20}, {0x21, 0x04}, {0x21, 0x01}, {0xa0, 0x11},
                             {0xa1, 0x28}, {0xa1, 0x02}, {0xa1, 0x01}, {0x21, 0xfb}, {0xa1, 0xdf}}) {
    b.out(static_cast<uint16_t>(port), static_cast<uint8_t>(value));
  }
  core::IrqLine ferr = b.machine.cpu_environment().fpu_error;
  BOOST_REQUIRE(ferr.connected());
  BOOST_TEST(!b.board.pic().output());
  ferr.raise();
  BOOST_TEST(b.board.fpu_error().latched());
  BOOST_TEST(b.board.pic().output());
  BOOST_TEST(b.board.pic().acknowledge() == 0x2d);  // slave input 5
  b.out(0xa0, 0x20);
  b.out(0x20, 0x20);
  b.out(0xf0, 0);
  BOOST_TEST(!b.board.fpu_error().latched());
  BOOST_TEST(!b.board.pic().output());
}

BOOST_AUTO_TEST_CASE(pit_drives_irq0) {
  Board b;
  b.out(0x20, 0x11);
  b.out(0x21, 0x08);
  b.out(0x21, 0x04);
  b.out(0x21, 0x01);
  b.out(0x43, 0x34);
  b.out(0x40, 0x00);
  b.out(0x40, 0x10);  // 4096 ticks
  BOOST_TEST(b.board.pic().acknowledge() == 0x08);  // the edge of OUT going high at programming
  b.out(0x20, 0x20);
  BOOST_TEST(!b.board.pic().output());
  uint64_t deadline = b.machine.timers().next_deadline_ns();
  BOOST_TEST(deadline == hw::I8254Pit::ticks_to_ns(4097));
  b.machine.timers().run_expired(deadline);
  BOOST_TEST(b.board.pic().output());
}

BOOST_AUTO_TEST_CASE(rtc_and_cmos) {
  Board b;
  b.out(0x70, 0x0b);
  b.out(0x71, 0x06);  // binary
  b.out(0x70, 0x09);
  BOOST_TEST(b.in(0x71) == 23);  // 2023-11-14 22:13:20 UTC
  b.out(0x70, 0x34);
  BOOST_TEST(b.in(0x71) == 0x00);
  b.out(0x70, 0x35);
  BOOST_TEST(b.in(0x71) == 0x07);  // (128 - 16) MiB / 64 KiB
}

BOOST_AUTO_TEST_CASE(i8042_reset_and_port_b) {
  Board b;
  BOOST_TEST((b.in(0x61) & 0x01) == 0);
  b.out(0x61, 0x01);
  BOOST_TEST((b.in(0x61) & 0x01) == 1);
  b.out(0x64, 0xfe);
  BOOST_TEST(b.machine.run_control().reason() == core::StopReason::kReset);
}

BOOST_AUTO_TEST_CASE(board_unmaps_itself) {
  core::MachineConfig config;
  hw::test::FakeInputs inputs;
  core::Machine machine(config.ram_size);
  {
    PcBoard board(machine, config, inputs);
    BOOST_TEST(!machine.io().flat_view().empty());
  }
  BOOST_TEST(machine.io().flat_view().empty());
  BOOST_TEST(machine.memory().flat_view().empty());
  BOOST_TEST(machine.cpu_environment().interrupt_controller == nullptr);
}

// QEMU's fw_cfg as SeaBIOS reads it: the signature and ID through the
// selector and data ports, the file directory, etc/e820 and etc/sercon-port
// through DMA into guest RAM (big-endian descriptor, control word cleared
// when done), the DMA signature, and a DMA write refused with the error bit.
BOOST_AUTO_TEST_CASE(fw_cfg_as_firmware_reads_it) {
  core::MachineConfig config;
  config.ram_size = 64ull << 20;
  Board b(config);
  core::AddressSpace& io = b.machine.io();
  core::AddressSpace& mem = b.machine.memory();
  auto read_item = [&](uint16_t key, size_t n) {
    io.write(0x510, key, 2);
    std::string s;
    for (size_t i = 0; i < n; ++i) s += char(io.read(0x511, 1));
    return s;
  };
  BOOST_TEST(read_item(0x0000, 4) == "QEMU");
  BOOST_TEST(read_item(0x0001, 4) == std::string("\x03\0\0\0", 4));  // traditional + DMA
  BOOST_TEST(read_item(0x0005, 2) == std::string("\x01\0", 2));      // one vCPU
  std::string ram = read_item(0x0003, 8);
  uint64_t ram_size = 0;
  for (int i = 7; i >= 0; --i) ram_size = ram_size << 8 | uint8_t(ram[i]);
  BOOST_TEST(ram_size == 64ull << 20);

  // The directory: be32 count, then be32 size, be16 key, u16, name[56].
  std::string dir = read_item(0x0019, 4 + 2 * 64);
  auto be = [&](size_t at, int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) v = v << 8 | uint8_t(dir[at + i]);
    return v;
  };
  BOOST_TEST(be(0, 4) == 6u);  // e820, sercon-port, boot-fail-wait, the ACPI tables, RSDP and loader
  BOOST_TEST(std::string(dir.c_str() + 4 + 8) == "etc/e820");
  BOOST_TEST(be(4, 4) == 20u);  // one RAM entry: 64 MiB lies below the hole
  BOOST_TEST(std::string(dir.c_str() + 4 + 64 + 8) == "etc/sercon-port");
  const uint16_t e820_key = uint16_t(be(4 + 4, 2));

  // DMA: select etc/e820 and read it to 0x3000; the descriptor at 0x2000.
  auto put_be = [&](uint64_t at, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) mem.write(at + i, (v >> (8 * (n - 1 - i))) & 0xff, 1);
  };
  put_be(0x2000, (uint32_t(e820_key) << 16) | 0x08 | 0x02, 4);
  put_be(0x2004, 20, 4);
  put_be(0x2008, 0x3000, 8);
  BOOST_TEST(io.read(0x514, 4) == 0x554d4551u);  // "QEMU": the DMA signature's first half
  io.write(0x514, 0, 4);                        // high half of the descriptor address
  io.write(0x518, __builtin_bswap32(0x2000), 4);  // low half, big-endian: starts the transfer
  BOOST_TEST(mem.read(0x2000, 4) == 0u);          // done, no error
  BOOST_TEST(mem.read(0x3000, 8) == 0u);          // base
  BOOST_TEST(mem.read(0x3008, 8) == 64ull << 20); // length
  BOOST_TEST(mem.read(0x3010, 4) == 1u);          // usable

  put_be(0x2000, 0x10, 4);  // a write: items are read-only
  io.write(0x518, __builtin_bswap32(0x2000), 4);
  BOOST_TEST(mem.read(0x2000, 4) == 0x01000000u);  // the error bit, big-endian
}
