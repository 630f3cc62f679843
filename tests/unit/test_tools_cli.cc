// tools/cli_options.h: QEMU-style run flags into a core::MachineConfig. Every
// mistake must come back as a UsageError with a one-line message naming the flag.
#define BOOST_TEST_MODULE tools_cli
#include <boost/test/unit_test.hpp>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tools/cli_options.h"

using rwd::core::SerialConfig;
using rwd::tools::kRunFlagsHelp;
using rwd::tools::parse_memory_size;
using rwd::tools::parse_run_options;
using rwd::tools::RunOptions;
using rwd::tools::UsageError;

namespace {

using Args = std::vector<std::string>;

constexpr uint64_t KiB = 1ull << 10, MiB = 1ull << 20, GiB = 1ull << 30;

RunOptions parse(Args args) {
  args.insert(args.begin(), {"-kernel", "guest.elf"});
  return parse_run_options(args);
}

// Checks that `f` throws a UsageError whose message is one line and contains `needle`.
template <typename F>
void expect_usage_error(F&& f, const std::string& needle, const std::string& what) {
  BOOST_TEST_CONTEXT(what) {
    try {
      f();
      BOOST_ERROR("no UsageError for " << what);
    } catch (const UsageError& e) {
      std::string msg = e.what();
      BOOST_TEST(!msg.empty());
      BOOST_TEST(msg.find('\n') == std::string::npos, "multi-line message: " << msg);
      BOOST_TEST(msg.find(needle) != std::string::npos, "'" << msg << "' does not name " << needle);
    } catch (const std::exception& e) {
      BOOST_ERROR("wrong exception type for " << what << ": " << e.what());
    }
  }
}

void expect_args_rejected(const Args& args, const std::string& needle) {
  std::string joined;
  for (const auto& a : args) joined += a + " ";
  expect_usage_error([&] { parse_run_options(args); }, needle, joined);
}

// The flags listed in the help text: the first word of each line starting with '-'.
std::vector<std::string> help_flags() {
  std::vector<std::string> flags;
  std::istringstream in(kRunFlagsHelp);
  std::string line;
  while (std::getline(in, line)) {
    size_t start = line.find_first_not_of(' ');
    if (start == std::string::npos || line[start] != '-') continue;
    size_t end = line.find(' ', start);
    flags.push_back(line.substr(start, end - start));
  }
  return flags;
}

std::string bare(const std::string& flag) { return flag.substr(flag.find_first_not_of('-')); }

// A valid use of each documented flag (without its dashes).
const std::map<std::string, Args> kSampleValues = {
    {"kernel", {"guest.elf"}},
    {"bios", {"bios.bin"}},
    {"append", {"console=ttyS0 quiet"}},
    {"initrd", {"mod1.txt,mod2.txt"}},
    {"m", {"256M"}},
    {"serial", {"none"}},
    {"accel", {"tcg"}},
    {"no-reboot", {}},
    {"device", {"isa-debug-exit,iobase=0x501,iosize=2"}},
    {"stats", {}},
    {"machine", {"pc,accel=tcg"}},
    {"cpu", {"max"}},
    {"smp", {"2"}},
    {"quantum", {"5000"}},
    {"nodefaults", {}},
    {"nographic", {}},
    {"display", {"none"}},
};

}  // namespace

