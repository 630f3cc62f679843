// PCI on the PC board: bus 0 enumerated through configuration mechanism #1
// as firmware and Linux do, the i440FX's PAM and SMRAM registers deciding
// what lies between 640 KiB and 1 MiB, the firmware ROM at the top of 4 GiB,
// and the PIIX4 PM function placing the ACPI PM block. Register values are
// those of QEMU's `pc` machine (SeaBIOS identifies the board by them).
#define BOOST_TEST_MODULE hw_pci
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <vector>

#include "core/machine.h"
#include "hw/pc_board.h"
#include "tests/unit/test_hw_fakes.h"

using namespace rwd;
using hw::PcBoard;

namespace {

constexpr uint64_t kRomSize = 0x20000;

// A board with a 128 KiB firmware ROM (as with -bios), or without one.
struct Board {
  explicit Board(uint64_t rom_size = kRomSize) : machine(config.ram_size, 1, rom_size) {
    for (uint64_t i = 0; i < rom_size; ++i) machine.rom()[i] = uint8_t(i * 13 + 5);
    board = std::make_unique<PcBoard>(machine, config, inputs);
  }
  uint32_t config_read(unsigned dev, unsigned fn, unsigned reg, unsigned size = 4) {
    machine.io().write(0xcf8, 0x80000000u | dev << 11 | fn << 8 | (reg & 0xfc), 4);
    return uint32_t(machine.io().read(0xcfc + (reg & 3), size));
  }
  void config_write(unsigned dev, unsigned fn, unsigned reg, uint32_t value, unsigned size) {
    machine.io().write(0xcf8, 0x80000000u | dev << 11 | fn << 8 | (reg & 0xfc), 4);
    machine.io().write(0xcfc + (reg & 3), value, size);
  }
  uint8_t rom_byte(uint64_t offset) const { return uint8_t(offset * 13 + 5); }
  uint64_t mem(uint64_t addr, unsigned size = 1) { return machine.memory().read(addr, size); }

  core::MachineConfig config;
  hw::test::FakeInputs inputs;
  core::Machine machine;
  std::unique_ptr<PcBoard> board;
};

}  // namespace

BOOST_AUTO_TEST_CASE(bus_0_enumerates_as_on_qemus_pc) {
  Board b;
  BOOST_TEST(b.config_read(0, 0, 0x00) == 0x12378086u);  // i440FX
  BOOST_TEST(b.config_read(0, 0, 0x2c) == 0x11001af4u);  // QEMU's subsystem: "running on QEMU"
  BOOST_TEST(b.config_read(0, 0, 0x08) >> 8 == 0x060000u);  // host bridge
  BOOST_TEST(b.config_read(1, 0, 0x00) == 0x70008086u);  // PIIX3 ISA
  BOOST_TEST(b.config_read(1, 0, 0x0e, 1) == 0x80u);     // multi-function: look at 01.1-01.7
  BOOST_TEST(b.config_read(1, 0, 0x0a, 2) == 0x0601u);   // ISA bridge
  BOOST_TEST(b.config_read(1, 3, 0x00) == 0x71138086u);  // PIIX4 PM
  BOOST_TEST(b.config_read(1, 3, 0x3d, 1) == 1u);        // INTA#
  BOOST_TEST(b.config_read(1, 3, 0x5b, 1) == 0x02u);     // APMC_EN: no SMM to set up
  BOOST_TEST(b.config_read(1, 1, 0x00) == 0xffffffffu);  // no IDE function
  BOOST_TEST(b.config_read(2, 0, 0x00) == 0xffffffffu);
  // Bus 1 and a disabled CONFIG_ADDRESS reach nothing.
  b.machine.io().write(0xcf8, 0x80010000u, 4);
  BOOST_TEST(b.machine.io().read(0xcfc, 4) == 0xffffffffu);
  b.machine.io().write(0xcf8, 0x00000000u, 4);
  BOOST_TEST(b.machine.io().read(0xcfc, 4) == 0xffffffffu);
  // CONFIG_ADDRESS reads back (reserved bits 0); a byte write to 0xcf8 does not reach it.
  b.machine.io().write(0xcf8, 0x8000ff07u, 4);
  BOOST_TEST(b.machine.io().read(0xcf8, 4) == 0x8000ff04u);
  b.machine.io().write(0xcf8, 0x12, 1);
  BOOST_TEST(b.machine.io().read(0xcf8, 4) == 0x8000ff04u);
}

