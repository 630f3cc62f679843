#include "replay/machine_spec.h"

#include "core/cpu_features.h"

namespace rwd::replay {

traces::MachineSpec to_spec(const core::MachineConfig& c) {
  traces::MachineSpec s;
  s.kernel = c.kernel;
  s.append = c.append;
  s.initrd = c.initrd;
  s.ram_size = c.ram_size;
  s.serial.kind = static_cast<traces::SerialSpec::Kind>(c.serial.kind);
  s.serial.path = c.serial.path;
  s.serial.input_path = c.serial.input_path;
  s.accel = c.accel;
  s.no_reboot = c.no_reboot;
  s.cpus = c.cpus;
  s.quantum = c.quantum;
  s.bios = c.bios;
  s.bios_size = c.bios_size;
  s.cpu_features_off = c.cpu_features_off;
  for (const auto& d : c.devices) {
    traces::DeviceSpec spec{d.driver, {}};
    for (const auto& [k, v] : d.properties) spec.properties.emplace_back(k, v);
    s.devices.push_back(std::move(spec));
  }
  return s;
}

core::MachineConfig from_spec(const traces::MachineSpec& s) {
  // What replay uses of the header is checked before use; what it does not
  // use (kernel, append, initrd, serial: the initial checkpoint holds what was
  // loaded, the console comes from the replay's own flags) is only shown.
  if (std::string problem = core::ram_size_problem(s.ram_size); !problem.empty())
    throw traces::TraceError("trace header: guest RAM (ramSize) of " + problem);
  if (s.accel != "tcg" && s.accel != "kvm")
    throw traces::TraceError("trace header: unknown accelerator '" + s.accel + "' (expected tcg or kvm)");
  core::MachineConfig c;
  c.kernel = s.kernel;
  c.append = s.append;
  c.initrd = s.initrd;
  c.ram_size = s.ram_size;
  c.serial.kind = static_cast<core::SerialConfig::Kind>(s.serial.kind);
  c.serial.path = s.serial.path;
  c.serial.input_path = s.serial.input_path;
  c.accel = s.accel;
  c.no_reboot = s.no_reboot;
  if (s.cpus == 0 || s.cpus > core::kMaxCpus)
    throw traces::TraceError("trace header: " + std::to_string(s.cpus) + " vCPUs (rewind runs 1 to " +
                             std::to_string(core::kMaxCpus) + ")");
  c.cpus = s.cpus;
  if (s.quantum) c.quantum = s.quantum;
  for (const std::string& f : s.cpu_features_off)
    if (!core::find_cpu_feature(f))
      throw traces::TraceError("trace header: unknown CPU feature '" + f + "' in cpuFeaturesOff");
  c.cpu_features_off = s.cpu_features_off;
  if (!s.bios.empty()) {
    if (std::string problem = core::bios_size_problem(s.bios_size); !problem.empty())
      throw traces::TraceError("trace header: firmware image (biosSize) of " + problem);
    c.bios = s.bios;
    c.bios_size = s.bios_size;
  }
  for (const auto& d : s.devices) {
    core::DeviceConfig dev{d.driver, {}};
    for (const auto& [k, v] : d.properties) dev.properties[k] = v;
    c.devices.push_back(std::move(dev));
  }
  return c;
}

}  // namespace rwd::replay
