// Building the PC every subcommand runs (run, record, replay): the same
// machine from the same configuration, so a replay is the recording's twin.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "core/machine.h"
#include "core/machine_config.h"
#include "hw/pc_board.h"
#include "replay/host/host_files.h"
#include "replay/host/host_signals.h"
#include "replay/image_file.h"
#include "replay/inputs.h"

namespace rwd::tools {

struct BuiltMachine {
  std::unique_ptr<core::Machine> machine;
  std::unique_ptr<hw::PcBoard> board;  // destroyed before the machine: it unmaps from it
  // Quit signals reach this machine's vCPU while it exists (destroyed first).
  std::unique_ptr<replay::host_signals::Watch> signals;
};

// RAM, board, the interpreter vCPU attached in its reset state, and the main
// loop's input poller wired to `inputs`; no guest loaded yet. Throws the
// one-line runtime_errors of the board.
// `on_poll` (optional) sees the icount at every input poll, about every 2^20
// instructions: progress meters hang there.
BuiltMachine build_machine(const core::MachineConfig& config, replay::Inputs& inputs,
                           std::function<void(uint64_t icount)> on_poll = {});

// -bios: learns the firmware image's size (config.bios_size), which the
// machine needs before it is built. Throws the loader's one-line errors.
void size_firmware(core::MachineConfig& config);

// Loads the guest of `config` (kernel, modules, command line) into a machine
// that has not run yet and gives the vCPU its entry state. Throws the
// loader's one-line runtime_errors. (A replay restores its recording's
// initial checkpoint instead: it never reads the image files.)
// `open` opens the image files (replay::open_host_image, or a recorder's
// wrapper that also notes what it opened).
void load_guest(BuiltMachine& built, const core::MachineConfig& config, const replay::ImageOpener& open);

// The host files a machine of `config` reads (kernel, modules, console
// input) and writes (console output), for replay::refuse_outputs_over_inputs.
std::vector<replay::NamedFile> machine_input_files(const core::MachineConfig& config);
std::vector<replay::NamedFile> machine_output_files(const core::MachineConfig& config);

// Ends the run the user's way: the guest's status, or a crash report.
int exit_status_for(const core::RunOutcome& outcome);

}  // namespace rwd::tools
