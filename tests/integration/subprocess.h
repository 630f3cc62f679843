// Running the `rewind` binary the way a user does, from integration tests:
// argv in, exit status and captured stdout/stderr out, with a watchdog so a
// hang fails the test instead of stalling the suite.
#pragma once

#include <string>
#include <vector>

namespace rwd::testing {

struct ProcessResult {
  int exit_status = -1;     // the process's exit status, or 128+signal
  bool timed_out = false;
  std::string out;          // stdout
  std::string err;          // stderr
  double seconds = 0;
};

// stdin_data is written to the child's stdin, which is then closed.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data = {},
                          double timeout_seconds = 120);

// build/bin/rewind
std::string rewind_binary();
// build/guests/NAME.elf
std::string guest_path(const std::string& name);

}  // namespace rwd::testing
