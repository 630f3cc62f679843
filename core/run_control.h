// How anything inside a running machine (a device, a vCPU) asks the main loop
// to stop, reset or exit, and reports diagnostics to the user. Requests take
// effect after the current instruction: vCPUs check stop_requested() after every
// instruction that can reach a device (port I/O, MMIO).
//
// Attention is the lighter request: the vCPU returns to the main loop at its
// next check (every block end and every REP iteration) without ending the
// run, so the loop can fire a timer armed earlier than the running budget
// allowed for, hand out input, or notice a host signal. It is the only part
// of RunControl that may be touched asynchronously (from a signal handler).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace rwd::core {

enum class StopReason : uint8_t {
  kNone,
  kGuestExit,    // the guest asked to end the run with a status (isa-debug-exit, power off)
  kReset,        // system reset (i8042 0xFE, triple fault without -no-reboot... see Machine)
  kShutdown,     // the CPU shut down: triple fault
  kUserQuit,     // the user asked to quit
  kDebugTrap,    // a debugger's breakpoint or step (Machine::debug_traps): the run may go on
};

// Why the main loop's attention was asked for (bits, combined).
namespace attention {
// Something the running budget was computed from changed under guest
// control (a timer armed, an input consumed mid-instruction): deterministic.
inline constexpr uint8_t kReplan = 1;
// The host has something for the run (a quit signal): poll inputs now.
inline constexpr uint8_t kHost = 2;
}  // namespace attention

class RunControl {
 public:
  void request_exit(int status) { set(StopReason::kGuestExit, status, {}); }
  void request_reset() { set(StopReason::kReset, 0, {}); }
  void request_shutdown(std::string why) { set(StopReason::kShutdown, 0, std::move(why)); }
  void request_user_quit() { set(StopReason::kUserQuit, 0, {}); }
  void request_debug_trap() { set(StopReason::kDebugTrap, 0, {}); }

  bool stop_requested() const { return reason_ != StopReason::kNone; }
  StopReason reason() const { return reason_; }
  int exit_status() const { return exit_status_; }
  const std::string& detail() const { return detail_; }
  void clear() { reason_ = StopReason::kNone; exit_status_ = 0; detail_.clear(); }

  // Async-signal-safe (a lock-free atomic or).
  void request_attention(uint8_t why) { attention_.fetch_or(why, std::memory_order_relaxed); }
  bool attention_requested() const { return attention_.load(std::memory_order_relaxed) != 0; }
  uint8_t take_attention() { return attention_.exchange(0, std::memory_order_relaxed); }

  // A message for the user (e.g. "no semantics for form X at RIP ..."). A
  // message with a `key` is shown the first time only and counted after that,
  // so a guest repeating a mistake cannot flood the terminal; report_repeats()
  // prints the counts at the end of the run.
  void warn(const std::string& message) {
    if (warn_sink_) warn_sink_(message);
  }
  void warn_once(const std::string& key, const std::string& message) {
    if (++repeats_[key] == 1) warn(message);
  }
  void report_repeats() {
    for (const auto& [key, count] : repeats_)
      if (count > 1) warn(key + ": repeated " + std::to_string(count) + " times in all");
    repeats_.clear();
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
  std::atomic<uint8_t> attention_{0};
  static_assert(std::atomic<uint8_t>::is_always_lock_free);
  std::function<void(const std::string&)> warn_sink_;
  std::map<std::string, uint64_t> repeats_;
};

}  // namespace rwd::core