BOOST_AUTO_TEST_CASE(read_only_registers_keep_their_values) {
  Board b;
  b.config_write(0, 0, 0x00, 0xdeadbeef, 4);
  BOOST_TEST(b.config_read(0, 0, 0x00) == 0x12378086u);
  b.config_write(1, 3, 0x3c, 9, 1);  // interrupt line: writable
  BOOST_TEST(b.config_read(1, 3, 0x3c, 1) == 9u);
  b.config_write(1, 0, 0x60, 0xff, 1);  // PIRQA route: bits 4-6 reserved
  BOOST_TEST(b.config_read(1, 0, 0x60, 1) == 0x8fu);
}

// The reset vector and the top of the image are the ROM's last bytes, below
// 4 GiB and below 1 MiB; writes never change it.
BOOST_AUTO_TEST_CASE(firmware_rom_below_4g_and_1m) {
  Board b;
  BOOST_TEST(b.mem(0xfffffff0) == b.rom_byte(kRomSize - 16));
  BOOST_TEST(b.mem(0xfffe0000) == b.rom_byte(0));
  BOOST_TEST(b.mem(0xffff0) == b.rom_byte(kRomSize - 16));
  BOOST_TEST(b.mem(0xe0000) == b.rom_byte(0));
  b.machine.memory().write(0xffff0, 0x00, 1);
  b.machine.memory().write(0xfffffff0, 0x00, 1);
  BOOST_TEST(b.mem(0xffff0) == b.rom_byte(kRomSize - 16));
  BOOST_TEST(b.mem(0xfffffff0) == b.rom_byte(kRomSize - 16));
  BOOST_TEST(b.mem(0xc0000) == 0xffu);  // no option ROM there
  BOOST_TEST(b.mem(0xa0000) == 0xffu);  // SMRAM closed, no VGA
}

// PAM0 bits 5:4 for 0xf0000-0xfffff: 3 RAM, 1 RAM read-only, 0 back to ROM,
// with the RAM under the window (the RAM block's same bytes) kept throughout.
BOOST_AUTO_TEST_CASE(pam_shadows_the_bios_segment) {
  Board b;
  b.config_write(0, 0, 0x59, 0x30, 1);
  b.machine.memory().write(0xf0000, 0x5a, 1);
  BOOST_TEST(b.mem(0xf0000) == 0x5au);
  BOOST_TEST(b.machine.ram()[0xf0000] == 0x5a);
  BOOST_TEST(b.mem(0xeffff) == b.rom_byte(0xffff));  // PAM6 still ROM for 0xec000-0xeffff
  b.config_write(0, 0, 0x59, 0x10, 1);  // read RAM, writes to PCI (dropped)
  b.machine.memory().write(0xf0000, 0x77, 1);
  BOOST_TEST(b.mem(0xf0000) == 0x5au);
  b.config_write(0, 0, 0x59, 0x00, 1);
  BOOST_TEST(b.mem(0xf0000) == b.rom_byte(0x10000));
  b.config_write(0, 0, 0x59, 0x30, 1);
  BOOST_TEST(b.mem(0xf0000) == 0x5au);
  // PAM1 high nibble: 0xc4000-0xc7fff; RAM there, nothing before.
  b.config_write(0, 0, 0x5a, 0x30, 1);
  b.machine.memory().write(0xc4000, 0x99, 1);
  BOOST_TEST(b.mem(0xc4000) == 0x99u);
  BOOST_TEST(b.mem(0xc3fff) == 0xffu);
}

BOOST_AUTO_TEST_CASE(smram_d_open_shows_the_ram_under_vga) {
  Board b;
  BOOST_TEST(b.config_read(0, 0, 0x72, 1) == 0x02u);
  b.config_write(0, 0, 0x72, 0x4a, 1);
  b.machine.memory().write(0xa0000, 0x42, 1);
  BOOST_TEST(b.mem(0xa0000) == 0x42u);
  b.config_write(0, 0, 0x72, 0x0a, 1);
  BOOST_TEST(b.mem(0xa0000) == 0xffu);
  BOOST_TEST(b.machine.ram()[0xa0000] == 0x42);
}

