#include "replay/host/host_inputs.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "core/machine.h"
#include "replay/host/host_signals.h"

namespace rwd::replay {

namespace {

struct termios g_saved_termios;

void restore_terminal() { tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios); }

// Raw input so each key reaches the guest as typed, as QEMU's -serial stdio
// does; ISIG stays on so Ctrl-C still asks rewind to quit. Returns false when
// stdin is not a terminal after all.
bool make_terminal_raw() {
  if (tcgetattr(STDIN_FILENO, &g_saved_termios) != 0) return false;
  host_signals::set_terminal_to_restore(STDIN_FILENO, &g_saved_termios);
  struct termios raw = g_saved_termios;
  raw.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  raw.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  tcsetattr(STDIN_FILENO, TCSANOW, &raw);
  return true;
}

}  // namespace

ConsoleSink::ConsoleSink(int fd, bool owned, std::string name) : fd_(fd), owned_(owned), name_(std::move(name)) {}

ConsoleSink::~ConsoleSink() {
  if (owned_ && fd_ >= 0) close(fd_);
}

void ConsoleSink::write(const uint8_t* data, size_t len) {
  while (len && fd_ >= 0 && !write_failed_ && !reader_gone_) {
    ssize_t n = ::write(fd_, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EPIPE) {
      reader_gone_ = true;  // `| head`: not an error, the reader has seen enough
      return;
    }
    if (n <= 0) {
      // Reported once; the guest goes on (its output is not an input), and
      // the command ends with a non-zero status.
      write_failed_ = true;
      std::fprintf(stderr, "rewind: writing the serial console to %s failed: %s (further output is dropped)\n",
                   name_.c_str(), n < 0 ? std::strerror(errno) : "nothing written");
      return;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
}

std::unique_ptr<ConsoleSink> open_console_sink(const core::SerialConfig& serial) {
  using Kind = core::SerialConfig::Kind;
  host_signals::install();  // SIGPIPE ignored: a closed pipe is an EPIPE the sink handles
  switch (serial.kind) {
    case Kind::kStdio:
      return std::make_unique<ConsoleSink>(STDOUT_FILENO, false, "standard output");
    case Kind::kFile: {
      int fd = open(serial.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0)
        throw std::runtime_error("cannot open serial output file '" + serial.path + "': " + std::strerror(errno));
      return std::make_unique<ConsoleSink>(fd, true, "'" + serial.path + "'");
    }
    case Kind::kNone:
      break;
  }
  return std::make_unique<ConsoleSink>(-1, false, "nowhere");
}

HostInputs::HostInputs(const core::SerialConfig& serial) {
  host_signals::install();
  console_out_ = open_console_sink(serial);
  if (serial.kind == core::SerialConfig::Kind::kStdio) input_fd_ = STDIN_FILENO;
  if (!serial.input_path.empty()) {
    // A FIFO blocks here until its writer opens it, as a user feeding the
    // console through one expects; a quit signal interrupts the wait.
    input_fd_ = open(serial.input_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (input_fd_ < 0)
      throw std::runtime_error("cannot open serial input file '" + serial.input_path + "': " + std::strerror(errno));
    owns_input_fd_ = true;
  }
  if (input_fd_ == STDIN_FILENO && isatty(STDIN_FILENO)) terminal_raw_ = make_terminal_raw();
  if (input_fd_ < 0) input_eof_ = true;
}

HostInputs::~HostInputs() {
  if (owns_input_fd_) close(input_fd_);
  if (terminal_raw_) {
    restore_terminal();
    host_signals::set_terminal_to_restore(-1, nullptr);
  }
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
  static ConsoleSink nowhere(-1, false, "nowhere");
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
  bool want_input = !input_eof_ && console_in_ && pending_.empty();
  // Waiting forever makes sense only while input may come; a signal always
  // ends a wait (the self-pipe), so does input.
  bool wait = max_wait_ns && pending_.empty() && !host_signals::quit_pending() &&
              (want_input || max_wait_ns != core::Machine::kWaitForever);
  if (!want_input && !wait) return input_may_arrive();
  struct pollfd fds[2] = {{host_signals::wake_fd(), POLLIN, 0}, {want_input ? input_fd_ : -1, POLLIN, 0}};
  // An idle guest is paced for at most a second per halt.
  uint64_t wait_ns = !wait ? 0 : std::min<uint64_t>(max_wait_ns, 1000000000);
  struct timespec timeout {static_cast<time_t>(wait_ns / 1000000000), static_cast<long>(wait_ns % 1000000000)};
  bool forever = wait && max_wait_ns == core::Machine::kWaitForever;
  int r = ::ppoll(fds, 2, forever ? nullptr : &timeout, nullptr);
  if (r > 0 && want_input) {
    if (fds[1].revents & POLLNVAL) input_eof_ = true;
    else if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) read_available();
    deliver_buffered();
  }
  return input_may_arrive();
}

UserRequest HostInputs::take_user_request() {
  if (host_signals::take_quit()) return UserRequest::kQuit;
  if (console_out_->reader_gone() && !reader_gone_reported_) {
    reader_gone_reported_ = true;
    return UserRequest::kQuit;
  }
  return UserRequest::kNone;
}

bool HostInputs::input_may_arrive() const {
  return !pending_.empty() || (!input_eof_ && console_in_ != nullptr) || host_signals::quit_pending() ||
         (console_out_->reader_gone() && !reader_gone_reported_);
}

}  // namespace rwd::replay
