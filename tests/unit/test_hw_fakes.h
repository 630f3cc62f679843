// Test doubles for device tests: an IrqSink that records levels and edges, a
// virtual clock driven by a test-owned instruction counter (firing timers as
// time passes, like the main loop), and a replay::Inputs with a fixed wall
// clock and a scripted console.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "core/irq.h"
#include "core/run_control.h"
#include "core/timer_queue.h"
#include "core/virtual_clock.h"
#include "replay/inputs.h"

namespace rwd::core {
// Lets BOOST_TEST print a StopReason in a failure message.
inline std::ostream& boost_test_print_type(std::ostream& os, StopReason reason) {
  return os << "StopReason(" << static_cast<int>(reason) << ")";
}
}  // namespace rwd::core

namespace rwd::hw::test {

class FakeIrqSink : public core::IrqSink {
 public:
  void set_irq(unsigned pin, bool level) override {
    if (level && !levels_[pin]) ++rising_edges_[pin];
    levels_[pin] = level;
  }
  bool level(unsigned pin) { return levels_[pin]; }
  unsigned rising_edges(unsigned pin) { return rising_edges_[pin]; }
  void clear_edges() { rising_edges_.clear(); }

 private:
  std::map<unsigned, bool> levels_;
  std::map<unsigned, unsigned> rising_edges_;
};

// Time is instructions (1 ns each); advancing fires due timers in order, at
// their deadlines, as core::Machine::run does.
class TestClock {
 public:
  uint64_t now() const { return clock.now_ns(); }
  void advance_to(uint64_t ns) {
    while (timers.next_deadline_ns() <= ns) {
      uint64_t deadline = timers.next_deadline_ns();
      if (deadline > icount) icount = deadline;
      timers.run_expired(icount);
    }
    if (ns > icount) icount = ns;
  }
  void advance(uint64_t ns) { advance_to(icount + ns); }

  uint64_t icount = 0;
  core::VirtualClock clock{&icount};
  core::TimerQueue timers;
};

class FakeInputs : public replay::Inputs, public replay::ByteSink {
 public:
  explicit FakeInputs(int64_t wall_ns = 0) : wall_ns_(wall_ns) {}

  int64_t start_wall_clock_ns() override {
    ++wall_clock_reads;
    return wall_ns_;
  }
  uint64_t random_u64() override { return 4; }
  replay::ByteSink& attach_console(unsigned index, replay::ByteReceiver* receiver) override {
    receivers[index] = receiver;
    return *this;
  }
  bool poll(uint64_t icount, uint64_t max_wait_ns) override {
    deliver();
    return !pending.empty();
  }
  replay::UserRequest take_user_request() override { return replay::UserRequest::kNone; }
  bool input_may_arrive() const override { return !pending.empty(); }

  // replay::ByteSink: console 0's output.
  void write(const uint8_t* data, size_t len) override { output.append(reinterpret_cast<const char*>(data), len); }

  // Queue console-0 input and deliver what the receiver accepts.
  void type(const std::string& text) {
    for (char c : text) pending.push_back(static_cast<uint8_t>(c));
    deliver();
  }
  void deliver() {
    replay::ByteReceiver* r = receivers[0];
    while (r && !pending.empty() && r->can_receive()) {
      r->receive(pending.front());
      pending.pop_front();
    }
  }

  std::map<unsigned, replay::ByteReceiver*> receivers;
  std::deque<uint8_t> pending;
  std::string output;
  int wall_clock_reads = 0;

 private:
  int64_t wall_ns_;
};

}  // namespace rwd::hw::test
