// Entry points of the `rewind` subcommands; each returns the process exit status.
#pragma once

#include <string>
#include <vector>

namespace rwd::tools {

int run_command(const std::vector<std::string>& args);
int record_command(const std::vector<std::string>& args);
int replay_command(const std::vector<std::string>& args);
int trace_command(const std::vector<std::string>& args);

}  // namespace rwd::tools
