#include "replay/host/host_inputs.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace rwd::replay {

namespace {

std::atomic<bool> g_quit_requested{false};
struct termios g_saved_termios;
bool g_termios_saved = false;

void restore_terminal() {
  if (g_termios_saved) tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
}

void on_quit_signal(int) { g_quit_requested = true; }

// Raw input so each key reaches the guest as typed, as QEMU's -serial stdio
// does; ISIG stays on so Ctrl-C still asks rewind to quit.
void make_terminal_raw() {
  if (tcgetattr(STDIN_FILENO, &g_saved_termios) != 0) return;
  g_termios_saved = true;
  std::atexit(restore_terminal);
  struct termios raw = g_saved_termios;
  raw.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  raw.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  tcsetattr(STDIN_FILENO, TCSANOW, &raw);
}

void install_quit_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_quit_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
}

}  // namespace

class HostInputs::FdSink : public ByteSink {
 public:
  FdSink(int fd, bool owned) : fd_(fd), owned_(owned) {}
  ~FdSink() override {
    if (owned_ && fd_ >= 0) close(fd_);
  }
  void write(const uint8_t* data, size_t len) override {
    while (len && fd_ >= 0) {
      ssize_t n = ::write(fd_, data, len);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // a closed pipe must not stop the guest
      data += n;
      len -= static_cast<size_t>(n);
    }
  }

 private:
  int fd_;
  bool owned_;
};

std::unique_ptr<ByteSink> open_console_sink(const core::SerialConfig& serial) {
  using Kind = core::SerialConfig::Kind;
  signal(SIGPIPE, SIG_IGN);
  switch (serial.kind) {
    case Kind::kStdio:
      return std::make_unique<HostInputs::FdSink>(STDOUT_FILENO, false);
    case Kind::kFile: {
      int fd = open(serial.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0)
        throw std::runtime_error("cannot open serial output file '" + serial.path + "': " + std::strerror(errno));
      return std::make_unique<HostInputs::FdSink>(fd, true);
    }
    case Kind::kNone:
      break;
  }
  return std::make_unique<HostInputs::FdSink>(-1, false);
}

HostInputs::HostInputs(const core::SerialConfig& serial) {
  install_quit_handlers();
  console_out_ = open_console_sink(serial);
  if (serial.kind == core::SerialConfig::Kind::kStdio) input_fd_ = STDIN_FILENO;
  if (!serial.input_path.empty()) {
    input_fd_ = open(serial.input_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (input_fd_ < 0)
      throw std::runtime_error("cannot open serial input file '" + serial.input_path + "': " + std::strerror(errno));
    owns_input_fd_ = true;
  }
  if (input_fd_ == STDIN_FILENO && isatty(STDIN_FILENO)) {
    make_terminal_raw();
    terminal_raw_ = true;
  }
  if (input_fd_ < 0) input_eof_ = true;
}

HostInputs::~HostInputs() {
  if (owns_input_fd_) close(input_fd_);
  if (terminal_raw_) restore_terminal();
}

int64_t HostInputs::start_wall_clock_ns() {
  if (!start_wall_clock_ns_) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    start_wall_clock_ns_ = int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  }
  return *start_wall_clock_ns_;
}

uint64_t HostInputs::random_u64() {
  uint64_t v = 0;
  size_t got = 0;
  while (got < sizeof v) {
    ssize_t n = getrandom(reinterpret_cast<uint8_t*>(&v) + got, sizeof v - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  return v;
}

ByteSink& HostInputs::attach_console(unsigned index, ByteReceiver* receiver) {
  // One serial port is wired to the host for now; others are silent.
  if (index == 0) {
    console_in_ = receiver;
    return *console_out_;
  }
  static FdSink nowhere(-1, false);
  return nowhere;
}

void HostInputs::deliver_buffered() {
  while (console_in_ && pending_pos_ < pending_.size() && console_in_->can_receive())
    console_in_->receive(pending_[pending_pos_++]);
  if (pending_pos_ == pending_.size()) {
    pending_.clear();
    pending_pos_ = 0;
  }
}

void HostInputs::read_available() {
  uint8_t buf[256];
  ssize_t n = read(input_fd_, buf, sizeof buf);
  if (n > 0) {
    pending_.insert(pending_.end(), buf, buf + n);
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    input_eof_ = true;
  }
}

bool HostInputs::poll(uint64_t /*icount*/, uint64_t max_wait_ns) {
  deliver_buffered();
  // Read more only once the guest has taken what we hold: the host pipe is the
  // flow control, so a slow guest loses nothing.
  if (!input_eof_ && console_in_ && pending_.empty()) {
    struct pollfd pfd {input_fd_, POLLIN, 0};
    int timeout_ms = max_wait_ns == ~0ull ? -1 : static_cast<int>(std::min<uint64_t>(max_wait_ns / 1000000, 1000));
    int r = ::poll(&pfd, 1, timeout_ms);
    if (r > 0) {
      if (pfd.revents & POLLNVAL) input_eof_ = true;
      else if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) read_available();
      deliver_buffered();
    }
  } else if (max_wait_ns && pending_.empty() && !g_quit_requested) {
    // Nothing can arrive but a signal; an idle guest with a timer is paced.
    if (max_wait_ns != ~0ull) {
      struct timespec ts {static_cast<time_t>(max_wait_ns / 1000000000), static_cast<long>(max_wait_ns % 1000000000)};
      nanosleep(&ts, nullptr);
    }
  }
  return input_may_arrive();
}

UserRequest HostInputs::take_user_request() {
  return g_quit_requested.exchange(false) ? UserRequest::kQuit : UserRequest::kNone;
}

bool HostInputs::input_may_arrive() const {
  return !pending_.empty() || (!input_eof_ && console_in_ != nullptr) || g_quit_requested;
}

}  // namespace rwd::replay
