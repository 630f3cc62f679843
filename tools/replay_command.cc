// `rewind replay FILE.rwt [-serial MODE]`: re-run a recording bit-exactly. The
// machine comes from the trace; the host is never asked for input.
#include <cstdio>

#include "replay/host/host_inputs.h"
#include "replay/machine_spec.h"
#include "replay/replayer.h"
#include "tools/cli_options.h"
#include "tools/exit_status.h"
#include "tools/machine_builder.h"
#include "tools/subcommands.h"
#include "traces/sha256.h"
#include "traces/trace_reader.h"

namespace rwd::tools {

namespace {

const char kReplayHelp[] =
    "usage: rewind replay FILE.rwt [-serial stdio|file:PATH|none]\n"
    "\n"
    "Re-run a recording: the guest sees exactly the inputs it saw when recorded,\n"
    "prints the same console output and ends with the recorded status. State\n"
    "digests are compared as the replay passes them; the first mismatch stops it\n"
    "with 'diverged at icount N: ...' (status 8).\n";

// The guest images must be the recorded ones, byte for byte.
void check_images(const traces::Header& header) {
  for (const traces::ImageInfo& image : header.images) {
    uint64_t size = 0;
    traces::Sha256Digest digest = traces::sha256_file(image.path, &size);
    if (digest != image.sha256 || size != image.size)
      throw traces::TraceError("guest image '" + image.path + "' differs from the one recorded (SHA-256 mismatch)");
  }
}

}  // namespace

int replay_command(const std::vector<std::string>& args) {
  std::string path;
  core::SerialConfig serial;
  try {
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (a == "--help" || a == "-help" || a == "-h") {
        std::fputs(kReplayHelp, stdout);
        return kExitOk;
      }
      if (a == "-serial" || a == "--serial") {
        if (i + 1 >= args.size()) throw UsageError("-serial: missing value");
        serial = parse_run_options({"-kernel", "x", "-serial", args[++i]}).machine.serial;
        if (!serial.input_path.empty()) throw UsageError("-serial: replay takes no input (it comes from the trace)");
      } else if (!a.empty() && a[0] == '-') {
        throw UsageError("unknown option '" + a + "' (see rewind replay --help)");
      } else if (path.empty()) {
        path = a;
      } else {
        throw UsageError("more than one trace given ('" + path + "', '" + a + "')");
      }
    }
    if (path.empty()) throw UsageError("a trace file is required (see rewind replay --help)");
    std::unique_ptr<traces::TraceReader> reader = traces::TraceReader::open(path);
    check_images(reader->header());
    core::MachineConfig config = replay::from_spec(reader->header().machine);
    config.serial = serial;
    std::unique_ptr<replay::ByteSink> console = replay::open_console_sink(serial);
    replay::Replayer replayer(*reader, *console);
    BuiltMachine built = build_machine(config, replayer);
    replayer.attach(*built.machine);
    core::RunOutcome outcome = built.machine->run();
    if (!replayer.divergence().empty()) {
      std::fprintf(stderr, "rewind: %s\n", replayer.divergence().c_str());
      return kExitDiverged;
    }
    if (replayer.ran_out_of_trace()) {
      std::fprintf(stderr, "rewind: the trace ends at icount %llu (it was cut short: byte %llu of %llu is the end of the readable part)\n",
                   (unsigned long long)outcome.icount, (unsigned long long)reader->readable_end(),
                   (unsigned long long)reader->file_size());
      return kExitOk;
    }
    // The recording's own end must be the next event, at this very point.
    const traces::Event* end = replayer.next_event();
    if (!end || end->kind() != traces::EventKind::kRunEnd || end->icount != outcome.icount) {
      std::fprintf(stderr, "rewind: diverged at icount %llu: the run ended here, but the recording %s\n",
                   (unsigned long long)outcome.icount,
                   end ? ("continues with " + std::string(traces::event_kind_name(end->kind())) + " at icount " +
                          std::to_string(end->icount)).c_str()
                       : "has no end event");
      return kExitDiverged;
    }
    int status = exit_status_for(outcome);
    const auto& recorded = std::get<traces::RunEnd>(end->data);
    if (recorded.exit_status != status) {
      std::fprintf(stderr, "rewind: diverged at icount %llu: expected exit status %d, got %d\n",
                   (unsigned long long)outcome.icount, recorded.exit_status, status);
      return kExitDiverged;
    }
    if (outcome.reason == core::StopReason::kShutdown)
      std::fprintf(stderr, "rewind: guest stopped: %s\n", outcome.detail.c_str());
    return status;
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "rewind: %s\n", e.what());
    return kExitBadInput;
  }
}

}  // namespace rwd::tools
