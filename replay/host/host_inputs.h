// Pass-through Inputs: the live host. The only code (with the rest of
// replay/host/) that reads the host clock, the terminal, files given as guest
// input, or host randomness. Everything is touched lazily, so a run that never
// asks (and later a replay) never touches the host at all.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/machine_config.h"
#include "replay/inputs.h"

namespace rwd::replay {

// Where a console's output goes on the host: stdout, a file, or nowhere.
// A write error is reported once on stderr and remembered (the run then ends
// with a non-zero status); a reader that went away (EPIPE: `rewind ... |
// head`) is remembered quietly, and the run ends as if the user had quit.
class ConsoleSink final : public ByteSink {
 public:
  ConsoleSink(int fd, bool owned, std::string name);
  ~ConsoleSink() override;
  void write(const uint8_t* data, size_t len) override;

  bool write_failed() const { return write_failed_; }
  bool reader_gone() const { return reader_gone_; }

 private:
  int fd_;
  bool owned_;
  std::string name_;
  bool write_failed_ = false;
  bool reader_gone_ = false;
};

// Opens a console's host end from -serial (stdout, a file created or
// truncated, or nowhere). Throws std::runtime_error naming an unwritable path.
std::unique_ptr<ConsoleSink> open_console_sink(const core::SerialConfig& serial);

class HostInputs : public Inputs {
 public:
  // Throws std::runtime_error with a one-line message when a file cannot be opened.
  explicit HostInputs(const core::SerialConfig& serial);
  ~HostInputs() override;

  int64_t start_wall_clock_ns() override;
  uint64_t random_u64() override;
  ByteSink& attach_console(unsigned index, ByteReceiver* receiver) override;
  bool poll(uint64_t icount, uint64_t max_wait_ns) override;
  // A quit signal, or the console's reader gone, is a request to quit.
  UserRequest take_user_request() override;
  bool input_may_arrive() const override;

  const ConsoleSink& console() const { return *console_out_; }

 private:
  void deliver_buffered();
  void read_available();

  std::optional<int64_t> start_wall_clock_ns_;
  std::unique_ptr<ConsoleSink> console_out_;
  ByteReceiver* console_in_ = nullptr;
  int input_fd_ = -1;            // -1: no console input
  bool owns_input_fd_ = false;
  bool input_eof_ = false;
  bool terminal_raw_ = false;
  bool reader_gone_reported_ = false;
  std::vector<uint8_t> pending_;  // read from the host, not yet accepted by the guest
  size_t pending_pos_ = 0;
};

}  // namespace rwd::replay
