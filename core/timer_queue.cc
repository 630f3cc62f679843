#include "core/timer_queue.h"

#include <algorithm>

namespace rwd::core {

Timer::Timer(TimerQueue& queue, std::string name, std::function<void()> callback)
    : queue_(queue), name_(std::move(name)), callback_(std::move(callback)) {
  queue_.add(this);
}

Timer::~Timer() { queue_.remove(this); }

void Timer::arm(uint64_t deadline_ns) {
  deadline_ns_ = deadline_ns;
  arm_sequence_ = queue_.next_sequence_++;
  armed_ = true;
  if (queue_.on_arm_) queue_.on_arm_(deadline_ns);
}

void Timer::cancel() { armed_ = false; }

void Timer::save(StateWriter& out) const {
  out.boolean(armed_);
  out.u64(deadline_ns_);
  out.u64(arm_sequence_);
}

void Timer::load(StateReader& in) {
  armed_ = in.boolean();
  deadline_ns_ = in.u64();
  arm_sequence_ = in.u64();
}

void TimerQueue::add(Timer* timer) { timers_.push_back(timer); }

void TimerQueue::remove(Timer* timer) { std::erase(timers_, timer); }

Timer* TimerQueue::earliest() const {
  Timer* best = nullptr;
  for (Timer* t : timers_) {
    if (!t->armed_) continue;
    if (!best || t->deadline_ns_ < best->deadline_ns_ ||
        (t->deadline_ns_ == best->deadline_ns_ && t->arm_sequence_ < best->arm_sequence_))
      best = t;
  }
  return best;
}

uint64_t TimerQueue::next_deadline_ns() const {
  Timer* t = earliest();
  return t ? t->deadline_ns_ : kNever;
}

void TimerQueue::run_expired(uint64_t now_ns) {
  while (Timer* t = earliest()) {
    if (t->deadline_ns_ > now_ns) break;
    t->armed_ = false;
    t->callback_();
  }
}

}  // namespace rwd::core
