// `rewind trace info|dump FILE [--json]`: look inside a trace without running it.
#include <cstdio>

#include "tools/cli_options.h"
#include "tools/exit_status.h"
#include "tools/subcommands.h"
#include "traces/trace_info.h"
#include "traces/trace_reader.h"

namespace rwd::tools {

namespace {

const char kTraceHelp[] =
    "usage: rewind trace info FILE.rwt [--json]   configuration, length, events by kind,\n"
    "                                              checkpoints, sizes raw and compressed\n"
    "       rewind trace dump FILE.rwt [--json]   one event per line\n";

}  // namespace

int trace_command(const std::vector<std::string>& args) {
  try {
    std::string verb, path;
    bool json = false;
    for (const std::string& a : args) {
      if (a == "--help" || a == "-h") {
        std::fputs(kTraceHelp, stdout);
        return kExitOk;
      }
      if (a == "--json") json = true;
      else if (!a.empty() && a[0] == '-') throw UsageError("unknown option '" + a + "' (see rewind trace --help)");
      else if (verb.empty()) verb = a;
      else if (path.empty()) path = a;
      else throw UsageError("unexpected argument '" + a + "'");
    }
    if (verb != "info" && verb != "dump")
      throw UsageError(verb.empty() ? "trace: expected info or dump (see rewind trace --help)"
                                    : "trace: unknown subcommand '" + verb + "' (expected info or dump)");
    if (path.empty()) throw UsageError("trace " + verb + ": a trace file is required");
    std::unique_ptr<traces::TraceReader> reader = traces::TraceReader::open(path);
    if (verb == "info") {
      traces::TraceSummary summary = traces::summarize(*reader, path);
      std::puts((json ? traces::to_json(summary) : traces::to_text(summary)).c_str());
      return kExitOk;
    }
    while (std::optional<traces::Event> e = reader->next())
      std::puts((json ? traces::to_json(*e) : traces::to_text(*e)).c_str());
    if (reader->truncated())
      std::fprintf(stderr, "rewind: %s was cut short: its readable part ends at byte %llu of %llu\n", path.c_str(),
                   (unsigned long long)reader->readable_end(), (unsigned long long)reader->file_size());
    return kExitOk;
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "rewind: %s\n", e.what());
    return kExitBadInput;
  }
}

}  // namespace rwd::tools
