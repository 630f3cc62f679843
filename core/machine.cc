#include "core/machine.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace rwd::core {

namespace {

// Input is polled at least this often (in guest instructions) while the guest
// runs: about a millisecond of virtual time, so typing feels immediate while
// the cost stays negligible.
constexpr uint64_t kInputPollInsns = 1u << 20;

uint8_t* allocate_ram(uint64_t size) {
  // Anonymous zero pages: untouched guest RAM costs no host memory.
  void* p = mmap(nullptr, size ? size : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED)
    throw std::runtime_error("cannot reserve " + std::to_string(size >> 20) + " MiB of host memory for guest RAM: " +
                             std::strerror(errno));
  return static_cast<uint8_t*>(p);
}

}  // namespace

Machine::Machine(uint64_t ram_size)
    : ram_size_(ram_size),
      ram_(allocate_ram(ram_size)),
      memory_("memory", ~0ull),
      io_("io", 0x10000),
      dirty_log_(ram_, ram_size),
      clock_(&unbound_icount_) {
  timers_.set_arm_listener([this](uint64_t deadline_ns) {
    if (deadline_ns < run_until_ns_) run_control_.request_attention(attention::kReplan);
  });
}

Machine::~Machine() {
  cpu_pins_.vcpu = nullptr;
  vcpu_.reset();
  munmap(ram_, ram_size_ ? ram_size_ : 1);
}

void Machine::attach_vcpu(std::unique_ptr<Vcpu> vcpu) {
  vcpu_ = std::move(vcpu);
  cpu_pins_.vcpu = vcpu_.get();
  clock_.bind_icount(&vcpu_->state().icount);
  if (cpu_pins_.intr) vcpu_->set_irq(kCpuPinIntr, true);
}

void Machine::CpuPins::set_irq(unsigned pin, bool level) {
  if (pin == kCpuPinIntr) intr = level;
  if (vcpu) vcpu->set_irq(pin, level);
}

bool Machine::cpu_has_pending_wakeup() const {
  return cpu_pins_.intr && (vcpu_->state().rflags & rflags::kIf);
}

CpuEnvironment Machine::cpu_environment() {
  return CpuEnvironment{&memory_,     &io_,     interrupt_controller_, local_apic_, &run_control_, &dirty_log_,
                        entropy_,     fpu_error_};
}

void Machine::register_state(std::string name, Snapshottable* owner) {
  if (!state_names_.insert(name).second) throw SnapshotError("two machine parts share the state name '" + name + "'");
  state_owners_.emplace_back(std::move(name), owner);
}

void Machine::unregister_state(const Snapshottable* owner) {
  std::erase_if(state_owners_, [&](const auto& entry) {
    if (entry.second != owner) return false;
    state_names_.erase(entry.first);
    return true;
  });
}

namespace {
constexpr uint32_t kMachineStateVersion = 1;
constexpr const char* kMachineStateName = "machine";
}  // namespace

std::vector<Machine::NamedState> Machine::save_states() const {
  std::vector<NamedState> states;
  StateWriter own;
  own.u32(kMachineStateVersion);
  own.u64(clock_.idle_ns());
  timers_.save(own);
  own.boolean(cpu_pins_.intr);
  states.emplace_back(kMachineStateName, own.take());
  for (const auto& [name, owner] : state_owners_) {
    StateWriter out;
    owner->save_state(out);
    states.emplace_back(name, out.take());
  }
  return states;
}

void Machine::load_states(const std::vector<NamedState>& states) {
  // By name through hash maps: a machine may have thousands of parts.
  std::unordered_map<std::string_view, const std::vector<uint8_t>*> by_name;
  for (const auto& [n, bytes] : states)
    if (!by_name.emplace(n, &bytes).second) throw SnapshotError("checkpoint has two states for '" + n + "'");
  auto find = [&](const std::string& name) -> const std::vector<uint8_t>& {
    auto it = by_name.find(name);
    if (it == by_name.end()) throw SnapshotError("checkpoint has no state for '" + name + "'");
    return *it->second;
  };
  std::unordered_set<std::string_view> owners;
  for (const auto& [n, owner] : state_owners_) owners.insert(n);
  for (const auto& [name, _] : states) {
    if (name != kMachineStateName && !owners.count(name))
      throw SnapshotError("checkpoint has state for '" + name + "', which this machine does not have");
  }
  const std::vector<uint8_t>& own_bytes = find(kMachineStateName);
  StateReader own(own_bytes.data(), own_bytes.size(), kMachineStateName);
  own.version(kMachineStateVersion);
  clock_.set_idle_ns(own.u64());
  timers_.load(own);
  bool intr = own.boolean();
  own.expect_end();
  for (const auto& [name, owner] : state_owners_) {
    const std::vector<uint8_t>& bytes = find(name);
    StateReader in(bytes.data(), bytes.size(), name);
    owner->load_state(in);
    in.expect_end();
  }
  cpu_pins_.set_irq(kCpuPinIntr, intr);
}