BOOST_AUTO_TEST_CASE(every_documented_flag_is_accepted_with_one_or_two_dashes) {
  std::vector<std::string> flags = help_flags();
  BOOST_REQUIRE_GE(flags.size(), 9u);
  for (const std::string& flag : flags) {
    auto sample = kSampleValues.find(bare(flag));
    BOOST_TEST_CONTEXT("flag " << flag) {
      BOOST_REQUIRE_MESSAGE(sample != kSampleValues.end(), "help lists " << flag << " but this test has no sample");
      for (std::string dashes : {"-", "--"}) {
        Args args = {dashes + bare(flag)};
        args.insert(args.end(), sample->second.begin(), sample->second.end());
        // Every flag goes with a kernel but -bios, which stands in for one.
        if (bare(flag) != "kernel" && bare(flag) != "bios") args.insert(args.end(), {"-kernel", "guest.elf"});
        BOOST_CHECK_NO_THROW(parse_run_options(args));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(defaults_with_only_a_kernel) {
  RunOptions o = parse_run_options({"-kernel", "guest.elf"});
  BOOST_TEST(o.machine.kernel == "guest.elf");
  BOOST_TEST(o.machine.append.empty());
  BOOST_TEST(o.machine.initrd.empty());
  BOOST_TEST(o.machine.ram_size == 128 * MiB);
  BOOST_TEST((o.machine.serial.kind == SerialConfig::Kind::kStdio));
  BOOST_TEST(o.machine.accel == "tcg");
  BOOST_TEST(!o.machine.no_reboot);
  BOOST_TEST(o.machine.devices.empty());
  BOOST_TEST(!o.stats);
}

BOOST_AUTO_TEST_CASE(every_flag_lands_in_its_field) {
  for (std::string d : {"-", "--"}) {
    BOOST_TEST_CONTEXT("dashes " << d) {
      RunOptions o = parse_run_options({d + "kernel", "k.elf", d + "append", "console=ttyS0 root=/dev/ram",
                                        d + "initrd", "a.img,b.img", d + "m", "1G", d + "serial",
                                        "file:out.txt", d + "accel", "tcg", d + "no-reboot", d + "device",
                                        "isa-debug-exit,iobase=0x501,iosize=2", d + "stats"});
      const auto& m = o.machine;
      BOOST_TEST(m.kernel == "k.elf");
      BOOST_TEST(m.append == "console=ttyS0 root=/dev/ram");
      BOOST_TEST(m.initrd == (Args{"a.img", "b.img"}));
      BOOST_TEST(m.ram_size == GiB);
      BOOST_TEST((m.serial.kind == SerialConfig::Kind::kFile));
      BOOST_TEST(m.serial.path == "out.txt");
      BOOST_TEST(m.serial.input_path.empty());
      BOOST_TEST(m.accel == "tcg");
      BOOST_TEST(m.no_reboot);
      BOOST_REQUIRE_EQUAL(m.devices.size(), 1u);
      BOOST_TEST(m.devices[0].driver == "isa-debug-exit");
      BOOST_TEST(m.devices[0].properties.size() == 2u);
      BOOST_TEST(m.devices[0].properties.at("iobase") == "0x501");
      BOOST_TEST(m.devices[0].properties.at("iosize") == "2");
      BOOST_TEST(o.stats);
    }
  }
}

BOOST_AUTO_TEST_CASE(flags_may_come_in_any_order_and_devices_accumulate) {
  RunOptions o = parse_run_options({"-device", "isa-debug-exit,iobase=0xf4", "-m", "64", "-kernel", "k",
                                    "-device", "isa-debug-exit,iobase=0x501,iosize=2"});
  BOOST_TEST(o.machine.kernel == "k");
  BOOST_TEST(o.machine.ram_size == 64 * MiB);
  BOOST_REQUIRE_EQUAL(o.machine.devices.size(), 2u);
  BOOST_TEST(o.machine.devices[0].properties.at("iobase") == "0xf4");
  BOOST_TEST(o.machine.devices[1].properties.at("iobase") == "0x501");
}

BOOST_AUTO_TEST_CASE(append_value_is_taken_verbatim_even_when_it_looks_like_a_flag) {
  RunOptions o = parse({"-append", "-m 4"});
  BOOST_TEST(o.machine.append == "-m 4");
  BOOST_TEST(o.machine.ram_size == 128 * MiB);
}

BOOST_AUTO_TEST_CASE(memory_sizes) {
  BOOST_TEST(parse_memory_size("128") == 128 * MiB);  // a bare number is MiB
  BOOST_TEST(parse_memory_size("128M") == 128 * MiB);
  BOOST_TEST(parse_memory_size("128m") == 128 * MiB);
  BOOST_TEST(parse_memory_size("1G") == GiB);
  BOOST_TEST(parse_memory_size("2G") == 2 * GiB);
  BOOST_TEST(parse_memory_size("4096k") == 4 * MiB);
  BOOST_TEST(parse_memory_size("4096K") == 4 * MiB);
  BOOST_TEST(parse_memory_size("size=256M") == 256 * MiB);  // QEMU's long form
  BOOST_TEST(parse_memory_size("size=256") == 256 * MiB);
  // Through the flag too.
  BOOST_TEST(parse({"-m", "size=256M"}).machine.ram_size == 256 * MiB);
  BOOST_TEST(parse({"--m", "512"}).machine.ram_size == 512 * MiB);
}

BOOST_AUTO_TEST_CASE(memory_size_examples_from_the_header_are_accepted) {
  // cli_options.h documents "128", "128M", "2G", "4096k" as inputs of parse_memory_size.
  BOOST_TEST(parse_memory_size("128") == 128 * MiB);
  BOOST_TEST(parse_memory_size("128M") == 128 * MiB);
  BOOST_TEST(parse_memory_size("2G") == 2048 * MiB);
  BOOST_TEST(parse_memory_size("4096k") == 4096 * KiB);
}

BOOST_AUTO_TEST_CASE(bad_memory_sizes_are_usage_errors_naming_m) {
  const Args bad = {
      "abc",                   // not a number
      "12X",                   // unknown suffix
      "",                      // empty
      "size=",                 // empty long form
      "-1",                    // negative
      "1k",                    // too small for any guest
      "100G",                  // more than rewind supports
      "1T",                    // likewise
      "99999999999999999999",  // overflows 64 bits as a number
      "18446744073709551615",  // fits as a number, overflows as MiB
      "17179869184G",          // 2^34 GiB = 2^64 bytes
      "128 M",                 // stray space
      "0",
  };
  for (const std::string& text : bad) {
    expect_usage_error([&] { parse_memory_size(text); }, "-m", "parse_memory_size('" + text + "')");
    expect_args_rejected({"-kernel", "k", "-m", text}, "-m");
  }
}

BOOST_AUTO_TEST_CASE(serial_modes) {
  BOOST_TEST((parse({"-serial", "stdio"}).machine.serial.kind == SerialConfig::Kind::kStdio));
  BOOST_TEST((parse({"-serial", "none"}).machine.serial.kind == SerialConfig::Kind::kNone));

  SerialConfig f = parse({"-serial", "file:/tmp/out.log"}).machine.serial;
  BOOST_TEST((f.kind == SerialConfig::Kind::kFile));
  BOOST_TEST(f.path == "/tmp/out.log");
  BOOST_TEST(f.input_path.empty());

  SerialConfig fi = parse({"-serial", "file:out.log,input=in.txt"}).machine.serial;
  BOOST_TEST((fi.kind == SerialConfig::Kind::kFile));
  BOOST_TEST(fi.path == "out.log");
  BOOST_TEST(fi.input_path == "in.txt");
}

BOOST_AUTO_TEST_CASE(bad_serial_modes_are_usage_errors_naming_serial) {
  for (std::string mode : {"tcp:localhost:4444", "pty", "file:", "file:out.log,input=",
                                  "file:out.log,bogus=1", "FILE:out.log", "", "stdio,extra"})
    expect_args_rejected({"-kernel", "k", "-serial", mode}, "-serial");
}

BOOST_AUTO_TEST_CASE(initrd_lists_are_split_on_commas_in_order) {
  BOOST_TEST(parse({"-initrd", "one"}).machine.initrd == Args{"one"});
  BOOST_TEST(parse({"-initrd", "a,b"}).machine.initrd == (Args{"a", "b"}));
  BOOST_TEST(parse({"-initrd", "z.txt,a.txt,m.txt"}).machine.initrd == (Args{"z.txt", "a.txt", "m.txt"}));
}

BOOST_AUTO_TEST_CASE(device_properties) {
  auto d = parse({"-device", "isa-debug-exit,iobase=0x501,iosize=2"}).machine.devices;
  BOOST_REQUIRE_EQUAL(d.size(), 1u);
  BOOST_TEST(d[0].driver == "isa-debug-exit");
  BOOST_TEST(d[0].properties.at("iobase") == "0x501");
  BOOST_TEST(d[0].properties.at("iosize") == "2");

  auto bare_driver = parse({"-device", "isa-debug-exit"}).machine.devices;
  BOOST_REQUIRE_EQUAL(bare_driver.size(), 1u);
  BOOST_TEST(bare_driver[0].driver == "isa-debug-exit");
  BOOST_TEST(bare_driver[0].properties.empty());
}

BOOST_AUTO_TEST_CASE(malformed_devices_are_usage_errors_naming_device) {
  for (std::string spec : {"isa-debug-exit,iobase", "isa-debug-exit,=0x501", ",iobase=0x501", ""})
    expect_args_rejected({"-kernel", "k", "-device", spec}, "-device");
}

BOOST_AUTO_TEST_CASE(missing_values_are_usage_errors_naming_the_flag) {
  for (std::string flag : {"-kernel", "-append", "-initrd", "-m", "-serial", "-accel", "-device"}) {
    expect_args_rejected({"-kernel", "k", flag}, flag);
    expect_args_rejected({"-kernel", "k", "-" + flag}, flag);  // the -- spelling
  }
}

BOOST_AUTO_TEST_CASE(unknown_flags_are_usage_errors_naming_them) {
  expect_args_rejected({"-kernel", "k", "--frobnicate"}, "--frobnicate");
  expect_args_rejected({"-kernel", "k", "stray-argument"}, "stray-argument");
}

BOOST_AUTO_TEST_CASE(unsupported_accelerator_is_a_usage_error) {
  expect_args_rejected({"-kernel", "k", "-accel", "kvm"}, "-accel");
  expect_args_rejected({"-kernel", "k", "-accel", "kvm"}, "kvm");
  expect_args_rejected({"-kernel", "k", "--accel", "hvf"}, "-accel");
}

BOOST_AUTO_TEST_CASE(kernel_is_required) {
  expect_args_rejected({}, "-kernel");
  expect_args_rejected({"-m", "256", "-serial", "none"}, "-kernel");
}

// A harness written for qemu-system-x86_64 passes these; rewind takes them
// with QEMU's meaning where it can and names what it cannot do.
BOOST_AUTO_TEST_CASE(qemu_harness_flags) {
  RunOptions o = parse({"-machine", "pc,accel=tcg", "-M", "pc", "-cpu", "max", "-smp", "1", "-smp",
                        "cpus=1,cores=1,threads=1,sockets=1", "-nographic", "-display", "none"});
  BOOST_TEST(o.machine.accel == "tcg");
  BOOST_TEST((o.machine.serial.kind == SerialConfig::Kind::kStdio));
  // -nodefaults: no default serial backend, unless -serial gives one (in either order).
  BOOST_TEST((parse({"-nodefaults"}).machine.serial.kind == SerialConfig::Kind::kNone));
  BOOST_TEST((parse({"-serial", "stdio", "-nodefaults"}).machine.serial.kind == SerialConfig::Kind::kStdio));
  BOOST_TEST((parse({"-nodefaults", "-serial", "file:x"}).machine.serial.kind == SerialConfig::Kind::kFile));

  expect_args_rejected({"-kernel", "k", "-machine", "q35"}, "unknown machine type 'q35'");
  expect_args_rejected({"-kernel", "k", "-machine", "pc,accel=kvm"}, "accel=kvm");
  expect_args_rejected({"-kernel", "k", "-machine", "pc,usb=on"}, "unknown property 'usb=on'");
  expect_args_rejected({"-kernel", "k", "-cpu", "host"}, "unknown CPU model 'host' (rewind has one: max)");
  // Features: QEMU's three spellings, its aliases, and features max lacks.
  BOOST_TEST(parse({"-cpu", "max,-x2apic,-sse4.2,sse3=off,-SSE4_1"}).machine.cpu_features_off ==
                 (std::vector<std::string>{"pni", "sse4-1", "sse4-2", "x2apic"}),
             boost::test_tools::per_element());
  BOOST_TEST(parse({"-cpu", "max,-x2apic,+x2apic,x2apic=on"}).machine.cpu_features_off.empty());
  BOOST_TEST(parse({"-cpu", "max,-avx,-vmx,la57=off"}).machine.cpu_features_off.empty());  // nothing to take out
  BOOST_TEST(parse({"-cpu", "max", "-cpu", "max,-nx"}).machine.cpu_features_off == std::vector<std::string>{"nx"});
  expect_args_rejected({"-kernel", "k", "-cpu", "max,+avx"}, "rewind's CPU does not implement 'avx'");
  expect_args_rejected({"-kernel", "k", "-cpu", "max,-frobnicate"}, "unknown CPU feature 'frobnicate'");
  expect_args_rejected({"-kernel", "k", "-cpu", "max,x2apic=maybe"}, "x2apic=on or x2apic=off");
  expect_args_rejected({"-kernel", "k", "-cpu", "max,x2apic"}, "not a feature option");
  BOOST_TEST(parse({"-smp", "2"}).machine.cpus == 2u);
  BOOST_TEST(parse({"-smp", "cpus=3,maxcpus=3"}).machine.cpus == 3u);
  BOOST_TEST(parse({"-smp", "sockets=2,cores=2,threads=1"}).machine.cpus == 4u);
  BOOST_TEST(parse({}).machine.cpus == 1u);
  BOOST_TEST(parse({"--quantum", "777"}).machine.quantum == 777u);
  expect_args_rejected({"-kernel", "k", "-smp", "4,maxcpus=8"}, "maxcpus must equal the vCPU count");
  expect_args_rejected({"-kernel", "k", "-smp", "65"}, "at most 64 vCPUs");
  expect_args_rejected({"-kernel", "k", "-smp", "0"}, "-smp cpus");
  expect_args_rejected({"-kernel", "k", "--quantum", "0"}, "--quantum");
  expect_args_rejected({"-kernel", "k", "-smp", "1,books=1"}, "unknown option 'books=1'");
  expect_args_rejected({"-kernel", "k", "-display", "gtk"}, "-display gtk: rewind has no display");
  expect_args_rejected({"-kernel", "k", "-vga", "std"}, "unknown option '-vga'");
  expect_args_rejected({"-vnc", ":0"}, "unknown option '-vnc'");
}

// -bios runs firmware instead of a kernel rewind loads: one or the other,
// and the kernel's own options need the kernel.
BOOST_AUTO_TEST_CASE(bios_instead_of_a_kernel) {
  RunOptions o = parse_run_options({"-bios", "/usr/share/seabios/bios.bin", "-nodefaults", "-serial", "stdio"});
  BOOST_TEST(o.machine.bios == "/usr/share/seabios/bios.bin");
  BOOST_TEST(o.machine.kernel.empty());
  BOOST_TEST(o.machine.bios_size == 0u);  // learnt when the file is opened
  expect_args_rejected({"-kernel", "k", "-bios", "bios.bin"}, "-bios with -kernel");
  expect_args_rejected({"-bios", "bios.bin", "-append", "quiet"}, "-append needs -kernel");
  expect_args_rejected({"-bios", "bios.bin", "-initrd", "x"}, "-initrd needs -kernel");
  expect_args_rejected({"-m", "64M"}, "-kernel FILE (or -bios FILE) is required");
}
