// The ACPI tables rewind hands firmware through fw_cfg (etc/acpi/tables,
// etc/acpi/rsdp and the etc/table-loader script), placed by software no one
// here wrote: Debian's SeaBIOS runs on the board until it gives up booting,
// then the test finds the RSDP where an OS looks for it (the F segment) and
// follows and checks every pointer and checksum the loader script fixed up.
#define BOOST_TEST_MODULE hw_firmware_acpi
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/machine.h"
#include "core/x86_cpu_state.h"
#include "hw/pc_board.h"
#include "tcg-llvm/interp/tcg_vcpu.h"
#include "tests/unit/test_hw_fakes.h"

using namespace rwd;

namespace {

const char* const kBios = "/usr/share/seabios/bios.bin";

struct SeabiosRun {
  explicit SeabiosRun(unsigned cpus) {
    std::ifstream in(kBios, std::ios::binary);
    BOOST_TEST_REQUIRE(in.good(), kBios << " is missing: install Debian's seabios package (the README's setup does)");
    std::vector<uint8_t> image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    config.cpus = cpus;
    machine = std::make_unique<core::Machine>(config.ram_size, cpus, image.size());
    std::memcpy(machine->rom(), image.data(), image.size());
    board = std::make_unique<hw::PcBoard>(*machine, config, inputs);
    for (unsigned i = 0; i < cpus; ++i) {
      core::X86CpuState state = core::reset_cpu_state();
      if (i > 0) state.apic_base &= ~core::apic_base::kBsp;
      machine->attach_vcpu(std::make_unique<tcg::TcgVcpu>(machine->cpu_environment(i), state));
      if (i > 0) machine->init_vcpu(i);
    }
    // Until SeaBIOS has nothing left to try (it then waits forever).
    machine->set_input_poller([this](uint64_t, uint64_t) {
      if (inputs.output.find("No bootable device.") != std::string::npos) machine->run_control().request_user_quit();
      return true;
    });
    machine->run();
    BOOST_TEST_REQUIRE(inputs.output.find("No bootable device.") != std::string::npos, inputs.output);
  }
  uint64_t rd(uint64_t addr, unsigned n) { return machine->memory().read(addr, n); }
  std::string text(uint64_t addr, unsigned n) {
    std::string s(n, '\0');
    machine->memory().read_bytes(addr, s.data(), n);
    return s;
  }
  uint8_t sum(uint64_t addr, uint64_t len) {
    uint8_t s = 0;
    for (uint64_t i = 0; i < len; ++i) s = uint8_t(s + rd(addr + i, 1));
    return s;
  }
  // A table's signature, and its length when its checksum holds (else 0).
  uint32_t table(uint64_t addr, const char* signature) {
    uint32_t length = 0;
    BOOST_TEST_CONTEXT("table " << signature << " at 0x" << std::hex << addr) {
      BOOST_TEST(text(addr, 4) == signature);
      length = uint32_t(rd(addr + 4, 4));
      BOOST_TEST(length >= 36u);
      BOOST_TEST(sum(addr, length) == 0u);
    }
    return length;
  }

  core::MachineConfig config;
  hw::test::FakeInputs inputs;
  std::unique_ptr<core::Machine> machine;
  std::unique_ptr<hw::PcBoard> board;
};

void check_tables(unsigned cpus) {
  SeabiosRun run(cpus);
  uint64_t rsdp = 0;
  for (uint64_t a = 0xe0000; a < 0x100000 && !rsdp; a += 16)
    if (run.text(a, 8) == "RSD PTR ") rsdp = a;
  BOOST_TEST_REQUIRE(rsdp != 0u, "no RSDP in the F segment");
  BOOST_TEST(run.sum(rsdp, 20) == 0u);
  BOOST_TEST(run.rd(rsdp + 15, 1) == 2u);
  BOOST_TEST(run.sum(rsdp, 36) == 0u);
  const uint64_t rsdt = run.rd(rsdp + 16, 4), xsdt = run.rd(rsdp + 24, 8);
  // In RAM below the firmware's own high allocations, not in the F segment.
  BOOST_TEST(rsdt >= 0x100000u);
  BOOST_TEST(rsdt < run.config.ram_size);
  const uint32_t rsdt_len = run.table(rsdt, "RSDT");
  const uint32_t xsdt_len = run.table(xsdt, "XSDT");
  BOOST_TEST_REQUIRE((rsdt_len - 36) / 4 == (xsdt_len - 36) / 8);
  std::vector<std::string> found;
  uint64_t fadt = 0, madt = 0;
  for (uint32_t i = 0; i < (rsdt_len - 36) / 4; ++i) {
    uint64_t t = run.rd(rsdt + 36 + 4 * i, 4);
    BOOST_TEST(run.rd(xsdt + 36 + 8 * i, 8) == t);
    found.push_back(run.text(t, 4));
    run.table(t, found.back().c_str());
    if (found.back() == "FACP") fadt = t;
    if (found.back() == "APIC") madt = t;
  }
  BOOST_TEST(found == (std::vector<std::string>{"FACP", "APIC", "HPET"}), boost::test_tools::per_element());
  BOOST_TEST_REQUIRE(fadt != 0u);
  const uint64_t facs = run.rd(fadt + 36, 4), dsdt = run.rd(fadt + 40, 4);
  BOOST_TEST(run.text(facs, 4) == "FACS");
  BOOST_TEST(facs % 64 == 0u);
  run.table(dsdt, "DSDT");
  BOOST_TEST(run.rd(fadt + 140, 8) == dsdt);  // X_DSDT
  BOOST_TEST(run.text(dsdt + 36, 5) == std::string("\x08_S5_", 5));
  BOOST_TEST(run.rd(fadt + 56, 4) == 0x600u);  // PM1a_EVT_BLK: where SeaBIOS put the PIIX4's PM block
  BOOST_TEST(run.rd(fadt + 76, 4) == 0x608u);  // PM_TMR_BLK
  BOOST_TEST_REQUIRE(madt != 0u);
  unsigned lapics = 0;
  for (uint64_t e = madt + 44; e < madt + run.rd(madt + 4, 4); e += run.rd(e + 1, 1))
    if (run.rd(e, 1) == 0) ++lapics;
  BOOST_TEST(lapics == cpus);
}

}  // namespace

BOOST_AUTO_TEST_CASE(seabios_places_the_acpi_tables_from_fw_cfg) { check_tables(1); }

BOOST_AUTO_TEST_CASE(two_vcpus_in_the_madt) { check_tables(2); }
