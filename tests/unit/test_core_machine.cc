// core/machine.h: the main loop Machine::run(), driven by a scripted fake vCPU.
// What it must guarantee: timers fire at exactly their deadline (the vCPU is
// never run past one), a halted guest skips virtual time to the next timer,
// dead ends (halt with IF=0, halt with nothing that can wake it) end the run
// with a message instead of hanging, input is polled often enough, and the
// CPU's interrupt pins are forwarded.
#define BOOST_TEST_MODULE core_machine
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/machine.h"

namespace core = rwd::core;
using core::Machine;
using core::StopReason;
using core::TimerQueue;
using core::VcpuExit;

namespace {

constexpr uint64_t kNs = core::VirtualClock::kNsPerInsn;
constexpr uint64_t kPollInterval = 1ull << 20;
// More run() calls than any test needs: the fake stops the run as a watchdog,
// so a main-loop bug shows up as a failure instead of a hung test.
constexpr size_t kMaxRunCalls = 200'000;

// A vCPU that "executes" by moving icount forward. It can be scripted to
// execute HLT at a given icount, or to have a device request an exit.
class FakeVcpu : public core::Vcpu {
 public:
  explicit FakeVcpu(Machine& machine) : machine_(machine) { st_.rflags = core::rflags::kFixed1 | core::rflags::kIf; }

  core::X86CpuState& state() override { return st_; }
  void state_changed() override {}
  void memory_written(uint64_t paddr, uint64_t len) override { written.emplace_back(paddr, len); }
  void memory_map_changed() override { ++map_changes; }
  void dirty_log_cleared() override {}
  void set_irq(unsigned pin, bool level) override {
    irq_log.emplace_back(pin, level);
    if (pin == core::kCpuPinIntr) intr = level;
  }

  VcpuExit run(uint64_t limit) override {
    limits.push_back(limit);
    starts.push_back(st_.icount);
    if (limits.size() > kMaxRunCalls) {
      watchdog_fired = true;
      machine_.run_control().request_user_quit();
      return VcpuExit::kStopRequested;
    }
    if (limit < st_.icount) ++backwards_limits;
    // Never asked to run past the next timer deadline.
    uint64_t deadline = machine_.timers().next_deadline_ns();
    if (deadline != TimerQueue::kNever && limit - st_.icount > machine_.clock().insns_until(deadline))
      ++limits_past_deadline;

    if (st_.halted) {
      if (!(intr && (st_.rflags & core::rflags::kIf))) return VcpuExit::kHalted;
      st_.halted = false;  // the interrupt wakes it
      wake_icounts.push_back(st_.icount);
      if (on_wake) on_wake(*this);
    }
    if (device_at && *device_at >= st_.icount && *device_at < limit) {
      // The instruction at *device_at touches a device, which runs `device`;
      // like the interpreter, the vCPU then checks for attention.
      st_.icount = *device_at + 1;
      device_at.reset();
      if (device) device();
      if (machine_.run_control().attention_requested()) return VcpuExit::kAttention;
    }
    if (exit_at && *exit_at >= st_.icount && *exit_at <= limit) {
      st_.icount = *exit_at;
      exit_at.reset();
      machine_.run_control().request_exit(exit_status);
      return VcpuExit::kStopRequested;
    }
    if (trap_at && *trap_at >= st_.icount && *trap_at < limit) {
      st_.icount = *trap_at;  // a debugger's breakpoint: stops before the instruction
      trap_at.reset();
      return VcpuExit::kDebugTrap;
    }
    if (pause_at && *pause_at >= st_.icount && *pause_at < limit) {
      st_.icount = *pause_at + 1;  // PAUSE retired: the turn ends here
      pause_at.reset();
      return VcpuExit::kYielded;
    }
    if (halt_at && *halt_at >= st_.icount && *halt_at <= limit) {
      st_.icount = *halt_at;
      halt_at.reset();
      if (intr && (st_.rflags & core::rflags::kIf)) return VcpuExit::kLimitReached;  // not a real halt
      st_.halted = true;
      return VcpuExit::kHalted;
    }
    st_.icount = limit;
    return VcpuExit::kLimitReached;
  }

