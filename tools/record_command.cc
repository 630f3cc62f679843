// `rewind record -o FILE.rwt <run flags>`: a `rewind run` whose every input is
// logged into a trace that `rewind replay` re-runs bit-exactly.
#include <cstdio>
#include <cstdlib>

#include "core/x86_cpu_state_io.h"
#include "replay/host/host_files.h"
#include "replay/host/host_inputs.h"
#include "replay/host/host_stopwatch.h"
#include "replay/machine_spec.h"
#include "replay/recorder.h"
#include "tools/cli_options.h"
#include "tools/exit_status.h"
#include "tools/machine_builder.h"
#include "tools/subcommands.h"
#include "traces/sha256.h"

namespace rwd::tools {

namespace {

// Instructions between checkpoints: bounds the replay work of a seek. Measured
// on a 1e9-instruction checksum recording (bench/record_replay.sh's guest):
//   interval 1M: 3.45 MB trace, seek to the middle 32 ms;
//   interval 10M: 385 KB, 48 ms;  interval 100M: 58 KB, 339 ms;
// record time is the same for all three (3.3-3.5 s, plain run 3.4 s). 10M
// keeps a seek under 100 ms (the reverse-stepi budget) at a modest size.
constexpr uint64_t kDefaultCheckpointInterval = 10'000'000;

const char kRecordHelp[] =
    "usage: rewind record -o FILE.rwt -kernel FILE [options]\n"
    "\n"
    "Run like `rewind run` and record every input of the run into FILE.rwt.\n"
    "\n"
    "  -o FILE.rwt              the trace to write\n"
    "  --checkpoint-interval N  instructions between checkpoints (default 10000000)\n";

// What the header says of an image the loader opened: its path as given,
// size and SHA-256 (informational: replay restores the initial checkpoint).
traces::ImageInfo image_info(replay::ImageFile& file) {
  traces::ImageInfo info;
  info.path = file.path();
  info.size = file.size();
  traces::Sha256 hash;
  std::vector<uint8_t> chunk(1u << 20);
  for (uint64_t done = 0; done < info.size;) {
    size_t n = size_t(std::min<uint64_t>(chunk.size(), info.size - done));
    file.read(done, chunk.data(), n);
    hash.update(chunk.data(), n);
    done += n;
  }
  info.sha256 = hash.finish();
  return info;
}

}  // namespace

int record_command(const std::vector<std::string>& all_args) {
  std::vector<std::string> args;
  std::string output;
  uint64_t interval = kDefaultCheckpointInterval;
  try {
    for (size_t i = 0; i < all_args.size(); ++i) {
      const std::string& a = all_args[i];
      if (a == "--help" || a == "-help" || a == "-h") {
        std::fputs(kRecordHelp, stdout);
        std::fputs(kRunFlagsHelp, stdout);
        return kExitOk;
      }
      if (a == "-o" || a == "--checkpoint-interval") {
        if (i + 1 >= all_args.size()) throw UsageError(a + ": missing value");
        const std::string& v = all_args[++i];
        if (a == "-o") {
          output = v;
        } else {
          interval = parse_count(a, v, 1);
        }
        continue;
      }
      args.push_back(a);
    }
    if (output.empty()) throw UsageError("-o FILE.rwt is required");
    RunOptions options = parse_run_options(args);
    size_firmware(options.machine);
    std::vector<replay::NamedFile> outputs = machine_output_files(options.machine);
    outputs.insert(outputs.begin(), replay::NamedFile{"-o", output});
    replay::refuse_outputs_over_inputs(outputs, machine_input_files(options.machine));
    traces::Header header;
    header.machine = replay::to_spec(options.machine);
    header.command_line.push_back("rewind");
    header.command_line.push_back("record");
    header.command_line.insert(header.command_line.end(), all_args.begin(), all_args.end());
    header.rewind_version = "0.1";

    replay::HostInputs host(options.machine.serial);
    replay::HostStopwatch host_time;  // outlives the recorder, which reads it
    replay::Recorder recorder(host, interval);
    recorder.set_host_clock([&host_time] { return host_time.seconds(); });
    BuiltMachine built = build_machine(options.machine, recorder);
    load_guest(built, options.machine, [&](const std::string& role, const std::string& path, uint64_t max_size) {
      std::unique_ptr<replay::ImageFile> file = replay::open_host_image(role, path, max_size);
      header.images.push_back(image_info(*file));
      return file;
    });
    recorder.attach(*built.machine, output, header);
    core::RunOutcome outcome;
    try {
      outcome = built.machine->run();
    } catch (...) {
      // Free the machine first: the failure may have been running out of memory.
      uint64_t icount = built.machine->icount(), idle_ns = built.machine->clock().idle_ns();
      built.signals.reset();
      built.board.reset();  // before the machine it unmaps from
      built.machine.reset();
      recorder.finish_after_error(kExitInternalError, icount, idle_ns);
      throw;
    }
    if (outcome.reason == core::StopReason::kReset)
      std::fprintf(stderr, "rewind: the guest reset: the recording ends here (a reset is not replayable yet)\n");
    outcome.exit_status = exit_status_for(outcome);
    recorder.finish(outcome);
    if (outcome.reason == core::StopReason::kShutdown)
      std::fprintf(stderr, "rewind: guest stopped: %s\n%s", outcome.detail.c_str(),
                   core::format_cpu_state(built.machine->vcpu().state()).c_str());
    if (options.stats && recorder.writer()) {
      const auto& st = recorder.writer()->stats();
      std::fprintf(stderr, "rewind: icount=%llu trace_bytes=%llu\n", (unsigned long long)outcome.icount,
                   (unsigned long long)st.file_bytes);
    }
    return host.console().write_failed() ? kExitBadInput : outcome.exit_status;
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "rewind: %s\n", e.what());
    return kExitBadInput;
  }
}

}  // namespace rwd::tools
