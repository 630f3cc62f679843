// Debian's SeaBIOS (package seabios) under `rewind run -bios`, next to QEMU
// on the same image: the firmware probes the board (PCI, fw_cfg, CMOS, the
// APICs and the PIT), finds nothing to boot and says so on the serial
// console. What it prints must match what it prints under QEMU's `pc`
// machine byte for byte. QEMU runs with vapic=off: its TCG `pc` otherwise
// adds the kvmvapic option ROM, which SeaBIOS lists as a boot device.
#define BOOST_TEST_MODULE seabios
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <cstdio>
#include <string>
#include <sys/stat.h>

#include "tests/integration/subprocess.h"

using namespace rwd::testing;

namespace {

const std::string kSeabiosDir = "/usr/share/seabios/";
const std::string kNoBoot = "No bootable device.";

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string image(const std::string& name) {
  std::string path = kSeabiosDir + name;
  BOOST_TEST_REQUIRE(exists(path), path << " is missing: install Debian's seabios package (the README's setup does)");
  return path;
}

// The console up to SeaBIOS's last word (a run goes on waiting after it).
std::string until_no_boot(const std::string& out) {
  size_t at = out.find(kNoBoot);
  return at == std::string::npos ? out : out.substr(0, at + kNoBoot.size());
}

ProcessResult run_until_no_boot(std::vector<std::string> argv) {
  ProcessOptions options;
  options.argv = std::move(argv);
  options.signal = SIGTERM;
  options.signal_after_output = kNoBoot;
  options.timeout_seconds = 120;
  return run_process(options);
}

ProcessResult under_rewind(const std::string& bios, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {rewind_binary(), "run", "-bios", bios, "-nodefaults", "-nographic",
                                   "-serial",       "stdio"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return run_until_no_boot(argv);
}

ProcessResult under_qemu(const std::string& bios, const std::vector<std::string>& extra = {}) {
  BOOST_TEST_REQUIRE(exists("/usr/bin/qemu-system-x86_64"),
                     "qemu-system-x86_64 is missing: install Debian's qemu-system-x86 package (the README's setup does)");
  std::vector<std::string> argv = {"/usr/bin/qemu-system-x86_64", "-accel", "tcg", "-nodefaults",
                                   "-nographic",         "-bios",   bios,    "-serial",
                                   "stdio",              "-monitor", "none", "-global",
                                   "apic-common.vapic=off"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return run_until_no_boot(argv);
}

void same_console_as_qemu(const std::string& name, const std::vector<std::string>& extra = {}) {
  const std::string bios = image(name);
  ProcessResult ours = under_rewind(bios, extra);
  ProcessResult qemu = under_qemu(bios, extra);
  BOOST_TEST(!ours.timed_out, ours.err);
  BOOST_TEST(ours.exit_status == 0, ours.err);
  BOOST_TEST(!qemu.timed_out, qemu.err);
  BOOST_TEST(ours.out.find("SeaBIOS (version ") != std::string::npos);
  BOOST_TEST(ours.out.find(kNoBoot) != std::string::npos, ours.out);
  BOOST_TEST(qemu.out.find(kNoBoot) != std::string::npos, qemu.out);
  BOOST_TEST(until_no_boot(ours.out) == until_no_boot(qemu.out));
  BOOST_TEST(ours.err.find("warning") == std::string::npos, ours.err);
}

}  // namespace

BOOST_AUTO_TEST_CASE(seabios_128k_reaches_no_bootable_device_as_on_qemu) { same_console_as_qemu("bios.bin"); }

// QEMU's default image: 256 KiB, of which the last 128 KiB show below 1 MiB.
BOOST_AUTO_TEST_CASE(seabios_256k_reaches_no_bootable_device_as_on_qemu) { same_console_as_qemu("bios-256k.bin"); }

// SeaBIOS counts the CPUs by waking the application processors with INIT
// and start-up IPIs and waiting, in a PAUSE loop, for each to check in.
BOOST_AUTO_TEST_CASE(seabios_brings_up_two_vcpus) { same_console_as_qemu("bios.bin", {"-smp", "2"}); }

// A firmware run records and replays: the ROM travels in the trace (the
// initial checkpoint), so replay reads no image file.
BOOST_AUTO_TEST_CASE(a_recorded_seabios_run_replays_identically) {
  const std::string bios = image("bios.bin");
  const std::string trace = "seabios-test.rwt";
  ProcessResult recorded = run_until_no_boot({rewind_binary(), "record", "-o", trace, "-bios", bios, "-nodefaults",
                                              "-serial", "stdio", "-smp", "2"});
  BOOST_TEST_REQUIRE(recorded.exit_status == 0, recorded.err);
  BOOST_TEST(recorded.out.find(kNoBoot) != std::string::npos);
  ProcessResult replayed = run_process({rewind_binary(), "replay", trace}, {}, 120);
  BOOST_TEST(replayed.exit_status == 0, replayed.err);
  BOOST_TEST(replayed.out == recorded.out);
  ProcessResult info = run_process({rewind_binary(), "trace", "info", trace}, {}, 60);
  BOOST_TEST(info.out.find("bios:         " + bios + " (131072 bytes)") != std::string::npos, info.out);
  std::remove(trace.c_str());
}