  void set_if(bool on) {
    if (on) st_.rflags |= core::rflags::kIf;
    else st_.rflags &= ~core::rflags::kIf;
  }

  // Script.
  std::optional<uint64_t> halt_at;
  std::optional<uint64_t> pause_at;
  std::optional<uint64_t> trap_at;
  std::optional<uint64_t> exit_at;
  int exit_status = 0;
  std::function<void(FakeVcpu&)> on_wake;
  std::optional<uint64_t> device_at;
  std::function<void()> device;

  // Observations.
  std::vector<uint64_t> limits, starts, wake_icounts;
  std::vector<std::pair<unsigned, bool>> irq_log;
  std::vector<std::pair<uint64_t, uint64_t>> written;
  unsigned map_changes = 0;
  size_t limits_past_deadline = 0;
  size_t backwards_limits = 0;
  bool intr = false;
  bool watchdog_fired = false;

 private:
  Machine& machine_;
  core::X86CpuState st_{};
};

struct Rig {
  Machine machine{1 << 20};
  FakeVcpu* cpu;
  Rig() {
    auto v = std::make_unique<FakeVcpu>(machine);
    cpu = v.get();
    machine.attach_vcpu(std::move(v));
  }
  void check_sane() {
    BOOST_TEST(!cpu->watchdog_fired);
    BOOST_TEST(cpu->limits_past_deadline == 0u);
    BOOST_TEST(cpu->backwards_limits == 0u);
  }
};

// One FakeVcpu for each of the machine's vCPUs, attached in order.
std::vector<FakeVcpu*> attach_fakes(Machine& machine) {
  std::vector<FakeVcpu*> cpus;
  for (unsigned i = 0; i < machine.cpu_count(); ++i) {
    auto v = std::make_unique<FakeVcpu>(machine);
    cpus.push_back(v.get());
    machine.attach_vcpu(std::move(v));
  }
  return cpus;
}

struct PollCall {
  uint64_t icount;
  uint64_t max_wait_ns;
};

}  // namespace

namespace rwd::core {
std::ostream& operator<<(std::ostream& os, StopReason r) { return os << static_cast<int>(r); }
}  // namespace rwd::core

BOOST_AUTO_TEST_CASE(request_exit_ends_the_run_with_guest_exit_and_its_status, *boost::unit_test::timeout(20)) {
  Rig rig;
  rig.cpu->exit_at = 4321;
  rig.cpu->exit_status = 0x55;
  core::RunOutcome out = rig.machine.run();
  BOOST_TEST(out.reason == StopReason::kGuestExit);
  BOOST_TEST(out.exit_status == 0x55);
  BOOST_TEST(out.icount == 4321u);
  rig.check_sane();
}

BOOST_AUTO_TEST_CASE(exit_requested_from_a_timer_callback_stops_before_more_instructions,
                     *boost::unit_test::timeout(20)) {
  // A device model may end the run from its timer (a watchdog, a power-off delay).
  Rig rig;
  Machine& m = rig.machine;
  core::Timer t(m.timers(), "poweroff", [&] { m.run_control().request_exit(5); });
  t.arm(1000 * kNs);
  core::RunOutcome out = m.run();
  BOOST_TEST(out.reason == StopReason::kGuestExit);
  BOOST_TEST(out.exit_status == 5);
  BOOST_TEST(out.icount == 1000u);
  rig.check_sane();
}

