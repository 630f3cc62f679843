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

Machine::Machine(uint64_t ram_size, unsigned cpus, uint64_t rom_size)
    : ram_size_(ram_size),
      rom_size_(rom_size),
      ram_(allocate_ram(ram_size + rom_size)),
      memory_("memory", ~0ull),
      io_("io", 0x10000),
      dirty_log_(ram_, ram_size + rom_size),
      clock_(&machine_icount_),
      cpus_(cpus ? cpus : 1),
      current_(unsigned(cpus_.size()) - 1) {  // so that the first turn is vCPU 0's
  // What is written into RAM from outside the vCPUs, and remaps, reach every
  // vCPU's block cache and TLB.
  memory_.set_ram_write_listener([this](uint64_t addr, uint64_t len) {
    for (Cpu& cpu : cpus_)
      if (cpu.vcpu) cpu.vcpu->memory_written(addr, len);
  });
  memory_.set_map_listener([this] {
    for (Cpu& cpu : cpus_)
      if (cpu.vcpu) cpu.vcpu->memory_map_changed();
  });
  timers_.set_arm_listener([this](uint64_t deadline_ns) {
    if (deadline_ns < run_until_ns_) run_control_.request_attention(attention::kReplan);
  });
}

Machine::~Machine() {
  for (Cpu& cpu : cpus_) {
    cpu.pins.vcpu = nullptr;
    cpu.vcpu.reset();
  }
  munmap(ram_, ram_size_ + rom_size_ ? ram_size_ + rom_size_ : 1);
}

void Machine::attach_vcpu(std::unique_ptr<Vcpu> vcpu) {
  auto it = std::find_if(cpus_.begin(), cpus_.end(), [](const Cpu& c) { return !c.vcpu; });
  if (it == cpus_.end()) throw std::logic_error("attach_vcpu: the machine has all its vCPUs");
  it->vcpu = std::move(vcpu);
  it->pins.vcpu = it->vcpu.get();
  if (it->pins.intr) it->vcpu->set_irq(kCpuPinIntr, true);
  resync_icount();
}

void Machine::resync_icount() {
  machine_icount_ = 0;
  for (const Cpu& cpu : cpus_)
    if (cpu.vcpu) machine_icount_ += cpu.vcpu->state().icount;
  clock_.bind_icount(&machine_icount_);
}

void Machine::CpuPins::set_irq(unsigned pin, bool level) {
  if (pin == kCpuPinIntr) intr = level;
  if (vcpu) vcpu->set_irq(pin, level);
}

bool Machine::runnable(unsigned index) const {
  const Cpu& cpu = cpus_[index];
  const X86CpuState& s = cpu.vcpu->state();
  if (s.wait_for_sipi) return false;
  if (!s.halted) return true;
  return (cpu.pins.intr && (s.rflags & rflags::kIf)) || (s.nmi_pending && !s.nmi_blocked);
}

bool Machine::can_ever_wake() const {
  for (const Cpu& cpu : cpus_) {
    const X86CpuState& s = cpu.vcpu->state();
    if (!s.wait_for_sipi && ((s.rflags & rflags::kIf) || !s.halted)) return true;
  }
  return false;
}

uint64_t Machine::tsc(unsigned index) const {
  const Cpu& cpu = cpus_.at(index);
  uint64_t tsc = cpu.vcpu->state().tsc();
  if (index == current_ && run_until_ns_) return tsc;  // running: its own count is current
  return tsc + (clock_.now_ns() - cpu.last_seen_ns) / VirtualClock::kNsPerInsn;
}

void Machine::init_vcpu(unsigned index) {
  Vcpu& vcpu = *cpus_.at(index).vcpu;
  X86CpuState& s = vcpu.state();
  X86CpuState fresh = reset_cpu_state();
  fresh.apic_base = s.apic_base;
  fresh.icount = s.icount;
  fresh.tsc_offset = s.tsc_offset;
  fresh.nmi_pending = s.nmi_pending;
  fresh.halted = true;
  fresh.wait_for_sipi = true;
  s = fresh;
  vcpu.state_changed();
}

