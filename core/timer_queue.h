// A deterministic timer queue on the virtual clock. Timers with equal deadlines
// fire in the order they were armed, so a run's event order never depends on
// container internals or host state.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/snapshot.h"

namespace rwd::core {

class TimerQueue;

class Timer {
 public:
  Timer(TimerQueue& queue, std::string name, std::function<void()> callback);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm(uint64_t deadline_ns);  // re-arming replaces the old deadline
  void cancel();
  bool armed() const { return armed_; }
  uint64_t deadline_ns() const { return deadline_ns_; }
  const std::string& name() const { return name_; }

  // For the owner's checkpoint state: armed, deadline and arm order, so ties
  // resolve after a restore exactly as they did in the original run.
  void save(StateWriter& out) const;
  void load(StateReader& in);

 private:
  friend class TimerQueue;
  TimerQueue& queue_;
  std::string name_;
  std::function<void()> callback_;
  uint64_t deadline_ns_ = 0;
  uint64_t arm_sequence_ = 0;
  bool armed_ = false;
};

class TimerQueue {
 public:
  static constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

  uint64_t next_deadline_ns() const;
  // Fire every timer whose deadline is <= now_ns, earliest first (ties in arm
  // order). A callback may re-arm its own or other timers.
  void run_expired(uint64_t now_ns);

  // Told of every arm(), with the new deadline: the main loop uses it to
  // notice a deadline earlier than the budget the vCPU is running with.
  void set_arm_listener(std::function<void(uint64_t deadline_ns)> listener) { on_arm_ = std::move(listener); }

  void save(StateWriter& out) const { out.u64(next_sequence_); }
  void load(StateReader& in) { next_sequence_ = in.u64(); }

 private:
  friend class Timer;
  void add(Timer* timer);
  void remove(Timer* timer);
  Timer* earliest() const;

  std::vector<Timer*> timers_;  // a handful per machine: linear scans beat a heap
  uint64_t next_sequence_ = 0;
  std::function<void(uint64_t)> on_arm_;
};

}  // namespace rwd::core