BOOST_AUTO_TEST_CASE(timers_fire_at_exactly_their_deadline_and_the_vcpu_never_overruns_one,
                     *boost::unit_test::timeout(20)) {
  Rig rig;
  Machine& m = rig.machine;
  std::vector<std::pair<uint64_t, uint64_t>> periodic;  // (deadline, now when fired)
  std::vector<std::pair<uint64_t, uint64_t>> oneshot;
  std::unique_ptr<core::Timer> tick;
  tick = std::make_unique<core::Timer>(m.timers(), "tick", [&] {
    periodic.emplace_back(tick->deadline_ns(), m.clock().now_ns());
    tick->arm(tick->deadline_ns() + 1000);
  });
  core::Timer once(m.timers(), "once", [&] { oneshot.emplace_back(once.deadline_ns(), m.clock().now_ns()); });
  tick->arm(1000);
  once.arm(3333);
  rig.cpu->exit_at = 10'500;
  rig.cpu->exit_status = 3;

  core::RunOutcome out = m.run();
  BOOST_TEST(out.reason == StopReason::kGuestExit);
  BOOST_TEST(out.icount == 10'500u);
  BOOST_REQUIRE_EQUAL(periodic.size(), 10u);  // 1000, 2000, ..., 10000
  for (size_t i = 0; i < periodic.size(); ++i) {
    BOOST_TEST(periodic[i].first == 1000 * (i + 1));
    // The first instruction boundary at or after the deadline (exact when 1 ns/insn).
    BOOST_TEST(periodic[i].second >= periodic[i].first);
    BOOST_TEST(periodic[i].second - periodic[i].first < kNs);
  }
  BOOST_REQUIRE_EQUAL(oneshot.size(), 1u);
  BOOST_TEST(oneshot[0].second >= 3333u);
  BOOST_TEST(oneshot[0].second - 3333u < kNs);
  // No idle time: the guest never halted.
  BOOST_TEST(m.clock().idle_ns() == 0u);
  rig.check_sane();
}

BOOST_AUTO_TEST_CASE(timer_armed_by_the_guest_during_a_run_fires_at_its_deadline, *boost::unit_test::timeout(20)) {
  // A one-shot timer programmed by an instruction (a PIT count written) with
  // a deadline earlier than the budget the vCPU was given must still fire at
  // that deadline: how far the vCPU was allowed to run (next poll, replay
  // stop points) must never decide when a guest's timer fires.
  Rig rig;
  Machine& m = rig.machine;
  std::optional<uint64_t> fired_at;
  core::Timer oneshot(m.timers(), "oneshot", [&] { fired_at = m.clock().now_ns(); });
  rig.cpu->device_at = 1000;  // the instruction at icount 1000 arms it for 300 ns later
  rig.cpu->device = [&] { oneshot.arm(m.clock().now_ns() + 300); };
  rig.cpu->exit_at = 5000;
  core::RunOutcome out = m.run();
  BOOST_TEST(out.reason == StopReason::kGuestExit);
  BOOST_REQUIRE(fired_at.has_value());
  BOOST_TEST(*fired_at == 1001u + 300u);
  rig.check_sane();
}

BOOST_AUTO_TEST_CASE(host_attention_polls_inputs_at_once_without_moving_the_poll_schedule,
                     *boost::unit_test::timeout(20)) {
  // A quit signal asks for attention mid-run: the inputs are polled where the
  // vCPU returned, and the regular schedule (shared by record and replay)
  // stays where it was.
  Rig rig;
  Machine& m = rig.machine;
  std::vector<uint64_t> polls;
  m.set_input_poller([&](uint64_t icount, uint64_t) {
    polls.push_back(icount);
    return true;
  });
  rig.cpu->device_at = 12'345;
  rig.cpu->device = [&] { m.run_control().request_attention(core::attention::kHost); };
  rig.cpu->exit_at = 3 * kPollInterval + 10;
  m.run();
  BOOST_REQUIRE(polls.size() >= 4u);
  BOOST_TEST(polls[0] == 12'346u);
  BOOST_TEST(polls[1] == kPollInterval);
  BOOST_TEST(polls[2] == 2 * kPollInterval);
  rig.check_sane();
}

BOOST_AUTO_TEST_CASE(timer_armed_at_run_start_in_the_past_fires_before_any_instruction,
                     *boost::unit_test::timeout(20)) {
  Rig rig;
  Machine& m = rig.machine;
  std::optional<uint64_t> fired_at;
  core::Timer t(m.timers(), "t", [&] { fired_at = rig.cpu->state().icount; });
  t.arm(0);
  rig.cpu->exit_at = 100;
  m.run();
  BOOST_REQUIRE(fired_at.has_value());
  BOOST_TEST(*fired_at == 0u);
  rig.check_sane();
}

BOOST_AUTO_TEST_CASE(halted_guest_with_if_set_skips_virtual_time_to_the_next_timer,
                     *boost::unit_test::timeout(20)) {
  Rig rig;
  Machine& m = rig.machine;
  constexpr uint64_t kDeadline = 50'000'000;  // far beyond what the guest runs
  std::optional<uint64_t> fired_now;
  // The timer stands for a PIT: it raises INTR through the board's wiring.
  core::Timer pit(m.timers(), "pit", [&] {
    fired_now = m.clock().now_ns();
    m.cpu_pins().set_irq(core::kCpuPinIntr, true);
  });
  pit.arm(kDeadline);
  rig.cpu->halt_at = 500;
  rig.cpu->on_wake = [&](FakeVcpu& cpu) {
    m.cpu_pins().set_irq(core::kCpuPinIntr, false);  // acknowledged
    cpu.exit_at = cpu.state().icount + 100;
    cpu.exit_status = 7;
  };

  core::RunOutcome out = m.run();
  BOOST_TEST(out.reason == StopReason::kGuestExit);
  BOOST_TEST(out.exit_status == 7);
  BOOST_TEST(out.icount == 600u);
  BOOST_REQUIRE(fired_now.has_value());
  BOOST_TEST(*fired_now == kDeadline);
  BOOST_TEST(m.clock().idle_ns() == kDeadline - 500 * kNs);
  BOOST_TEST(rig.cpu->wake_icounts == std::vector<uint64_t>{500});
  rig.check_sane();
}

BOOST_AUTO_TEST_CASE(idle_guest_is_paced_by_a_poll_with_a_wait_and_still_skips_time,
                     *boost::unit_test::timeout(20)) {
  // With live input the idle loop may wait for input before skipping, but the
  // skip itself depends on guest state only.
  Rig rig;
  Machine& m = rig.machine;
  std::vector<PollCall> polls;
  m.set_input_poller([&](uint64_t icount, uint64_t wait) {
    polls.push_back({icount, wait});
    return true;  // input may still arrive (nothing does)
  });
  constexpr uint64_t kDeadline = 2'000'000;
  bool fired = false;
  core::Timer pit(m.timers(), "pit", [&] {
    fired = true;
    m.cpu_pins().set_irq(core::kCpuPinIntr, true);
  });
  pit.arm(kDeadline);
  rig.cpu->halt_at = 1000;
  rig.cpu->on_wake = [&](FakeVcpu& cpu) {
    m.cpu_pins().set_irq(core::kCpuPinIntr, false);
    cpu.exit_at = cpu.state().icount + 1;
  };

  core::RunOutcome out = m.run();
  BOOST_TEST(out.reason == StopReason::kGuestExit);
  BOOST_TEST(fired);
  BOOST_TEST(m.clock().idle_ns() == kDeadline - 1000 * kNs);
  bool waited_while_idle = false;
  for (const PollCall& p : polls)
    if (p.icount == 1000 && p.max_wait_ns > 0) {
      waited_while_idle = true;
      // Never longer than the virtual time left until the timer.
      BOOST_TEST(p.max_wait_ns <= kDeadline - 1000 * kNs);
    }
  BOOST_TEST(waited_while_idle);
  rig.check_sane();
}

BOOST_AUTO_TEST_CASE(halt_with_interrupts_disabled_shuts_down_with_a_message, *boost::unit_test::timeout(20)) {
  Rig rig;
  Machine& m = rig.machine;
  // Even an armed timer cannot help: IF=0 means no interrupt will be taken.
  core::Timer pit(m.timers(), "pit", [&] { m.cpu_pins().set_irq(core::kCpuPinIntr, true); });
  pit.arm(1'000'000);
  rig.cpu->set_if(false);
  rig.cpu->halt_at = 100;
  core::RunOutcome out = m.run();
  BOOST_TEST(out.reason == StopReason::kShutdown);
  BOOST_TEST(!out.detail.empty());
  BOOST_TEST(out.icount == 100u);
  rig.check_sane();
}

BOOST_AUTO_TEST_CASE(halt_with_no_timer_and_no_poller_ends_with_a_message, *boost::unit_test::timeout(20)) {
  Rig rig;
  rig.cpu->halt_at = 100;
  core::RunOutcome out = rig.machine.run();
  BOOST_TEST(out.reason == StopReason::kShutdown);
  BOOST_TEST(!out.detail.empty());
  BOOST_TEST(out.icount == 100u);
  rig.check_sane();
}

BOOST_AUTO_TEST_CASE(halt_with_no_timer_and_input_at_eof_ends_with_a_message, *boost::unit_test::timeout(20)) {
  Rig rig;
  Machine& m = rig.machine;
  std::vector<PollCall> polls;
  m.set_input_poller([&](uint64_t icount, uint64_t wait) {
    polls.push_back({icount, wait});
    return false;  // no input can ever arrive
  });
  rig.cpu->halt_at = 100;
  core::RunOutcome out = m.run();
  BOOST_TEST(out.reason == StopReason::kShutdown);
  BOOST_TEST(!out.detail.empty());
  // Before giving up, the loop asked for input, prepared to wait for it.
  BOOST_REQUIRE(!polls.empty());
  BOOST_TEST(polls.back().max_wait_ns > 0u);
  rig.check_sane();
}

BOOST_AUTO_TEST_CASE(last_input_byte_waking_a_halted_guest_is_not_lost, *boost::unit_test::timeout(20)) {
  // The poller delivers a byte (the UART raises INTR) and reports EOF in the
  // same call: the guest has a pending interrupt, so it must run, not be shut down.
  Rig rig;
  Machine& m = rig.machine;
  int idle_polls = 0;
  m.set_input_poller([&](uint64_t, uint64_t wait) {
    if (wait > 0 && idle_polls++ == 0) m.cpu_pins().set_irq(core::kCpuPinIntr, true);
    return false;
  });
  rig.cpu->halt_at = 100;
  rig.cpu->on_wake = [&](FakeVcpu& cpu) {
    m.cpu_pins().set_irq(core::kCpuPinIntr, false);
    cpu.exit_at = cpu.state().icount + 5;
    cpu.exit_status = 9;
  };
  core::RunOutcome out = m.run();
  BOOST_TEST(out.reason == StopReason::kGuestExit);
  BOOST_TEST(out.exit_status == 9);
  BOOST_TEST(out.icount == 105u);
  rig.check_sane();
}

BOOST_AUTO_TEST_CASE(halted_guest_with_intr_pending_and_if_set_is_not_skipped_forward,
                     *boost::unit_test::timeout(20)) {
  // Input arrives during the idle wait and raises INTR: the guest must wake
  // at the current time, not at the (much later) timer deadline.
  Rig rig;
  Machine& m = rig.machine;
  bool timer_fired = false;
  core::Timer pit(m.timers(), "pit", [&] { timer_fired = true; });
  pit.arm(1'000'000'000);
  m.set_input_poller([&](uint64_t, uint64_t wait) {
    if (wait > 0) m.cpu_pins().set_irq(core::kCpuPinIntr, true);
    return true;
  });
  rig.cpu->halt_at = 1000;
  rig.cpu->on_wake = [&](FakeVcpu& cpu) {
    m.cpu_pins().set_irq(core::kCpuPinIntr, false);
    cpu.exit_at = cpu.state().icount + 10;
  };
  core::RunOutcome out = m.run();
  BOOST_TEST(out.reason == StopReason::kGuestExit);
  BOOST_TEST(out.icount == 1010u);
  BOOST_TEST(m.clock().idle_ns() == 0u);
  BOOST_TEST(!timer_fired);
  BOOST_TEST(rig.cpu->wake_icounts == std::vector<uint64_t>{1000});
  rig.check_sane();
}

BOOST_AUTO_TEST_CASE(input_is_polled_at_least_every_2_pow_20_instructions_while_running,
                     *boost::unit_test::timeout(60)) {
  Rig rig;
  Machine& m = rig.machine;
  std::vector<PollCall> polls;
  m.set_input_poller([&](uint64_t icount, uint64_t wait) {
    polls.push_back({icount, wait});
    return true;
  });
  // A slow timer must not stretch the poll interval.
  core::Timer slow(m.timers(), "slow", [] {});
  slow.arm(100ull * kPollInterval * kNs);
  const uint64_t end = 5 * kPollInterval + 12345;
  rig.cpu->exit_at = end;
  core::RunOutcome out = m.run();
  BOOST_TEST(out.reason == StopReason::kGuestExit);
  BOOST_TEST(out.icount == end);

  BOOST_REQUIRE_GE(polls.size(), 5u);
  uint64_t last = 0;
  for (const PollCall& p : polls) {
    BOOST_TEST(p.icount - last <= kPollInterval);
    BOOST_TEST(p.max_wait_ns == 0u);  // a running guest is never made to wait
    last = p.icount;
  }
  BOOST_TEST(end - last <= kPollInterval);
  rig.check_sane();
}

BOOST_AUTO_TEST_CASE(cpu_pins_forward_levels_to_the_vcpu) {
  Rig rig;
  rig.machine.cpu_pins().set_irq(core::kCpuPinIntr, true);
  rig.machine.cpu_pins().set_irq(core::kCpuPinNmi, true);
  rig.machine.cpu_pins().set_irq(core::kCpuPinIntr, false);
  using Ev = std::pair<unsigned, bool>;
  const std::vector<Ev> expected = {{core::kCpuPinIntr, true}, {core::kCpuPinNmi, true}, {core::kCpuPinIntr, false}};
  BOOST_REQUIRE_EQUAL(rig.cpu->irq_log.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    BOOST_TEST(rig.cpu->irq_log[i].first == expected[i].first);
    BOOST_TEST(rig.cpu->irq_log[i].second == expected[i].second);
  }
}

BOOST_AUTO_TEST_CASE(intr_raised_before_the_vcpu_is_attached_reaches_it) {
  // The board is wired up before the accelerator supplies the vCPU.
  Machine machine(1 << 20);
  machine.cpu_pins().set_irq(core::kCpuPinIntr, true);
  auto v = std::make_unique<FakeVcpu>(machine);
  FakeVcpu* cpu = v.get();
  machine.attach_vcpu(std::move(v));
  BOOST_TEST(cpu->intr);
}

BOOST_AUTO_TEST_CASE(clock_follows_the_attached_vcpu_icount) {
  Rig rig;
  rig.cpu->state().icount = 777;
  rig.machine.resync_icount();  // a state replaced from outside (a loader, a checkpoint)
  BOOST_TEST(rig.machine.icount() == 777u);
  BOOST_TEST(rig.machine.clock().now_ns() == 777 * kNs);
}

BOOST_AUTO_TEST_CASE(cpu_environment_exposes_the_machine_parts) {
  Rig rig;
  core::CpuEnvironment env = rig.machine.cpu_environment();
  BOOST_TEST(env.memory == &rig.machine.memory());
  BOOST_TEST(env.io == &rig.machine.io());
  BOOST_TEST(env.run_control == &rig.machine.run_control());
  BOOST_TEST(rig.machine.io().size() == 0x10000u);
  BOOST_TEST(rig.machine.ram_size() == (1u << 20));
  BOOST_TEST(rig.machine.ram() != nullptr);
  rig.machine.ram()[(1 << 20) - 1] = 0xAB;  // the whole block is usable
  BOOST_TEST(rig.machine.ram()[0] == 0);     // and starts zeroed
}

BOOST_AUTO_TEST_CASE(a_repeated_warning_is_shown_once_then_counted) {
  core::RunControl rc;
  std::vector<std::string> shown;
  rc.set_warn_sink([&](const std::string& m) { shown.push_back(m); });
  for (int i = 0; i < 5; ++i) rc.warn_once("no semantics for X", "no semantics for X at site " + std::to_string(i));
  rc.warn_once("no semantics for Y", "no semantics for Y at site 0");
  BOOST_REQUIRE_EQUAL(shown.size(), 2u);
  BOOST_TEST(shown[0] == "no semantics for X at site 0");
  rc.report_repeats();
  BOOST_REQUIRE_EQUAL(shown.size(), 3u);  // Y happened once: nothing to add
  BOOST_TEST(shown[2] == "no semantics for X: repeated 5 times in all");
}

// -smp: vCPUs take turns of one quantum in index order, vCPU 0 first; the
// machine's count is the sum of theirs; a vCPU's TSC follows machine time
// while it waits for its turn.
BOOST_AUTO_TEST_CASE(vcpus_take_turns_of_a_quantum, *boost::unit_test::timeout(20)) {
  Machine machine{1 << 20, 2};
  machine.set_quantum(1000);
  std::vector<FakeVcpu*> cpu = attach_fakes(machine);
  cpu[1]->exit_at = 2500;
  core::RunOutcome out = machine.run();
  BOOST_TEST(out.icount == 3000u + 2500u);
  BOOST_TEST(cpu[0]->starts == (std::vector<uint64_t>{0, 1000, 2000}), boost::test_tools::per_element());
  BOOST_TEST(cpu[1]->starts == (std::vector<uint64_t>{0, 1000, 2000}), boost::test_tools::per_element());
  BOOST_TEST(cpu[0]->limits == (std::vector<uint64_t>{1000, 2000, 3000}), boost::test_tools::per_element());
  BOOST_TEST(machine.tsc(0) == 5500u);
  BOOST_TEST(machine.tsc(1) == 5500u);
  BOOST_TEST(cpu[0]->state().tsc() == 5000u);  // brought up to date when its next turn starts
}

// A debugger's trap ends run() (StopReason::kDebugTrap) at the vCPU that
// took it; run() again goes on from there with the turn it was in.
BOOST_AUTO_TEST_CASE(a_debug_trap_stops_the_run_and_it_resumes, *boost::unit_test::timeout(20)) {
  Machine machine{1 << 20, 2};
  machine.set_quantum(1000);
  std::vector<FakeVcpu*> cpu = attach_fakes(machine);
  cpu[1]->trap_at = 400;
  cpu[0]->exit_at = 2500;
  core::RunOutcome out = machine.run();
  BOOST_TEST(int(out.reason) == int(core::StopReason::kDebugTrap));
  BOOST_TEST(machine.running_vcpu() == 1u);
  BOOST_TEST(out.icount == 1000u + 400u);
  machine.run_control().clear();
  out = machine.run();
  BOOST_TEST(int(out.reason) == int(core::StopReason::kGuestExit));
  BOOST_TEST(cpu[1]->starts == (std::vector<uint64_t>{0, 400, 1000}), boost::test_tools::per_element());
  BOOST_TEST(cpu[1]->limits == (std::vector<uint64_t>{1000, 1000, 2000}), boost::test_tools::per_element());
}

// PAUSE ends a vCPU's turn: the next vCPU's turn starts right after it.
BOOST_AUTO_TEST_CASE(pause_gives_the_turn_to_the_next_vcpu, *boost::unit_test::timeout(20)) {
  Machine machine{1 << 20, 2};
  machine.set_quantum(1000);
  std::vector<FakeVcpu*> cpu = attach_fakes(machine);
  cpu[0]->pause_at = 299;
  cpu[1]->exit_at = 1500;
  core::RunOutcome out = machine.run();
  BOOST_TEST(out.icount == 1300u + 1500u);
  BOOST_TEST(cpu[0]->starts == (std::vector<uint64_t>{0, 300}), boost::test_tools::per_element());
  BOOST_TEST(cpu[0]->limits == (std::vector<uint64_t>{1000, 1300}), boost::test_tools::per_element());
  BOOST_TEST(cpu[1]->starts == (std::vector<uint64_t>{0, 1000}), boost::test_tools::per_element());
}

// A halted vCPU gives up its turns until an interrupt can wake it; a vCPU
// waiting for a start-up IPI never runs until one comes.
BOOST_AUTO_TEST_CASE(halted_and_waiting_vcpus_are_skipped, *boost::unit_test::timeout(20)) {
  Machine machine{1 << 20, 3};
  machine.set_quantum(1000);
  std::vector<FakeVcpu*> cpu = attach_fakes(machine);
  cpu[2]->state().wait_for_sipi = true;
  cpu[2]->state().halted = true;
  cpu[0]->halt_at = 500;
  cpu[1]->exit_at = 3000;
  core::RunOutcome out = machine.run();
  BOOST_TEST(out.icount == 500u + 3000u);
  BOOST_TEST(cpu[0]->starts.size() == 1u);
  BOOST_TEST(cpu[1]->starts == (std::vector<uint64_t>{0, 1000, 2000}), boost::test_tools::per_element());
  BOOST_TEST(cpu[2]->starts.empty());
  // A start-up IPI: real mode at vector * 4096.
  machine.startup_vcpu(2, 0x9a);
  BOOST_TEST(!cpu[2]->state().wait_for_sipi);
  BOOST_TEST(cpu[2]->state().seg[int(core::SegReg::kCs)].base == 0x9a000u);
  BOOST_TEST(cpu[2]->state().rip == 0u);
}

// The memory API's listeners: RAM written through the address space (a
// loader, a device's DMA) and a change of the map reach every vCPU, so their
// block caches and TLBs never keep what was there before; device writes do not.
BOOST_AUTO_TEST_CASE(writes_from_outside_and_remaps_reach_every_vcpu) {
  Machine machine{1 << 20, 2};
  std::vector<FakeVcpu*> cpu = attach_fakes(machine);
  machine.memory().add_ram("ram", 0, 1 << 20, machine.ram());
  struct Sink : core::RegionOps {
    uint64_t read(uint64_t, unsigned) override { return 0; }
    void write(uint64_t, uint64_t, unsigned) override {}
  } device;
  machine.memory().add_io("device", 0x100000, 0x1000, &device);
  const uint8_t code[3] = {0x90, 0x90, 0xf4};
  machine.memory().write_bytes(0x1000, code, sizeof code);
  machine.memory().write(0x2000, 7, 4);
  machine.memory().write(0x100010, 7, 4);  // the device: no RAM written
  for (FakeVcpu* c : cpu) {
    BOOST_TEST(c->map_changes == 2u);
    BOOST_TEST((c->written == std::vector<std::pair<uint64_t, uint64_t>>{{0x1000, 3}, {0x2000, 4}}));
  }
  machine.memory().remove("device");
  for (FakeVcpu* c : cpu) BOOST_TEST(c->map_changes == 3u);
}
