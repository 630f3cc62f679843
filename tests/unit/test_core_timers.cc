// core/timer_queue.h and core/virtual_clock.h: deterministic timer order and
// instruction-derived virtual time.
#define BOOST_TEST_MODULE core_timers
#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/timer_queue.h"
#include "core/virtual_clock.h"

using rwd::core::Timer;
using rwd::core::TimerQueue;
using rwd::core::VirtualClock;

namespace {

// Timers that append their name to a shared log when they fire.
struct Fixture {
  TimerQueue queue;
  std::vector<std::string> fired;
  std::unique_ptr<Timer> make(const std::string& name) {
    return std::make_unique<Timer>(queue, name, [this, name] { fired.push_back(name); });
  }
};

using Names = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(timer_queue)

BOOST_AUTO_TEST_CASE(no_armed_timer_means_next_deadline_never) {
  TimerQueue queue;
  BOOST_TEST(queue.next_deadline_ns() == TimerQueue::kNever);
  Timer t(queue, "idle", [] {});
  BOOST_TEST(!t.armed());
  BOOST_TEST(queue.next_deadline_ns() == TimerQueue::kNever);
  queue.run_expired(TimerQueue::kNever - 1);  // nothing to fire, nothing breaks
}

BOOST_AUTO_TEST_CASE(fires_earliest_first_and_only_when_due) {
  Fixture f;
  auto a = f.make("a"), b = f.make("b"), c = f.make("c");
  c->arm(300);
  a->arm(100);
  b->arm(200);
  BOOST_TEST(f.queue.next_deadline_ns() == 100u);

  f.queue.run_expired(99);
  BOOST_TEST(f.fired.empty());
  f.queue.run_expired(100);  // a deadline equal to now is due
  BOOST_TEST(f.fired == Names{"a"});
  BOOST_TEST(!a->armed());
  BOOST_TEST(f.queue.next_deadline_ns() == 200u);

  f.queue.run_expired(1000);
  BOOST_TEST(f.fired == (Names{"a", "b", "c"}));
  BOOST_TEST(f.queue.next_deadline_ns() == TimerQueue::kNever);
}

BOOST_AUTO_TEST_CASE(equal_deadlines_fire_in_arm_order_not_creation_order) {
  Fixture f;
  auto a = f.make("a"), b = f.make("b"), c = f.make("c");
  c->arm(50);
  a->arm(50);
  b->arm(50);
  f.queue.run_expired(50);
  BOOST_TEST(f.fired == (Names{"c", "a", "b"}));
}

BOOST_AUTO_TEST_CASE(rearming_counts_as_a_new_arm_for_tie_order) {
  Fixture f;
  auto a = f.make("a"), b = f.make("b");
  a->arm(50);
  b->arm(50);
  a->arm(50);  // a is now the most recently armed
  f.queue.run_expired(50);
  BOOST_TEST(f.fired == (Names{"b", "a"}));
}

BOOST_AUTO_TEST_CASE(rearm_replaces_the_old_deadline) {
  Fixture f;
  auto a = f.make("a");
  a->arm(100);
  a->arm(300);  // later
  BOOST_TEST(a->deadline_ns() == 300u);
  BOOST_TEST(f.queue.next_deadline_ns() == 300u);
  f.queue.run_expired(200);
  BOOST_TEST(f.fired.empty());
  f.queue.run_expired(300);
  BOOST_TEST(f.fired == Names{"a"});  // once, not once per arm()

  a->arm(500);
  a->arm(150);  // earlier
  BOOST_TEST(f.queue.next_deadline_ns() == 150u);
  f.queue.run_expired(10000);
  BOOST_TEST(f.fired == (Names{"a", "a"}));
}

BOOST_AUTO_TEST_CASE(cancel_disarms) {
  Fixture f;
  auto a = f.make("a"), b = f.make("b");
  a->arm(10);
  b->arm(20);
  a->cancel();
  BOOST_TEST(!a->armed());
  BOOST_TEST(f.queue.next_deadline_ns() == 20u);
  f.queue.run_expired(100);
  BOOST_TEST(f.fired == Names{"b"});
  b->cancel();  // cancelling a timer that already fired is harmless
  a->cancel();
  BOOST_TEST(f.queue.next_deadline_ns() == TimerQueue::kNever);
  // A cancelled timer can be armed again.
  a->arm(200);
  f.queue.run_expired(200);
  BOOST_TEST(f.fired == (Names{"b", "a"}));
}

BOOST_AUTO_TEST_CASE(periodic_timer_rearming_itself_fires_every_period_up_to_now) {
  TimerQueue queue;
  std::vector<uint64_t> at;
  std::unique_ptr<Timer> tick;
  tick = std::make_unique<Timer>(queue, "tick", [&] {
    at.push_back(tick->deadline_ns());
    tick->arm(tick->deadline_ns() + 10);
  });
  tick->arm(10);
  queue.run_expired(35);
  BOOST_TEST(at == (std::vector<uint64_t>{10, 20, 30}));
  BOOST_TEST(tick->armed());
  BOOST_TEST(queue.next_deadline_ns() == 40u);
  queue.run_expired(40);
  BOOST_TEST(at.size() == 4u);
}

BOOST_AUTO_TEST_CASE(callback_may_arm_another_timer_which_fires_in_deadline_order) {
  Fixture f;
  auto late = f.make("late");
  auto b = f.make("b");
  Timer a(f.queue, "a", [&] {
    f.fired.push_back("a");
    b->arm(12);  // before `late`, which is already pending
  });
  a.arm(10);
  late->arm(15);
  f.queue.run_expired(20);
  BOOST_TEST(f.fired == (Names{"a", "b", "late"}));
}

BOOST_AUTO_TEST_CASE(callback_arming_another_in_the_future_does_not_fire_it_early) {
  Fixture f;
  auto b = f.make("b");
  Timer a(f.queue, "a", [&] {
    f.fired.push_back("a");
    b->arm(100);
  });
  a.arm(10);
  f.queue.run_expired(50);
  BOOST_TEST(f.fired == Names{"a"});
  BOOST_TEST(b->armed());
  BOOST_TEST(f.queue.next_deadline_ns() == 100u);
}

BOOST_AUTO_TEST_CASE(callback_may_cancel_another_due_timer) {
  Fixture f;
  auto b = f.make("b");
  Timer a(f.queue, "a", [&] {
    f.fired.push_back("a");
    b->cancel();
  });
  a.arm(10);
  b->arm(20);
  f.queue.run_expired(30);
  BOOST_TEST(f.fired == Names{"a"});
}

BOOST_AUTO_TEST_CASE(destroying_an_armed_timer_removes_it) {
  Fixture f;
  auto a = f.make("a"), b = f.make("b");
  a->arm(10);
  b->arm(20);
  a.reset();
  BOOST_TEST(f.queue.next_deadline_ns() == 20u);
  f.queue.run_expired(100);
  BOOST_TEST(f.fired == Names{"b"});
  b->arm(200);
  b.reset();
  BOOST_TEST(f.queue.next_deadline_ns() == TimerQueue::kNever);
  f.queue.run_expired(1000);
  BOOST_TEST(f.fired == Names{"b"});
}

BOOST_AUTO_TEST_CASE(timer_reports_its_name_and_deadline) {
  TimerQueue queue;
  Timer t(queue, "pit-ch0", [] {});
  BOOST_TEST(t.name() == "pit-ch0");
  t.arm(1234);
  BOOST_TEST(t.armed());
  BOOST_TEST(t.deadline_ns() == 1234u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(virtual_clock)

constexpr uint64_t k = VirtualClock::kNsPerInsn;

BOOST_AUTO_TEST_CASE(now_follows_the_bound_icount) {
  uint64_t icount = 0;
  VirtualClock clock(&icount);
  BOOST_TEST(clock.now_ns() == 0u);
  icount = 1000;
  BOOST_TEST(clock.now_ns() == 1000 * k);
  BOOST_TEST(clock.idle_ns() == 0u);

  uint64_t other = 5;
  clock.bind_icount(&other);
  BOOST_TEST(clock.now_ns() == 5 * k);
  other = 7;
  BOOST_TEST(clock.now_ns() == 7 * k);
}

BOOST_AUTO_TEST_CASE(insns_until_is_zero_for_past_and_present_deadlines) {
  uint64_t icount = 100;
  VirtualClock clock(&icount);
  BOOST_TEST(clock.insns_until(0) == 0u);
  BOOST_TEST(clock.insns_until(clock.now_ns()) == 0u);
  BOOST_TEST(clock.insns_until(clock.now_ns() - 1) == 0u);
}

BOOST_AUTO_TEST_CASE(insns_until_rounds_up_to_the_first_instruction_reaching_the_deadline) {
  uint64_t icount = 12345;
  VirtualClock clock(&icount);
  clock.set_idle_ns(777);
  const uint64_t now = clock.now_ns();
  BOOST_TEST(clock.insns_until(now + 1) == 1u);
  BOOST_TEST(clock.insns_until(now + 3 * k) == 3u);
  BOOST_TEST(clock.insns_until(now + 3 * k + 1) == 4u);
  // The defining property, checked on a spread of deadlines: running that many
  // instructions reaches the deadline, running one fewer does not.
  for (uint64_t delta = 1; delta < 5000; delta = delta * 3 + 1) {
    uint64_t deadline = now + delta;
    uint64_t n = clock.insns_until(deadline);
    uint64_t saved = icount;
    icount = saved + n;
    BOOST_TEST(clock.now_ns() >= deadline);
    icount = saved + n - 1;
    BOOST_TEST(clock.now_ns() < deadline);
    icount = saved;
  }
}

BOOST_AUTO_TEST_CASE(insns_until_never_does_not_overflow_to_a_small_budget) {
  // The main loop asks for insns_until(kNever) when no timer is armed.
  uint64_t icount = 1ull << 40;
  VirtualClock clock(&icount);
  BOOST_TEST(clock.insns_until(TimerQueue::kNever) >= (TimerQueue::kNever - clock.now_ns()) / k);
}

BOOST_AUTO_TEST_CASE(skip_idle_to_only_moves_forward) {
  uint64_t icount = 500;
  VirtualClock clock(&icount);
  clock.skip_idle_to(100);  // in the past: no effect
  BOOST_TEST(clock.idle_ns() == 0u);
  BOOST_TEST(clock.now_ns() == 500 * k);
  clock.skip_idle_to(clock.now_ns());  // now: no effect
  BOOST_TEST(clock.idle_ns() == 0u);

  const uint64_t target = 500 * k + 10'000;
  clock.skip_idle_to(target);
  BOOST_TEST(clock.now_ns() == target);
  BOOST_TEST(clock.idle_ns() == 10'000u);
  clock.skip_idle_to(target - 1);
  BOOST_TEST(clock.now_ns() == target);

  // Idle time adds to instruction time afterwards.
  icount += 3;
  BOOST_TEST(clock.now_ns() == target + 3 * k);
  BOOST_TEST(clock.insns_until(target) == 0u);
}

BOOST_AUTO_TEST_CASE(set_idle_ns_restores_a_snapshot) {
  uint64_t icount = 10;
  VirtualClock clock(&icount);
  clock.set_idle_ns(42);
  BOOST_TEST(clock.idle_ns() == 42u);
  BOOST_TEST(clock.now_ns() == 10 * k + 42);
}

BOOST_AUTO_TEST_SUITE_END()