// With firmware, the PM block appears where PMBA says once PMREGMISC enables
// it; without, the board has placed it at 0x600 as SeaBIOS would.
BOOST_AUTO_TEST_CASE(piix4_pm_places_the_acpi_pm_block) {
  Board b;
  BOOST_TEST(b.machine.io().read(0x608, 4) == 0xffffffffu);
  b.config_write(1, 3, 0x40, 0xb001, 4);
  BOOST_TEST(b.machine.io().read(0xb008, 4) == 0xffffffffu);  // not enabled yet
  b.config_write(1, 3, 0x80, 0x01, 1);
  uint32_t t0 = uint32_t(b.machine.io().read(0xb008, 4));
  BOOST_TEST(t0 <= 0xffffffu);  // the 24-bit PM timer
  b.config_write(1, 3, 0x40, 0x601, 4);
  BOOST_TEST(b.machine.io().read(0xb008, 4) == 0xffffffffu);
  BOOST_TEST(b.machine.io().read(0x608, 4) <= 0xffffffu);
  BOOST_TEST(b.config_read(1, 3, 0x40) == 0x601u);

  Board kernel_boot(0);
  BOOST_TEST(kernel_boot.config_read(1, 3, 0x40) == 0x601u);
  BOOST_TEST(kernel_boot.config_read(1, 3, 0x80, 1) == 0x01u);
  BOOST_TEST(kernel_boot.config_read(1, 3, 0x3c, 1) == 9u);
  BOOST_TEST(kernel_boot.machine.io().read(0x608, 4) <= 0xffffffu);
  BOOST_TEST(kernel_boot.mem(0xffff0) == 0xffu);  // no firmware: nothing below 1 MiB
}

// A byte at 0xcf9 is the reset control register, inside the config ports.
BOOST_AUTO_TEST_CASE(reset_control_shares_the_config_ports) {
  Board b;
  b.machine.io().write(0xcf8, 0x80000000u, 4);
  b.machine.io().write(0xcf9, 0x02, 1);
  BOOST_TEST(b.machine.io().read(0xcf9, 1) == 0x02u);
  BOOST_TEST(!b.machine.run_control().stop_requested());
  BOOST_TEST(b.machine.io().read(0xcf8, 4) == 0x80000000u);
  b.machine.io().write(0xcf9, 0x06, 1);
  BOOST_TEST(b.machine.run_control().stop_requested());
}

// The chipset's state (CONFIG_ADDRESS, every function's registers) comes back
// from a checkpoint, and with it the memory map it decides.
BOOST_AUTO_TEST_CASE(checkpoint_restores_registers_and_the_map) {
  Board b;
  b.config_write(0, 0, 0x59, 0x30, 1);
  b.machine.memory().write(0xf0000, 0x5a, 1);
  b.config_write(1, 3, 0x40, 0xb001, 4);
  b.config_write(1, 3, 0x80, 0x01, 1);
  b.machine.io().write(0xcf8, 0x80000b40u, 4);
  auto states = b.machine.save_states();
  b.config_write(0, 0, 0x59, 0x00, 1);
  b.config_write(1, 3, 0x80, 0x00, 1);
  b.machine.io().write(0xcf8, 0, 4);
  BOOST_TEST(b.mem(0xf0000) == b.rom_byte(0x10000));
  b.machine.load_states(states);
  BOOST_TEST(b.mem(0xf0000) == 0x5au);
  BOOST_TEST(b.machine.io().read(0xb008, 4) <= 0xffffffu);
  BOOST_TEST(b.machine.io().read(0xcf8, 4) == 0x80000b40u);
  b.board->reset();  // power-on: ROM and the PM block gone again
  BOOST_TEST(b.mem(0xf0000) == b.rom_byte(0x10000));
  BOOST_TEST(b.machine.io().read(0xb008, 4) == 0xffffffffu);
}
