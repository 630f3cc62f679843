#include "tools/machine_builder.h"

#include <cstdio>

#include "core/x86_cpu_state_io.h"
#include "hw/loaders/firmware.h"
#include "hw/loaders/multiboot.h"
#include "hw/loaders/pc_kernel.h"
#include "tcg-llvm/interp/tcg_vcpu.h"
#include "tools/exit_status.h"

namespace rwd::tools {

BuiltMachine build_machine(const core::MachineConfig& config, replay::Inputs& inputs,
                           std::function<void(uint64_t icount)> on_poll) {
  BuiltMachine built;
  built.machine = std::make_unique<core::Machine>(config.ram_size, config.cpus, config.bios_size);
  core::Machine& machine = *built.machine;
  machine.set_quantum(config.quantum);
  machine.set_cpuid_mask(core::CpuidMask(config.cpu_features_off));
  machine.run_control().set_warn_sink(
      [](const std::string& message) { std::fprintf(stderr, "rewind: warning: %s\n", message.c_str()); });
  built.board = std::make_unique<hw::PcBoard>(machine, config, inputs);
  machine.set_entropy(&inputs);
  auto peers = machine.cpu_count() > 1 ? std::make_shared<tcg::CodePeers>() : nullptr;
  for (unsigned i = 0; i < machine.cpu_count(); ++i) {
    core::X86CpuState state = core::reset_cpu_state();
    if (i > 0) state.apic_base &= ~core::apic_base::kBsp;
    machine.attach_vcpu(std::make_unique<tcg::TcgVcpu>(machine.cpu_environment(i), state, peers));
    if (i > 0) machine.init_vcpu(i);  // application processors wait for start-up IPIs
  }
  built.signals = std::make_unique<replay::host_signals::Watch>(machine.run_control());
  machine.set_input_poller([&machine, &inputs, on_poll](uint64_t icount, uint64_t max_wait_ns) {
    if (on_poll) on_poll(icount);
    bool alive = inputs.poll(icount, max_wait_ns);
    if (inputs.take_user_request() == replay::UserRequest::kQuit) machine.run_control().request_user_quit();
    return alive;
  });
  return built;
}

void size_firmware(core::MachineConfig& config) {
  if (!config.bios.empty()) config.bios_size = hw::firmware_size(config.bios, replay::open_host_image);
}

void load_guest(BuiltMachine& built, const core::MachineConfig& config, const replay::ImageOpener& open) {
  core::Machine& machine = *built.machine;
  if (!config.bios.empty()) {
    hw::load_firmware(machine, config.bios, open);  // the vCPUs start at the reset vector
    return;
  }
  core::X86CpuState cpu = machine.vcpu().state();
  hw::load_pc_kernel(machine, config, open, cpu);
  machine.vcpu().state() = cpu;
  machine.vcpu().state_changed();
  machine.resync_icount();
}

std::vector<replay::NamedFile> machine_input_files(const core::MachineConfig& config) {
  std::vector<replay::NamedFile> files;
  if (!config.kernel.empty()) files.push_back({"the kernel", config.kernel});
  if (!config.bios.empty()) files.push_back({"-bios", config.bios});
  for (const std::string& m : config.initrd) files.push_back({"-initrd", hw::multiboot_module_path(m)});
  if (!config.serial.input_path.empty()) files.push_back({"-serial input=", config.serial.input_path});
  return files;
}

std::vector<replay::NamedFile> machine_output_files(const core::MachineConfig& config) {
  if (config.serial.kind != core::SerialConfig::Kind::kFile) return {};
  return {{"-serial file:", config.serial.path}};
}

int exit_status_for(const core::RunOutcome& outcome) {
  switch (outcome.reason) {
    case core::StopReason::kGuestExit:
      return outcome.exit_status;
    case core::StopReason::kShutdown:
      return kExitGuestCrashed;
    case core::StopReason::kReset:
    case core::StopReason::kUserQuit:
    case core::StopReason::kDebugTrap:
    case core::StopReason::kNone:
      return kExitOk;
  }
  return kExitInternalError;
}

}  // namespace rwd::tools
