// `rewind run`: build a PC from QEMU-style flags, boot the kernel under the
// interpreter, and end with the guest's status.
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include "core/machine.h"
#include "core/x86_cpu_state_io.h"
#include "replay/host/host_files.h"
#include "replay/host/host_inputs.h"
#include "replay/host/host_stopwatch.h"
#include "tools/cli_options.h"
#include "tools/exit_status.h"
#include "tools/machine_builder.h"
#include "tools/subcommands.h"

namespace rwd::tools {

namespace {

const char kRunHelp[] =
    "usage: rewind run -kernel FILE [options]\n"
    "\n"
    "Boot a guest under rewind's x86 interpreter. Options follow QEMU's spelling:\n"
    "\n";

// One boot of the machine, from power-on to the end of the run or a reset.
core::RunOutcome boot_once(const core::MachineConfig& config, replay::Inputs& inputs) {
  BuiltMachine built = build_machine(config, inputs);
  load_guest(built, config, replay::open_host_image);
  core::RunOutcome outcome = built.machine->run();
  if (outcome.reason == core::StopReason::kShutdown)
    outcome.detail += "\n" + core::format_cpu_state(built.machine->vcpu().state());
  return outcome;
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-help" || a == "-h") {
      std::fputs(kRunHelp, stdout);
      std::fputs(kRunFlagsHelp, stdout);
      return kExitOk;
    }
  }
  try {
    RunOptions options = parse_run_options(args);
    size_firmware(options.machine);
    replay::refuse_outputs_over_inputs(machine_output_files(options.machine), machine_input_files(options.machine));
    replay::HostInputs inputs(options.machine.serial);
    replay::HostStopwatch stopwatch;
    uint64_t total_icount = 0;
    for (;;) {
      core::RunOutcome outcome = boot_once(options.machine, inputs);
      total_icount += outcome.icount;
      if (options.stats) {
        double seconds = stopwatch.seconds();
        std::fprintf(stderr, "rewind: icount=%" PRIu64 " host_seconds=%.6f mips=%.1f\n", total_icount, seconds,
                     seconds > 0 ? total_icount / seconds / 1e6 : 0.0);
      }
      // Output that could not be written is a failed run, whatever the guest did.
      auto status = [&](int guest_status) { return inputs.console().write_failed() ? kExitBadInput : guest_status; };
      switch (outcome.reason) {
        case core::StopReason::kGuestExit:
          return status(outcome.exit_status);
        case core::StopReason::kShutdown:
          std::fprintf(stderr, "rewind: guest stopped: %s", outcome.detail.c_str());
          return kExitGuestCrashed;
        case core::StopReason::kReset:
          if (options.machine.no_reboot) return status(kExitOk);
          continue;  // power-cycle: a fresh machine from the same flags
        case core::StopReason::kUserQuit:
        case core::StopReason::kDebugTrap:  // no debugger drives `run`
        case core::StopReason::kNone:
          return status(kExitOk);
      }
    }
  } catch (const std::runtime_error& e) {
    // The errors a user can cause (UsageError, hw::ConfigError, hw::LoadError,
    // files replay/host cannot open) are runtime_errors with one-line messages.
    std::fprintf(stderr, "rewind: %s\n", e.what());
    return kExitBadInput;
  }
}

}  // namespace rwd::tools
