#include "replay/host/host_signals.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>

#include "core/run_control.h"

namespace rwd::replay::host_signals {

namespace {

// Everything the handlers touch is a lock-free atomic or written before the
// handlers are installed.
std::atomic<bool> g_installed{false};
int g_pipe[2] = {-1, -1};
std::atomic<bool> g_quit_pending{false};
std::atomic<int> g_unhandled{0};
std::atomic<int> g_first_signal{0};
std::atomic<core::RunControl*> g_watched{nullptr};

std::atomic<bool> g_terminal_saved{false};
int g_terminal_fd = -1;
struct termios g_terminal_state;

void restore_terminal() {
  if (g_terminal_saved.load()) tcsetattr(g_terminal_fd, TCSANOW, &g_terminal_state);
}

void write_stderr(const char* text) {
  size_t n = 0;
  while (text[n]) ++n;
  ssize_t ignored = ::write(STDERR_FILENO, text, n);
  (void)ignored;
}

void on_quit_signal(int sig) {
  int saved_errno = errno;
  int none = 0;
  g_first_signal.compare_exchange_strong(none, sig);
  g_quit_pending = true;
  if (core::RunControl* rc = g_watched.load()) rc->request_attention(core::attention::kHost);
  char byte = 1;
  ssize_t ignored = ::write(g_pipe[1], &byte, 1);  // non-blocking: a full pipe is already readable
  (void)ignored;
  if (++g_unhandled >= 3) {
    restore_terminal();
    write_stderr("\nrewind: interrupted three times: exiting at once (a trace being written ends at its last whole frame)\n");
    _exit(128 + sig);
  }
  errno = saved_errno;
}

void on_fatal_signal(int sig) {
  restore_terminal();
  signal(sig, SIG_DFL);
  raise(sig);
}

}  // namespace

void install() {
  if (g_installed.exchange(true)) return;
  if (pipe2(g_pipe, O_NONBLOCK | O_CLOEXEC) != 0) g_pipe[0] = g_pipe[1] = -1;
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  // In-process fuzzers (tests/fuzz) keep their own handlers: libFuzzer's for
  // Ctrl-C and timeouts, the sanitizers' for crashes.
  return;
#endif
  std::atexit(restore_terminal);
  struct sigaction quit {};
  quit.sa_handler = on_quit_signal;
  sigemptyset(&quit.sa_mask);
  // No SA_RESTART: a blocking read or poll returns EINTR, but every wait also
  // watches the self-pipe, so none depends on it.
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &quit, nullptr);
  struct sigaction fatal {};
  fatal.sa_handler = on_fatal_signal;
  sigemptyset(&fatal.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) sigaction(sig, &fatal, nullptr);
  // A closed pipe on the console is an error the writer handles, not a death.
  signal(SIGPIPE, SIG_IGN);
}

Watch::Watch(core::RunControl& run_control) {
  install();
  g_watched = &run_control;
  // A signal that arrived while no machine was running still counts.
  if (g_quit_pending) run_control.request_attention(core::attention::kHost);
}

Watch::~Watch() { g_watched = nullptr; }

bool take_quit() {
  if (!g_quit_pending.exchange(false)) return false;
  g_unhandled = 0;
  char buf[64];
  while (g_pipe[0] >= 0 && ::read(g_pipe[0], buf, sizeof buf) > 0) {
  }
  return true;
}

bool quit_pending() { return g_quit_pending.load(); }

int first_quit_signal() { return g_first_signal.load(); }

int wake_fd() { return g_pipe[0]; }

void set_terminal_to_restore(int fd, const struct termios* saved) {
  g_terminal_saved = false;
  if (!saved) return;
  g_terminal_fd = fd;
  g_terminal_state = *saved;
  g_terminal_saved = true;
}

}  // namespace rwd::replay::host_signals
