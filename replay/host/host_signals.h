// The process's signals. Quit signals (SIGINT, SIGTERM, SIGHUP) never kill
// rewind outright: the handler notes the signal, writes a byte to a
// self-pipe (so a poll() waiting for console input or pacing an idle guest
// wakes at once) and asks the watched machine's RunControl for attention (so
// a running vCPU returns to the main loop within a block). The run then ends
// through its normal path: trace finalised, terminal restored. A third quit
// signal before the first was handled exits at once, for a rewind that is
// stuck. Fatal signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) restore the
// terminal before the process dies.
#pragma once

#include <termios.h>

namespace rwd::core {
class RunControl;
}

namespace rwd::replay::host_signals {

// Installs the handlers and the self-pipe; idempotent.
void install();

// The machine whose vCPU a quit signal should reach; the previous one is
// forgotten. Watch lives as long as the machine.
class Watch {
 public:
  explicit Watch(core::RunControl& run_control);
  ~Watch();
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;
};

// True once for each quit signal received (consumes it).
bool take_quit();
bool quit_pending();
// The first quit signal received since install(), or 0.
int first_quit_signal();

// Readable while a quit signal is pending: add it to a poll() set.
int wake_fd();

// The terminal state to put back on every exit path, fatal signals included
// (the saved state of a terminal rewind made raw); nullptr to forget it.
void set_terminal_to_restore(int fd, const struct termios* saved);

}  // namespace rwd::replay::host_signals
