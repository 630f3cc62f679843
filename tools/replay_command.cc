// `rewind replay FILE.rwt [-serial MODE]`: re-run a recording bit-exactly. The
// machine comes from the trace; the host is never asked for input.
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "replay/host/host_inputs.h"
#include "replay/host/host_progress.h"
#include "replay/machine_spec.h"
#include "core/x86_cpu_state_io.h"
#include "replay/checkpoints.h"
#include "replay/replayer.h"
#include "replay/state_digest.h"
#include "tools/cli_options.h"
#include "tools/exit_status.h"
#include "tools/gdbstub/tcp_transport.h"
#include "tools/machine_builder.h"
#include "tools/replay_debug.h"
#include "tools/subcommands.h"
#include "traces/trace_reader.h"

namespace rwd::tools {

namespace {

const char kReplayHelp[] =
    "usage: rewind replay FILE.rwt [-serial stdio|file:PATH|none] [--to ICOUNT [--no-seek]]\n"
    "                              [-gdb tcp:[HOST]:PORT | -s] [--checkpoint-memory SIZE]\n"
    "\n"
    "Re-run a recording: the guest sees exactly the inputs it saw when recorded,\n"
    "prints the same console output and ends with the recorded status. State\n"
    "digests are compared as the replay passes them; the first mismatch stops it\n"
    "with 'diverged at icount N: ...' (status 8).\n"
    "\n"
    "  --to ICOUNT   stop when ICOUNT instructions have retired and print the state\n"
    "                there (digest and registers); starts from the nearest checkpoint\n"
    "  --no-seek     with --to: replay from the start instead of a checkpoint\n"
    "  -gdb tcp::PORT  wait at instruction 0 for gdb (target remote :PORT) and let it\n"
    "                drive the replay: registers, memory, breakpoints, stepi,\n"
    "                continue, Ctrl-C; writes are refused (they would change the\n"
    "                recording); after detach the replay runs on to its end\n"
    "  -s            -gdb tcp::1234\n"
    "  --checkpoint-memory SIZE\n"
    "                with -gdb: memory for the checkpoints the session adds while\n"
    "                going back, so repeated reverse steps stay short (default 256M;\n"
    "                0: none; `monitor checkpoints` shows the use)\n";

// Prints where a --to replay stopped: the digest that a straight replay and a
// seek must agree on, and the registers.
void print_position(core::Machine& machine) {
  traces::Digest d = replay::compute_digest(machine);
  std::string hex;
  char buf[3];
  for (const auto* part : {&d.registers, &d.pages, &d.devices}) {
    for (uint8_t b : *part) {
      std::snprintf(buf, sizeof buf, "%02x", b);
      hex += buf;
    }
    if (part != &d.devices) hex += "/";
  }
  std::fprintf(stderr, "rewind: at icount %llu: digest %s\n", (unsigned long long)machine.icount(), hex.c_str());
  for (unsigned i = 0; i < machine.cpu_count(); ++i) {
    if (machine.cpu_count() > 1) std::fprintf(stderr, "vCPU %u:\n", i);
    std::fputs(core::format_cpu_state(machine.cpu_state(i)).c_str(), stderr);
  }
}

}  // namespace

int replay_command(const std::vector<std::string>& args) {
  std::string path;
  core::SerialConfig serial;
  std::optional<uint64_t> to;
  bool seek = true;
  std::optional<gdb::Endpoint> gdb_endpoint;
  std::optional<uint64_t> checkpoint_memory;
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
      } else if (a == "--to") {
        if (i + 1 >= args.size()) throw UsageError("--to: missing value");
        to = parse_count(a, args[++i]);
      } else if (a == "--no-seek") {
        seek = false;
      } else if (a == "-gdb" || a == "--gdb") {
        if (i + 1 >= args.size()) throw UsageError("-gdb: missing value (e.g. tcp::1234)");
        gdb_endpoint = gdb::parse_endpoint(args[++i]);
        if (!gdb_endpoint) throw UsageError("-gdb " + args[i] + ": expected tcp:[HOST]:PORT (e.g. tcp::1234)");
      } else if (a == "-s") {
        gdb_endpoint = gdb::Endpoint{"", 1234};
      } else if (a == "--checkpoint-memory") {
        if (i + 1 >= args.size()) throw UsageError("--checkpoint-memory: missing value (e.g. 256M)");
        checkpoint_memory = parse_byte_size(a, args[++i]);
      } else if (!a.empty() && a[0] == '-') {
        throw UsageError("unknown option '" + a + "' (see rewind replay --help)");
      } else if (path.empty()) {
        path = a;
      } else {
        throw UsageError("more than one trace given ('" + path + "', '" + a + "')");
      }
    }
    if (path.empty()) throw UsageError("a trace file is required (see rewind replay --help)");
    if (gdb_endpoint && to) throw UsageError("-gdb with --to: give one of them (gdb can run to any point itself)");
    if (checkpoint_memory && !gdb_endpoint) throw UsageError("--checkpoint-memory is for a -gdb session");
    core::MachineConfig serial_only;
    serial_only.serial = serial;
    replay::refuse_outputs_over_inputs(machine_output_files(serial_only), {{"the trace", path}});
    std::unique_ptr<traces::TraceReader> reader = traces::TraceReader::open(path);
    if (reader->header().digest_algorithm != replay::kDigestAlgorithm)
      throw traces::TraceError("the trace's state digests use '" + reader->header().digest_algorithm +
                               "', this rewind computes '" + replay::kDigestAlgorithm +
                               "': it cannot check a replay against it");
    core::MachineConfig config = replay::from_spec(reader->header().machine);
    config.serial = serial;
    std::unique_ptr<replay::ConsoleSink> console = replay::open_console_sink(serial);
    replay::Replayer replayer(*reader, *console);
    replay::HostProgress progress(to ? "seek" : "replay");
    uint64_t target = to ? *to : reader->last_icount();
    // The user stopping the replay (a quit signal, or the console's reader
    // gone) is not part of the recording: it ends the replay where it is.
    core::RunControl* run_control = nullptr;
    bool interrupted = false;
    std::function<void()> debugger_poll;  // while gdb drives the replay
    BuiltMachine built = build_machine(config, replayer, [&](uint64_t icount) {
      progress.update(icount, target);
      if (debugger_poll) debugger_poll();
      if (run_control && (replay::host_signals::take_quit() || console->reader_gone())) {
        interrupted = true;
        run_control->request_user_quit();
      }
    });
    run_control = &built.machine->run_control();
    // The machine starts in the recorded state: the initial checkpoint holds
    // every page the loader wrote, so the image files are never read. A seek
    // starts from the last checkpoint at or before its target.
    if (reader->checkpoints().empty() || reader->checkpoints()[0].icount != 0)
      throw traces::TraceError("the trace has no initial checkpoint (at icount 0): nothing to replay from");
    size_t start = to && seek ? reader->checkpoint_at_or_before(*to).value_or(0) : 0;
    traces::Digest restored = replay::restore_checkpoint(*built.machine, *reader, start);
    const traces::Digest& initial = reader->header().initial_digest;
    if (start == 0 && !initial.registers.empty() && restored != initial)
      throw traces::TraceError("the initial checkpoint does not match the header's initial state (" +
                               replay::first_difference(initial, restored) + "): the trace is damaged");
    reader->position_after_checkpoint(start);
    replayer.attach(*built.machine, start);
    if (to) {
      replayer.stop_at(*to);
      if (built.machine->icount() == *to) {
        print_position(*built.machine);
        return kExitOk;
      }
    }
    if (gdb_endpoint) {
      gdb::TcpTransport transport(*gdb_endpoint);
      std::fprintf(stderr, "rewind: waiting for gdb on port %u (in gdb: target remote :%u)\n", transport.port(),
                   transport.port());
      auto quit = [] { return replay::host_signals::take_quit(); };
      if (!transport.accept_client(quit)) return kExitOk;
      ReplayTarget debug_target(*built.machine, replayer, *reader,
                                checkpoint_memory.value_or(replay::SessionCheckpoints::kDefaultBudgetBytes));
      debugger_poll = [&debug_target] { debug_target.poll(); };
      gdb::Server::End end = gdb::Server(transport, debug_target, quit).serve();
      debugger_poll = nullptr;
      debug_target.set_breakpoints({});
      if (end != gdb::Server::End::kDetached || debug_target.at_end()) return kExitOk;
      built.machine->run_control().clear();  // detached: the replay runs on to its end
    }
    core::RunOutcome outcome = built.machine->run();
    progress.finish();
    if (!replayer.damage().empty()) {
      std::fprintf(stderr, "rewind: %s\n", replayer.damage().c_str());
      return kExitBadInput;
    }
    if (!replayer.divergence().empty()) {
      std::fprintf(stderr, "rewind: %s\n", replayer.divergence().c_str());
      return kExitDiverged;
    }
    if (interrupted) {
      if (console->reader_gone()) return kExitOk;  // `| head`: the reader has seen enough
      int sig = replay::host_signals::first_quit_signal();
      std::fprintf(stderr, "rewind: replay interrupted at icount %llu (the recording goes on to %llu)\n",
                   (unsigned long long)outcome.icount, (unsigned long long)reader->last_icount());
      return 128 + (sig ? sig : 2);
    }
    if (to && replayer.reached_stop()) {
      print_position(*built.machine);
      return kExitOk;
    }
    // A seek past the end fails the same way for a complete and a cut trace.
    auto past_the_end = [&](const std::string& why) {
      std::fprintf(stderr, "rewind: the recording ends at icount %llu, before %llu%s\n",
                   (unsigned long long)outcome.icount, (unsigned long long)*to, why.c_str());
      return kExitBadInput;
    };
    std::string cut_note = " (the trace was cut short: byte " + std::to_string(reader->readable_end()) + " of " +
                           std::to_string(reader->file_size()) + " is the end of the readable part)";
    if (replayer.ran_out_of_trace()) {
      if (to) return past_the_end(cut_note);
      std::fprintf(stderr, "rewind: the trace ends at icount %llu%s\n", (unsigned long long)outcome.icount,
                   cut_note.c_str());
      return console->write_failed() ? kExitBadInput : kExitOk;
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
    const auto& recorded = std::get<traces::RunEnd>(end->data);
    traces::Digest final_digest = replay::compute_digest_like(recorded.final_digest, *built.machine);
    if (!recorded.final_digest.registers.empty() && final_digest != recorded.final_digest) {
      std::fprintf(stderr, "rewind: diverged at icount %llu: the final state differs (%s)\n",
                   (unsigned long long)outcome.icount,
                   replay::first_difference(recorded.final_digest, final_digest).c_str());
      return kExitDiverged;
    }
    if (to && outcome.icount == *to) {
      print_position(*built.machine);
      return kExitOk;
    }
    if (to) return past_the_end("");
    // Where the recording ended from outside the guest (the user quit, an
    // error of the recording rewind), the replay stopped there itself, with
    // the status that end implies (never one the trace merely claims).
    int status = exit_status_for(outcome);
    if (replayer.stopped_at_recorded_end())
      status = recorded.reason == traces::StopReason::kError ? kExitInternalError : kExitOk;
    if (recorded.exit_status != status) {
      std::fprintf(stderr, "rewind: diverged at icount %llu: expected exit status %d, got %d\n",
                   (unsigned long long)outcome.icount, recorded.exit_status, status);
      return kExitDiverged;
    }
    if (recorded.reason == traces::StopReason::kError)
      std::fprintf(stderr, "rewind: the recording ends at icount %llu: the rewind that made it stopped on an internal error\n",
                   (unsigned long long)outcome.icount);
    if (outcome.reason == core::StopReason::kShutdown)
      std::fprintf(stderr, "rewind: guest stopped: %s\n", outcome.detail.c_str());
    return console->write_failed() ? kExitBadInput : status;
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "rewind: %s\n", e.what());
    return kExitBadInput;
  }
}

}  // namespace rwd::tools
