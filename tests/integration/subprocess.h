// Running the `rewind` binary the way a user does, from integration tests:
// argv in, exit status and captured stdout/stderr out, with a watchdog so a
// hang fails the test instead of stalling the suite. The extended form also
// puts the child on a pseudo-terminal, sends it a signal, limits its address
// space and reports its peak memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rwd::testing {

struct ProcessResult {
  int exit_status = -1;     // the process's exit status, or 128+signal
  bool signaled = false;    // killed by a signal (exit_status is then 128+signal)
  bool timed_out = false;
  std::string out;          // stdout (the terminal's output with use_pty)
  std::string err;          // stderr
  double seconds = 0;
  double signal_to_exit_seconds = -1;  // when a signal was sent
  bool signal_sent = false;
  uint64_t peak_rss_bytes = 0;         // the child's maximum resident set
  double cpu_seconds = 0;              // the child's user + system time
  bool terminal_restored = true;       // use_pty: the terminal's modes after exit equal those before
};

struct ProcessOptions {
  std::vector<std::string> argv;
  std::string stdin_data;       // written to stdin, which is then closed...
  // ...after this dialogue: each `send` is written once stdout shows its
  // `expect` after the previous one's (a user typing at prompts)...
  struct Exchange {
    std::string expect;
    std::string send;
  };
  std::vector<Exchange> dialogue;
  bool keep_stdin_open = false; // ...unless this is set (input may still come)
  bool use_pty = false;         // stdin and stdout on a new pseudo-terminal
  double timeout_seconds = 120;
  int signal = 0;               // sent once when both conditions below hold
  double signal_after_seconds = 0;
  std::string signal_after_output;  // stdout has shown this text
  uint64_t address_space_limit = 0;  // RLIMIT_AS of the child, bytes; 0 = none
  std::string working_directory;
  // Close our end of the child's stdout once this many bytes arrived, as
  // `| head -c N` does (0: read everything).
  size_t close_stdout_after = 0;
};

// stdin_data is written to the child's stdin, which is then closed.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data = {},
                          double timeout_seconds = 120);
ProcessResult run_process(const ProcessOptions& options);

// build/bin/rewind, or $REWIND_BINARY (to run the tests against another build).
std::string rewind_binary();
// build/guests/NAME.elf
std::string guest_path(const std::string& name);

}  // namespace rwd::testing
