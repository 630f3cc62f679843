#include "tools/cli_options.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <set>
#include <sstream>

#include "core/cpu_features.h"

namespace rwd::tools {

const char kRunFlagsHelp[] =
    "  -kernel FILE        guest kernel: a Linux bzImage (boot protocol 2.12 or later)\n"
    "                      or a Multiboot v1 image (ELF32 or a.out kludge)\n"
    "  -bios FILE          run a firmware image (e.g. SeaBIOS's bios.bin) from the reset\n"
    "                      vector instead of loading a kernel; it is mapped below 4 GiB\n"
    "                      and its last 128 KiB below 1 MiB, as QEMU does\n"
    "  -append STRING      kernel command line\n"
    "  -initrd FILE[,FILE] a Linux kernel's initrd, or Multiboot modules in order\n"
    "  -m SIZE             guest RAM (default 128M; a bare number is MiB; suffixes K M G)\n"
    "  -serial MODE        COM1: stdio (default), file:PATH[,input=PATH], none\n"
    "  -accel tcg          the accelerator (only tcg, rewind's interpreter, for now)\n"
    "  -no-reboot          exit instead of rebooting when the guest resets\n"
    "  -machine pc[,accel=tcg]\n"
    "                      the board (rewind has one: a PC); -M is the same\n"
    "  -cpu max[,-FEAT,+FEAT,FEAT=on|off]\n"
    "                      the CPU model (rewind has one: max, everything it implements);\n"
    "                      minus a feature takes it out of CPUID (QEMU's names: -x2apic, -sse4.2)\n"
    "  -smp N              N vCPUs (at most 64; also cpus=, sockets=, cores=, threads=);\n"
    "                      they run in turns of --quantum instructions on one host thread\n"
    "  --quantum N         a vCPU's turn under -smp, in instructions (default 10000)\n"
    "  -nodefaults         no default serial backend: COM1 stays, unconnected, unless -serial\n"
    "  -nographic          no display (rewind never has one); the console stays on stdio\n"
    "  -display none       likewise\n"
    "  -device isa-debug-exit,iobase=ADDR,iosize=N\n"
    "                      move the debug-exit port (default iobase=0xf4,iosize=0x04);\n"
    "                      the guest writing V there ends the run with status (V<<1)|1\n"
    "  --stats             at exit, print instructions, host seconds and speed to stderr\n";

uint64_t parse_byte_size(const std::string& flag, const std::string& text) {
  const std::string& value = text;
  if (value.empty() || !std::isdigit(static_cast<unsigned char>(value[0])))
    throw UsageError(flag + ": invalid size '" + text + "' (expected e.g. 128M or 2G)");
  errno = 0;
  char* end = nullptr;
  unsigned long long n = std::strtoull(value.c_str(), &end, 10);
  std::string suffix(end);
  unsigned shift = 20;
  if (suffix.empty() || suffix == "M" || suffix == "m" || suffix == "MB" || suffix == "MiB") shift = 20;
  else if (suffix == "K" || suffix == "k" || suffix == "KB" || suffix == "KiB") shift = 10;
  else if (suffix == "G" || suffix == "g" || suffix == "GB" || suffix == "GiB") shift = 30;
  else if (suffix == "T" || suffix == "t" || suffix == "TB" || suffix == "TiB") shift = 40;
  else throw UsageError(flag + ": invalid size '" + text + "' (expected e.g. 128M or 2G)");
  if (errno == ERANGE || n > (~0ull >> shift)) throw UsageError(flag + ": size '" + text + "' is too large");
  return n << shift;
}

uint64_t parse_memory_size(const std::string& text) {
  const uint64_t bytes = parse_byte_size("-m", text.rfind("size=", 0) == 0 ? text.substr(5) : text);
  if (bytes < core::kMinRamSize) throw UsageError("-m: " + text + " is too small (at least 2M)");
  if (bytes > core::kMaxRamSize) throw UsageError("-m: " + text + " is more than rewind supports (64G)");
  if (std::string problem = core::ram_size_problem(bytes); !problem.empty())
    throw UsageError("-m: " + text + ": " + problem);
  return bytes;
}

uint64_t parse_count(const std::string& flag, const std::string& text, uint64_t min) {
  bool digits = !text.empty() && text.size() <= 20 &&
                std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  errno = 0;
  uint64_t n = digits ? std::strtoull(text.c_str(), nullptr, 10) : 0;
  if (!digits || errno == ERANGE)
    throw UsageError(flag + ": expected a number of instructions (decimal digits), got '" + text + "'");
  if (n < min) throw UsageError(flag + ": must be at least " + std::to_string(min) + ", got " + text);
  return n;
}

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep)) parts.push_back(item);
  return parts;
}

