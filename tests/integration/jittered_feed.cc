#include "tests/integration/jittered_feed.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <random>
#include <thread>

namespace rwd::testing {

namespace {

void close_fd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Writes `input` to `fd` one byte at a time, sleeping a random gap before each
// byte, then closes `fd`. Stops early when `stop` is set or the reader is gone.
void feed(int fd, const std::string& input, JitterOptions jitter, const std::atomic<bool>& stop) {
  std::mt19937_64 rng(jitter.seed);
  std::uniform_int_distribution<unsigned> gap(0, jitter.max_gap_us);
  std::uniform_int_distribution<unsigned> pause(jitter.pause_min_us, std::max(jitter.pause_min_us, jitter.pause_max_us));
  std::uniform_int_distribution<unsigned> one_in(1, std::max(1u, jitter.pause_one_in));
  for (char c : input) {
    if (stop.load()) break;
    unsigned us = gap(rng);
    if (jitter.pause_one_in && one_in(rng) == 1) us += pause(rng);
    std::this_thread::sleep_for(std::chrono::microseconds(us));
    ssize_t n;
    do n = write(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) break;  // the child closed its stdin or died
  }
  close(fd);
}

}  // namespace

ProcessResult run_process_jittered(const std::vector<std::string>& argv, const std::string& input,
                                   const JitterOptions& jitter, double timeout_seconds) {
  ProcessResult result;
  int to_child[2] = {-1, -1}, from_out[2] = {-1, -1}, from_err[2] = {-1, -1};
  if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_out, O_CLOEXEC) != 0 || pipe2(from_err, O_CLOEXEC) != 0) {
    for (int* p : {to_child, from_out, from_err}) {
      close_fd(p[0]);
      close_fd(p[1]);
    }
    result.err = "run_process_jittered: pipe2 failed";
    return result;
  }
  // A child that exits before reading everything must not kill us.
  signal(SIGPIPE, SIG_IGN);
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(to_child[0], STDIN_FILENO);
    dup2(from_out[1], STDOUT_FILENO);
    dup2(from_err[1], STDERR_FILENO);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close_fd(to_child[0]);
  close_fd(from_out[1]);
  close_fd(from_err[1]);
  if (pid < 0) {
    close_fd(to_child[1]);
    close_fd(from_out[0]);
    close_fd(from_err[0]);
    result.err = "run_process_jittered: fork failed";
    return result;
  }

  std::atomic<bool> stop{false};
  std::thread feeder;
  if (input.empty()) {
    close_fd(to_child[1]);
  } else {
    int fd = to_child[1];
    to_child[1] = -1;  // the feeder owns and closes it
    feeder = std::thread(feed, fd, std::cref(input), jitter, std::cref(stop));
  }

  int fds[2] = {from_out[0], from_err[0]};
  std::string* sinks[2] = {&result.out, &result.err};
  char buf[16384];
  while (fds[0] >= 0 || fds[1] >= 0) {
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed > timeout_seconds) {
      kill(pid, SIGKILL);
      result.timed_out = true;
      break;
    }
    pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
    int ready = poll(p, 2, 50);
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i], buf, sizeof buf);
      if (n > 0)
        sinks[i]->append(buf, size_t(n));
      else if (n == 0 || errno != EINTR)
        close_fd(fds[i]);
    }
  }
  close_fd(fds[0]);
  close_fd(fds[1]);
  stop = true;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  // The child is gone, so the feeder's next write fails at once.
  if (feeder.joinable()) feeder.join();
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace rwd::testing