void Machine::startup_vcpu(unsigned index, uint8_t vector) {
  Vcpu& vcpu = *cpus_.at(index).vcpu;
  X86CpuState& s = vcpu.state();
  if (!s.wait_for_sipi) return;  // a start-up IPI reaches only a vCPU waiting for one
  s.wait_for_sipi = false;
  s.halted = false;
  s.seg[static_cast<int>(SegReg::kCs)].selector = uint16_t(uint16_t(vector) << 8);
  s.seg[static_cast<int>(SegReg::kCs)].base = uint64_t(vector) << 12;
  s.rip = 0;
  vcpu.state_changed();
}

CpuEnvironment Machine::cpu_environment(unsigned index) {
  Cpu& cpu = cpus_.at(index);
  return CpuEnvironment{&memory_,    &io_,     cpu.interrupt_controller, cpu.local_apic, &run_control_,
                        &dirty_log_, entropy_, fpu_error_,               index,          &cpuid_mask_,
                        &cpu.debug_traps};
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
constexpr uint32_t kMachineStateVersion = 2;
constexpr const char* kMachineStateName = "machine";
}  // namespace

std::vector<Machine::NamedState> Machine::save_states() const {
  std::vector<NamedState> states;
  StateWriter own;
  own.u32(kMachineStateVersion);
  own.u64(clock_.idle_ns());
  timers_.save(own);
  own.u32(cpu_count());
  for (const Cpu& cpu : cpus_) {
    own.boolean(cpu.pins.intr);
    own.u64(cpu.last_seen_ns);
  }
  own.u32(current_);
  own.u64(turn_end_);
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
  const uint32_t count = own.u32();
  if (count != cpu_count())
    throw SnapshotError("machine: a checkpoint of " + std::to_string(count) + " vCPUs for a machine with " +
                        std::to_string(cpu_count()));
  std::vector<std::pair<bool, uint64_t>> pins(count);
  for (auto& [intr, last_seen] : pins) {
    intr = own.boolean();
    last_seen = own.u64();
  }
  const uint32_t current = own.u32();
  if (current >= count) throw SnapshotError("machine: corrupt state: vCPU " + std::to_string(current) + " runs");
  const uint64_t turn_end = own.u64();
  own.expect_end();
  for (const auto& [name, owner] : state_owners_) {
    const std::vector<uint8_t>& bytes = find(name);
    StateReader in(bytes.data(), bytes.size(), name);
    owner->load_state(in);
    in.expect_end();
  }
  for (unsigned i = 0; i < count; ++i) {
    cpus_[i].pins.set_irq(kCpuPinIntr, pins[i].first);
    cpus_[i].last_seen_ns = pins[i].second;
  }
  current_ = current;
  turn_end_ = turn_end;
}

bool Machine::schedule() {
  const unsigned n = cpu_count();
  if (runnable(current_) && icount() < turn_end_) return true;
  for (unsigned step = 1; step <= n; ++step) {
    unsigned next = (current_ + step) % n;
    if (runnable(next)) {
      current_ = next;
      turn_end_ = icount() + quantum_;
      return true;
    }
  }
  return false;
}

void Machine::begin_slice(unsigned index) {
  Cpu& cpu = cpus_[index];
  X86CpuState& s = cpu.vcpu->state();
  // The TSC counts virtual time whether or not this vCPU ran: other vCPUs'
  // turns and idle skips move it on, so software measuring time against it
  // (and a TSC deadline) sees the time that passed.
  s.tsc_offset += (clock_.now_ns() - cpu.last_seen_ns) / VirtualClock::kNsPerInsn;
  slice_start_ = s.icount;
  clock_.bind_icount(&s.icount, machine_icount_ - s.icount);
  if (on_switch_) on_switch_(index);
}