core::SerialConfig parse_serial(const std::string& value) {
  using Kind = core::SerialConfig::Kind;
  core::SerialConfig serial;
  if (value == "stdio") {
    serial.kind = Kind::kStdio;
  } else if (value == "none" || value == "null") {
    serial.kind = Kind::kNone;
  } else if (value.rfind("file:", 0) == 0) {
    std::vector<std::string> parts = split(value.substr(5), ',');
    if (parts.empty() || parts[0].empty()) throw UsageError("-serial file: needs a path, e.g. file:out.txt");
    serial.kind = Kind::kFile;
    serial.path = parts[0];
    for (size_t i = 1; i < parts.size(); ++i) {
      if (parts[i].rfind("input=", 0) == 0 && parts[i].size() > 6) serial.input_path = parts[i].substr(6);
      else throw UsageError("-serial: unknown option '" + parts[i] + "' (expected input=PATH)");
    }
  } else {
    throw UsageError("-serial: unsupported mode '" + value + "' (expected stdio, file:PATH or none)");
  }
  return serial;
}

core::DeviceConfig parse_device(const std::string& value) {
  std::vector<std::string> parts = split(value, ',');
  if (parts.empty() || parts[0].empty()) throw UsageError("-device: missing driver name");
  core::DeviceConfig device;
  device.driver = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    size_t eq = parts[i].find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError("-device " + device.driver + ": expected key=value, got '" + parts[i] + "'");
    device.properties[parts[i].substr(0, eq)] = parts[i].substr(eq + 1);
  }
  return device;
}

void parse_machine(const std::string& value, core::MachineConfig& m) {
  std::vector<std::string> parts = split(value, ',');
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    size_t eq = part.find('=');
    std::string key = eq == std::string::npos ? (i == 0 ? "type" : part) : part.substr(0, eq);
    std::string val = eq == std::string::npos ? part : part.substr(eq + 1);
    if (key == "type") {
      if (val != "pc")
        throw UsageError("-machine: unknown machine type '" + val + "' (rewind has one board: pc)");
    } else if (key == "accel") {
      if (val != "tcg") throw UsageError("-machine accel=" + val + ": unsupported accelerator (only tcg for now)");
      m.accel = val;
    } else {
      throw UsageError("-machine: unknown property '" + part + "' (rewind's pc takes accel=tcg)");
    }
  }
}

// QEMU's -cpu MODEL,+feat,-feat,feat=on|off: the one model and the
// features to take out of its CPUID; asking for one it has is a no-op.
void parse_cpu(const std::string& value, core::MachineConfig& m) {
  std::vector<std::string> parts = split(value, ',');
  std::string model = parts.empty() ? "" : parts[0];
  if (model != "max") throw UsageError("-cpu: unknown CPU model '" + model + "' (rewind has one: max)");
  std::set<std::string> off(m.cpu_features_off.begin(), m.cpu_features_off.end());
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    std::string name;
    bool on;
    if (!part.empty() && (part[0] == '+' || part[0] == '-')) {
      name = part.substr(1);
      on = part[0] == '+';
    } else if (size_t eq = part.find('='); eq != std::string::npos) {
      name = part.substr(0, eq);
      std::string v = part.substr(eq + 1);
      if (v == "on" || v == "true" || v == "yes") on = true;
      else if (v == "off" || v == "false" || v == "no") on = false;
      else throw UsageError("-cpu: '" + part + "': expected " + name + "=on or " + name + "=off");
    } else {
      throw UsageError("-cpu: '" + part + "' is not a feature option (+NAME, -NAME or NAME=on|off)");
    }
    std::string feature = core::canonical_cpu_feature(name);
    if (core::find_cpu_feature(feature)) {
      if (on) off.erase(feature);
      else off.insert(feature);
    } else if (core::is_absent_cpu_feature(feature)) {
      if (on) throw UsageError("-cpu max: rewind's CPU does not implement '" + name + "'");
    } else {
      throw UsageError("-cpu max: unknown CPU feature '" + name + "'");
    }
  }
  m.cpu_features_off.assign(off.begin(), off.end());
}

