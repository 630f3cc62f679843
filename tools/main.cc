// `rewind`: the command line. Each subcommand lives in its own file.
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "tools/exit_status.h"
#include "tools/subcommands.h"

namespace {

const char kUsage[] =
    "usage: rewind <command> [options]\n"
    "\n"
    "rewind is a deterministic x86-64 PC emulator.\n"
    "\n"
    "commands:\n"
    "  run      boot a guest under rewind's interpreter (QEMU-style flags)\n"
    "  record   run and record every input into a trace (-o FILE.rwt)\n"
    "  replay   re-run a recorded trace bit-exactly\n"
    "  trace    show a trace's contents: trace info FILE, trace dump FILE\n"
    "\n"
    "rewind <command> --help shows a command's options.\n";

}  // namespace

namespace {

int dispatch(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(kUsage, stderr);
    return rwd::tools::kExitBadInput;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, stdout);
    return rwd::tools::kExitOk;
  }
  if (command == "--version") {
    std::puts("rewind 0.1");
    return rwd::tools::kExitOk;
  }
  if (command == "run") return rwd::tools::run_command(args);
  if (command == "record") return rwd::tools::record_command(args);
  if (command == "replay") return rwd::tools::replay_command(args);
  if (command == "trace") return rwd::tools::trace_command(args);
  std::fprintf(stderr, "rewind: unknown command '%s' (see rewind --help)\n", command.c_str());
  return rwd::tools::kExitBadInput;
}

}  // namespace

// Every command reports the errors a user can cause itself (status 2); what
// reaches here is rewind's own failure, reported in one line all the same.
int main(int argc, char** argv) {
  try {
    return dispatch(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "rewind: internal error: out of host memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rewind: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "rewind: internal error: unexpected exception\n");
  }
  return rwd::tools::kExitInternalError;
}
