// Debian's stock kernel with a busybox initramfs (scripts/linux-guest.sh
// prepares both) under `rewind run`, driven the way a user drives it: boot to
// the shell on the serial console, type commands once it says it is ready,
// read what they print. `poweroff -f` ends the run with status 0 through
// ACPI (the DSDT's \_S5, SLP_EN in PM1a_CNT). Usage: test_linux_boot -- DIR (with DIR/vmlinuz and DIR/initramfs.cpio.gz).
#define BOOST_TEST_MODULE linux_boot
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/integration/subprocess.h"

using namespace rwd::testing;

namespace {

std::string guest_dir() {
  auto& master = boost::unit_test::framework::master_test_suite();
  BOOST_TEST_REQUIRE(master.argc >= 2, "usage: test_linux_boot -- DIR (see scripts/linux-guest.sh)");
  return master.argv[1];
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

namespace {

// Boots with `cpus` vCPUs and `-cpu cpu_option`, types the commands, checks
// what they print; the console goes to DIR/<log>. `removed`: a CPU feature
// cpu_option takes out, which /proc/cpuinfo must not list.
void busybox_session(unsigned cpus, const std::string& log, const std::string& cpu_option = "max",
                     const std::string& removed = "") {
  const std::string dir = guest_dir();
  ProcessOptions options;
  options.argv = {rewind_binary(), "run", "-kernel", dir + "/vmlinuz", "-initrd", dir + "/initramfs.cpio.gz",
                  "-m", "256M", "-serial", "stdio", "-no-reboot", "-append", "console=ttyS0 panic=-1",
                  "-smp", std::to_string(cpus), "-cpu", cpu_option};
  // $((6*7)) so that the answer differs from the terminal's echo of the command.
  options.dialogue = {{"rewind-linux-guest: shell ready",
                       "uname -a; cat /proc/cpuinfo; nproc; ls /sys/bus/pci/devices; echo ok-$((6*7))\n"},
                      {"ok-42", "poweroff -f\n"}};
  options.timeout_seconds = 840;
  ProcessResult r = run_process(options);
  // The console, for a failure's reader.
  std::ofstream(dir + "/" + log, std::ios::binary) << r.out << "\n--- stderr ---\n" << r.err;
  BOOST_TEST_MESSAGE("console output in " << dir << "/" << log);
  BOOST_TEST(!r.timed_out);
  BOOST_TEST(r.exit_status == 0);
  BOOST_TEST(contains(r.out, "Run /init as init process"));
  BOOST_TEST(contains(r.out, "Linux (none) 6."));
  BOOST_TEST(contains(r.out, "x86_64 GNU/Linux"));
  for (unsigned cpu = 0; cpu < cpus; ++cpu) BOOST_TEST(contains(r.out, "processor\t: " + std::to_string(cpu)));
  BOOST_TEST(!contains(r.out, "processor\t: " + std::to_string(cpus)));
  // CPUID's x86-64-v2 features, as Linux reads them.
  for (const char* flag : {" sse4_2", " popcnt", " cx16", " ssse3", " lahf_lm", " nx", " lm", " rdrand"}) {
    BOOST_TEST_INFO(flag);
    BOOST_TEST(contains(r.out, flag));
  }
  if (!removed.empty()) BOOST_TEST(!contains(r.out, " " + removed + " "), removed << " still in /proc/cpuinfo");
  BOOST_TEST(contains(r.out, "\n" + std::to_string(cpus) + "\r\n"));  // nproc
  if (cpus > 1) {
    BOOST_TEST(contains(r.out, "smp: Brought up 1 node, " + std::to_string(cpus) + " CPUs"));
    BOOST_TEST(!contains(r.out, "TSC synchronization"));  // Linux's complaint when TSCs differ
    BOOST_TEST(!contains(r.out, "unstable"));
  }
  // PCI bus 0 through the DSDT's root bridge: QEMU's pc functions, the PIIX4's PM block found where it is.
  BOOST_TEST(contains(r.out, "ACPI: PCI Root Bridge [PCI0] (domain 0000 [bus 00-ff])"));
  BOOST_TEST(contains(r.out, "pci 0000:00:00.0: [8086:1237] type 00 class 0x060000"));
  BOOST_TEST(contains(r.out, "pci 0000:00:01.0: [8086:7000] type 00 class 0x060100"));
  BOOST_TEST(contains(r.out, "pci 0000:00:01.3: [8086:7113] type 00 class 0x068000"));
  BOOST_TEST(contains(r.out, "pci 0000:00:01.3: quirk: [io  0x0600-0x063f] claimed by PIIX4 ACPI"));
  BOOST_TEST(contains(r.out, "0000:00:00.0  0000:00:01.0  0000:00:01.3"));  // ls /sys/bus/pci/devices
  BOOST_TEST(contains(r.out, "ok-42"));
  BOOST_TEST(contains(r.out, "ACPI: PM: (supports S0 S5)"));
  BOOST_TEST(contains(r.out, "ACPI: PM: Preparing to enter system sleep state S5"));
  BOOST_TEST(contains(r.out, "reboot: Power down"));
  for (const char* bad : {"BUG:", "WARNING:", "Oops", "Kernel panic"}) {
    BOOST_TEST_INFO(bad);
    BOOST_TEST(!contains(r.out, bad));
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(debian_kernel_boots_to_a_busybox_shell_that_runs_typed_commands) {
  busybox_session(1, "last-boot.log");
}

// -smp 2: the application processor comes up through INIT and start-up IPIs
// and both vCPUs run the guest in turns.
// ... and with a feature taken out of CPUID, as QEMU's -cpu max,-rdseed does.
BOOST_AUTO_TEST_CASE(debian_kernel_boots_on_two_vcpus) {
  busybox_session(2, "last-boot-smp2.log", "max,-rdseed", "rdseed");
}

namespace {

// A session recorded, then replayed: the same console bytes and exit status
// (replay checks the state digests on the way and the final one), and a seek
// into the middle of the boot lands in the state a straight replay reaches
// there.
void record_replay_and_seek(unsigned cpus) {
  const std::string dir = guest_dir();
  const std::string trace = dir + "/boot-" + std::to_string(cpus) + ".rwt";
  ProcessOptions options;
  options.argv = {rewind_binary(), "record", "-o", trace, "--checkpoint-interval", "250000000", "-kernel",
                  dir + "/vmlinuz", "-initrd", dir + "/initramfs.cpio.gz", "-m", "256M", "-serial", "stdio",
                  "-append", "console=ttyS0", "-smp", std::to_string(cpus)};
  options.dialogue = {{"rewind-linux-guest: shell ready", "uname -r; echo ok-$((6*7))\n"}, {"ok-42", "poweroff -f\n"}};
  options.timeout_seconds = 840;
  ProcessResult recorded = run_process(options);
  BOOST_TEST_REQUIRE(recorded.exit_status == 0, recorded.err);
  BOOST_TEST(contains(recorded.out, "reboot: Power down"));

  ProcessResult replayed = run_process({rewind_binary(), "replay", trace}, {}, 840);
  BOOST_TEST(replayed.exit_status == 0, replayed.err);
  BOOST_TEST(replayed.out == recorded.out);  // byte for byte, typed input's echo included

  // 3,000,000,000 instructions in: the kernel is up, the shell not yet.
  const std::string to = "3000000000";
  ProcessResult seek = run_process({rewind_binary(), "replay", trace, "-serial", "none", "--to", to}, {}, 840);
  ProcessResult straight =
      run_process({rewind_binary(), "replay", trace, "-serial", "none", "--to", to, "--no-seek"}, {}, 840);
  BOOST_TEST(seek.exit_status == 0, seek.err);
  BOOST_TEST(straight.exit_status == 0, straight.err);
  BOOST_TEST(contains(seek.out + seek.err, "digest"));
  BOOST_TEST(seek.out == straight.out);
  std::remove(trace.c_str());
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_recorded_boot_replays_identically_and_seeks) { record_replay_and_seek(1); }

// Two vCPUs: the turns are guest state, so the recording replays bit-exactly.
BOOST_AUTO_TEST_CASE(a_recorded_two_vcpu_boot_replays_identically_and_seeks) { record_replay_and_seek(2); }