// QEMU's -smp: N or cpus=N, else the product of sockets, dies, cores and
// threads; maxcpus (hotplug) must equal the count. Every vCPU is its own
// package to the guest (CPUID reports no topology).
unsigned parse_smp(const std::string& value) {
  uint64_t cpus = 0, maxcpus = 0, product = 1;
  bool topology = false;
  for (const std::string& part : split(value, ',')) {
    size_t eq = part.find('=');
    std::string key = eq == std::string::npos ? "cpus" : part.substr(0, eq);
    std::string val = eq == std::string::npos ? part : part.substr(eq + 1);
    if (key != "cpus" && key != "maxcpus" && key != "sockets" && key != "dies" && key != "cores" && key != "threads")
      throw UsageError("-smp: unknown option '" + part + "'");
    uint64_t n = parse_count("-smp " + key, val, 1);
    if (key == "cpus") cpus = n;
    else if (key == "maxcpus") maxcpus = n;
    else {
      product = product * std::min<uint64_t>(n, 1u << 20);
      topology = true;
    }
  }
  if (!cpus) cpus = topology ? product : 1;
  if (maxcpus && maxcpus != cpus)
    throw UsageError("-smp " + value + ": maxcpus must equal the vCPU count (rewind has no CPU hotplug)");
  if (cpus > core::kMaxCpus)
    throw UsageError("-smp " + value + ": at most " + std::to_string(core::kMaxCpus) + " vCPUs");
  return unsigned(cpus);
}

}  // namespace

RunOptions parse_run_options(const std::vector<std::string>& args) {
  RunOptions options;
  core::MachineConfig& m = options.machine;
  bool nodefaults = false, serial_given = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    if (flag.rfind("--", 0) == 0 && flag.size() > 2) flag = flag.substr(1);  // QEMU takes both - and --
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw UsageError(flag + ": missing value");
      return args[++i];
    };
    if (flag == "-kernel") m.kernel = value();
    else if (flag == "-bios") m.bios = value();
    else if (flag == "-append") m.append = value();
    else if (flag == "-initrd") {
      for (const std::string& f : split(value(), ','))
        if (!f.empty()) m.initrd.push_back(f);
    } else if (flag == "-m") m.ram_size = parse_memory_size(value());
    else if (flag == "-serial") {
      m.serial = parse_serial(value());
      serial_given = true;
    }
    else if (flag == "-accel") {
      const std::string& accel = value();
      if (accel != "tcg") throw UsageError("-accel: unsupported accelerator '" + accel + "' (only tcg for now)");
      m.accel = accel;
    } else if (flag == "-no-reboot") m.no_reboot = true;
    else if (flag == "-device") m.devices.push_back(parse_device(value()));
    else if (flag == "-stats") options.stats = true;
    else if (flag == "-machine" || flag == "-M") parse_machine(value(), m);
    else if (flag == "-cpu") parse_cpu(value(), m);
    else if (flag == "-smp") m.cpus = parse_smp(value());
    else if (flag == "-quantum") m.quantum = parse_count("--quantum", value(), 1);
    else if (flag == "-nodefaults") nodefaults = true;
    else if (flag == "-nographic") {
      // QEMU's meaning: no window, the serial console on stdio -- rewind's default.
    } else if (flag == "-display") {
      const std::string& display = value();
      if (display != "none") throw UsageError("-display " + display + ": rewind has no display (only -display none)");
    } else throw UsageError("unknown option '" + args[i] + "' (see rewind run --help)");
  }
  if (m.kernel.empty() && m.bios.empty()) throw UsageError("-kernel FILE (or -bios FILE) is required");
  if (!m.kernel.empty() && !m.bios.empty())
    throw UsageError("-bios with -kernel: rewind loads a kernel itself, without firmware; give one of them");
  if (!m.bios.empty() && (!m.append.empty() || !m.initrd.empty()))
    throw UsageError(std::string(m.append.empty() ? "-initrd" : "-append") + " needs -kernel");
  // QEMU's -nodefaults drops the default serial backend; an explicit -serial keeps its own.
  if (nodefaults && !serial_given) {
    m.serial = core::SerialConfig{};
    m.serial.kind = core::SerialConfig::Kind::kNone;
  }
  return options;
}

}  // namespace rwd::tools