void Machine::skip_idle_to(uint64_t deadline_ns) {
  // The TSC counts virtual time (one tick per nanosecond), halted or not:
  // software measuring a sleep against it, and TSC-deadline timers, see the
  // time the guest slept.
  uint64_t before = clock_.now_ns();
  clock_.skip_idle_to(deadline_ns);
  vcpu_->state().tsc_offset += (clock_.now_ns() - before) / VirtualClock::kNsPerInsn;
}

RunOutcome Machine::run() {
  Vcpu& cpu = *vcpu_;
  X86CpuState& state = cpu.state();
  uint64_t next_poll = state.icount + kInputPollInsns;
  bool input_alive = true;
  auto next_stop = [&] { return next_stop_icount_ ? next_stop_icount_() : TimerQueue::kNever; };

  while (!run_control_.stop_requested()) {
    timers_.run_expired(clock_.now_ns());
    if (run_control_.stop_requested()) break;

    uint64_t deadline = timers_.next_deadline_ns();
    uint64_t budget = std::min(clock_.insns_until(deadline), next_poll - state.icount);
    uint64_t stop_at = next_stop();
    if (stop_at > state.icount) budget = std::min(budget, stop_at - state.icount);
    budget = std::max<uint64_t>(budget, 1);
    // A timer armed during the run with an earlier deadline asks for
    // attention, so it fires at its deadline whatever else bounded the budget.
    run_until_ns_ = clock_.now_ns() + budget * VirtualClock::kNsPerInsn;
    VcpuExit exit = cpu.run(state.icount + budget);
    run_until_ns_ = 0;
    uint8_t attention = run_control_.take_attention();
    if (exit == VcpuExit::kStopRequested) break;

    if (exit == VcpuExit::kHalted) {
      deadline = timers_.next_deadline_ns();  // the run may have armed timers
      bool can_wake = (state.rflags & rflags::kIf) != 0;
      if (!can_wake) {
        run_control_.request_shutdown("guest halted with interrupts disabled: nothing can wake it");
        break;
      }
      if (deadline == TimerQueue::kNever) {
        // Only outside input can wake the guest now: wait for it.
        input_alive = poll_inputs_ && poll_inputs_(state.icount, kWaitForever);
        if (!input_alive && !cpu_has_pending_wakeup()) {
          run_control_.request_shutdown("guest halted waiting for an interrupt that can never come (no timer armed, no input)");
          break;
        }
        continue;
      }
      // Pace an idle guest against real time (the host sleeps instead of
      // racing through the guest's timeouts, and input typed meanwhile
      // lands), then skip to the deadline: the skip depends on guest state
      // alone; the pacing decides only when input lands, which is logged.
      if (poll_inputs_) input_alive = poll_inputs_(state.icount, deadline - clock_.now_ns());
      // A run that ends while idle ends before the skip: a recording cut
      // short there replays to the same state.
      if (run_control_.stop_requested()) break;
      if (!cpu_has_pending_wakeup()) skip_idle_to(deadline);
      next_poll = state.icount + kInputPollInsns;
      continue;
    }

    // Regular polls follow a schedule that record and replay share; a
    // replay-layer stop is served even after outside input has ended, and so
    // is a point the replay layer reached early (it consumed an input
    // mid-run) or a host request.
    bool regular_poll = state.icount >= next_poll;
    if (regular_poll) next_poll = state.icount + kInputPollInsns;
    bool at_stop = state.icount == stop_at || state.icount == next_stop();
    if (poll_inputs_ && ((regular_poll && input_alive) || at_stop || (attention & attention::kHost)))
      input_alive = poll_inputs_(state.icount, 0);
  }

  run_control_.report_repeats();
  RunOutcome outcome;
  outcome.reason = run_control_.reason();
  outcome.exit_status = run_control_.exit_status();
  outcome.detail = run_control_.detail();
  outcome.icount = state.icount;
  return outcome;
}

}  // namespace rwd::core