void Machine::end_slice(unsigned index) {
  Cpu& cpu = cpus_[index];
  machine_icount_ += cpu.vcpu->state().icount - slice_start_;
  clock_.bind_icount(&machine_icount_);
  cpu.last_seen_ns = clock_.now_ns();
}

RunOutcome Machine::run() {
  resync_icount();
  uint64_t next_poll = icount() + kInputPollInsns;
  bool input_alive = true;
  auto next_stop = [&] { return next_stop_icount_ ? next_stop_icount_() : TimerQueue::kNever; };

  while (!run_control_.stop_requested()) {
    timers_.run_expired(clock_.now_ns());
    if (run_control_.stop_requested()) break;

    if (!schedule()) {
      // Every vCPU is halted (or waits for a start-up IPI).
      uint64_t deadline = timers_.next_deadline_ns();
      if (!can_ever_wake()) {
        run_control_.request_shutdown("guest halted with interrupts disabled: nothing can wake it");
        break;
      }
      if (deadline == TimerQueue::kNever) {
        // Only outside input can wake the guest now: wait for it.
        input_alive = poll_inputs_ && poll_inputs_(icount(), kWaitForever);
        if (!input_alive && !schedule()) {
          run_control_.request_shutdown("guest halted waiting for an interrupt that can never come (no timer armed, no input)");
          break;
        }
        continue;
      }
      // Pace an idle guest against real time (the host sleeps instead of
      // racing through the guest's timeouts, and input typed meanwhile
      // lands), then skip to the deadline: the skip depends on guest state
      // alone; the pacing decides only when input lands, which is logged.
      if (poll_inputs_) input_alive = poll_inputs_(icount(), deadline - clock_.now_ns());
      // A run that ends while idle ends before the skip: a recording cut
      // short there replays to the same state.
      if (run_control_.stop_requested()) break;
      if (!schedule()) clock_.skip_idle_to(deadline);
      next_poll = icount() + kInputPollInsns;
      continue;
    }

    const uint64_t now_icount = icount();
    uint64_t deadline = timers_.next_deadline_ns();
    uint64_t budget = std::min({clock_.insns_until(deadline), next_poll - now_icount, turn_end_ - now_icount});
    uint64_t stop_at = next_stop();
    if (stop_at > now_icount) budget = std::min(budget, stop_at - now_icount);
    budget = std::max<uint64_t>(budget, 1);
    // A timer armed during the run with an earlier deadline asks for
    // attention, so it fires at its deadline whatever else bounded the budget.
    run_until_ns_ = clock_.now_ns() + budget * VirtualClock::kNsPerInsn;
    const unsigned index = current_;
    Vcpu& cpu = *cpus_[index].vcpu;
    begin_slice(index);
    VcpuExit exit = cpu.run(cpu.state().icount + budget);
    end_slice(index);
    run_until_ns_ = 0;
    uint8_t attention = run_control_.take_attention();
    if (exit == VcpuExit::kStopRequested) break;
    if (exit == VcpuExit::kHalted) continue;  // the scheduler moves on
    if (exit == VcpuExit::kYielded) turn_end_ = icount();  // PAUSE: the next vCPU's turn
    if (exit == VcpuExit::kDebugTrap) {
      run_control_.request_debug_trap();
      break;
    }

    // Regular polls follow a schedule that record and replay share; a
    // replay-layer stop is served even after outside input has ended, and so
    // is a point the replay layer reached early (it consumed an input
    // mid-run) or a host request.
    const uint64_t at = icount();
    bool regular_poll = at >= next_poll;
    if (regular_poll) next_poll = at + kInputPollInsns;
    bool at_stop = at == stop_at || at == next_stop();
    if (poll_inputs_ && ((regular_poll && input_alive) || at_stop || (attention & attention::kHost)))
      input_alive = poll_inputs_(at, 0);
  }

  run_control_.report_repeats();
  RunOutcome outcome;
  outcome.reason = run_control_.reason();
  outcome.exit_status = run_control_.exit_status();
  outcome.detail = run_control_.detail();
  outcome.icount = icount();
  return outcome;
}

}  // namespace rwd::core
