// How anything inside a running machine (a device, a vCPU) asks the main loop
// to stop, reset or exit, and reports diagnostics to the user. Requests take
// effect after the current instruction: vCPUs check stop_requested() after every
// instruction that can reach a device (port I/O, MMIO).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace rwd::core {

enum class StopReason : uint8_t {
  kNone,
  kGuestExit,    // the guest asked to end the run with a status (isa-debug-exit, power off)
  kReset,        // system reset (i8042 0xFE, triple fault without -no-reboot... see Machine)
  kShutdown,     // the CPU shut down: triple fault
  kUserQuit,     // the user asked to quit
};

class RunControl {
 public:
  void request_exit(int status) { set(StopReason::kGuestExit, status, {}); }
  void request_reset() { set(StopReason::kReset, 0, {}); }
  void request_shutdown(std::string why) { set(StopReason::kShutdown, 0, std::move(why)); }
  void request_user_quit() { set(StopReason::kUserQuit, 0, {}); }

  bool stop_requested() const { return reason_ != StopReason::kNone; }
  StopReason reason() const { return reason_; }
  int exit_status() const { return exit_status_; }
  const std::string& detail() const { return detail_; }
  void clear() { reason_ = StopReason::kNone; exit_status_ = 0; detail_.clear(); }

  // A message for the user (e.g. "no semantics for form X at RIP ...").
  void warn(const std::string& message) {
    if (warn_sink_) warn_sink_(message);
  }
  void set_warn_sink(std::function<void(const std::string&)> sink) { warn_sink_ = std::move(sink); }

 private:
  void set(StopReason reason, int status, std::string detail) {
    if (reason_ != StopReason::kNone) return;  // the first request wins
    reason_ = reason;
    exit_status_ = status;
    detail_ = std::move(detail);
  }

  StopReason reason_ = StopReason::kNone;
  int exit_status_ = 0;
  std::string detail_;
  std::function<void(const std::string&)> warn_sink_;
};

}  // namespace rwd::core
