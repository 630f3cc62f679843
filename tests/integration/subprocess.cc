#include "tests/integration/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace rwd::testing {

std::string rewind_binary() {
  if (const char* other = std::getenv("REWIND_BINARY"); other && *other) return other;
  return std::string(REWIND_BINARY_DIR) + "/bin/rewind";
}

std::string guest_path(const std::string& name) { return std::string(REWIND_BINARY_DIR) + "/guests/" + name + ".elf"; }

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data,
                          double timeout_seconds) {
  ProcessOptions options;
  options.argv = argv;
  options.stdin_data = stdin_data;
  options.timeout_seconds = timeout_seconds;
  return run_process(options);
}

namespace {

bool same_modes(const struct termios& a, const struct termios& b) {
  return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag && a.c_lflag == b.c_lflag && a.c_cflag == b.c_cflag &&
         std::memcmp(a.c_cc, b.c_cc, sizeof a.c_cc) == 0;
}

}  // namespace

ProcessResult run_process(const ProcessOptions& options) {
  using Clock = std::chrono::steady_clock;
  ProcessResult result;
  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2];
  int pty_master = -1, pty_slave = -1;
  struct termios before {};
  if (pipe2(err_pipe, O_CLOEXEC)) return result;
  if (options.use_pty) {
    if (openpty(&pty_master, &pty_slave, nullptr, nullptr, nullptr) != 0) return result;
    fcntl(pty_master, F_SETFD, FD_CLOEXEC);
    tcgetattr(pty_slave, &before);
  } else if (pipe2(in_pipe, O_CLOEXEC) || pipe2(out_pipe, O_CLOEXEC)) {
    return result;
  }
  auto start = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    if (options.use_pty) {
      setsid();
      ioctl(pty_slave, TIOCSCTTY, 0);
      dup2(pty_slave, 0);
      dup2(pty_slave, 1);
    } else {
      dup2(in_pipe[0], 0);
      dup2(out_pipe[1], 1);
    }
    dup2(err_pipe[1], 2);
    if (options.address_space_limit) {
      struct rlimit limit {options.address_space_limit, options.address_space_limit};
      setrlimit(RLIMIT_AS, &limit);
    }
    if (!options.working_directory.empty() && chdir(options.working_directory.c_str()) != 0) _exit(126);
    std::vector<char*> args;
    for (const std::string& a : options.argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(err_pipe[1]);
  int out_fd, in_fd;
  if (options.use_pty) {
    out_fd = pty_master;
    in_fd = options.stdin_data.empty() && options.dialogue.empty() ? -1 : pty_master;
  } else {
    close(in_pipe[0]);
    close(out_pipe[1]);
    out_fd = out_pipe[0];
    in_fd = in_pipe[1];
  }
  signal(SIGPIPE, SIG_IGN);
  size_t written = 0;
  std::string pending = options.stdin_data;
  size_t exchange = 0, search_from = 0;
  auto dialogue_done = [&] { return exchange == options.dialogue.size(); };
  auto close_input = [&] {
    if (!options.use_pty && in_pipe[1] >= 0) close(in_pipe[1]);
    in_pipe[1] = -1;
    in_fd = -1;
  };
  if (pending.empty() && dialogue_done() && !options.keep_stdin_open) close_input();
  if (in_fd >= 0 && !options.use_pty) fcntl(in_fd, F_SETFL, O_NONBLOCK);
  bool out_open = true, err_open = true;
  Clock::time_point signal_time;
  char buf[65536];
  int status = 0;
  bool reaped = false;
  struct rusage usage {};
  while (!reaped) {
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (elapsed > options.timeout_seconds) {
      kill(pid, SIGKILL);
      result.timed_out = true;
    }
    if (options.signal && !result.signal_sent && elapsed >= options.signal_after_seconds &&
        (options.signal_after_output.empty() || result.out.find(options.signal_after_output) != std::string::npos)) {
      signal_time = Clock::now();
      kill(pid, options.signal);
      result.signal_sent = true;
    }
    for (size_t at; !dialogue_done() && (at = result.out.find(options.dialogue[exchange].expect, search_from)) !=
                                          std::string::npos;) {
      pending += options.dialogue[exchange].send;
      search_from = at + options.dialogue[exchange].expect.size();
      ++exchange;
    }
    bool want_write = in_fd >= 0 && written < pending.size();
    struct pollfd fds[3] = {{out_open ? out_fd : -1, POLLIN, 0},
                            {err_open ? err_pipe[0] : -1, POLLIN, 0},
                            {want_write ? in_fd : -1, POLLOUT, 0}};
    if (poll(fds, 3, 5) < 0 && errno != EINTR) break;
    if (want_write && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = write(in_fd, pending.data() + written, pending.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN) written = pending.size();
      if (written == pending.size() && dialogue_done() && !options.keep_stdin_open) close_input();
    }
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
      else (i == 0 ? out_open : err_open) = false;
      if (i == 0 && out_open && options.close_stdout_after && result.out.size() >= options.close_stdout_after &&
          !options.use_pty) {
        close(out_fd);
        out_fd = -1;
        out_open = false;
      }
    }
    // A pty's master never sees end-of-file while the slave is open here, so
    // the child's exit is what ends the loop.
    if (wait4(pid, &status, WNOHANG, &usage) == pid) reaped = true;
  }
  if (result.signal_sent) result.signal_to_exit_seconds = std::chrono::duration<double>(Clock::now() - signal_time).count();
  // Whatever is still buffered.
  for (int fd : {out_fd, err_pipe[0]}) {
    if (fd < 0) continue;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) (fd == out_fd ? result.out : result.err).append(buf, size_t(n));
  }
  if (options.use_pty) {
    struct termios after {};
    tcgetattr(pty_slave, &after);
    result.terminal_restored = same_modes(before, after);
    close(pty_slave);
    close(pty_master);
  } else {
    close_input();
    if (out_fd >= 0) close(out_fd);
  }
  close(err_pipe[0]);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.signaled = WIFSIGNALED(status);
  result.peak_rss_bytes = uint64_t(usage.ru_maxrss) * 1024;
  result.cpu_seconds = double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace rwd::testing
