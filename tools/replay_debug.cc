#include "tools/replay_debug.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "tcg-llvm/interp/softmmu_tlb.h"

namespace rwd::tools {

std::optional<std::string> ReplayTarget::read_memory(unsigned index, uint64_t address, size_t length) {
  const core::X86CpuState& s = machine_.cpu_state(index);
  std::string out;
  // A page at a time: each translated through the vCPU's page tables by a
  // walk that sets no accessed or dirty bit, and read only where it is RAM
  // or ROM (a device register read could change the device).
  while (out.size() < length) {
    const uint64_t linear = s.long_mode_active() ? address + out.size() : uint32_t(address + out.size());
    uint64_t phys = linear;
    if (s.paging()) {
      tcg::WalkResult w = tcg::page_walk(machine_.memory(), s, linear, tcg::Access::kRead, tcg::kSupervisor, nullptr);
      if (!w.ok) break;
      phys = w.phys;
    }
    const size_t chunk = std::min<size_t>(length - out.size(), tcg::kPageSize - (linear & (tcg::kPageSize - 1)));
    bool writable;
    const uint8_t* host = machine_.memory().readable_pointer(phys, chunk, writable);
    if (!host) break;
    out.append(reinterpret_cast<const char*>(host), chunk);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

void ReplayTarget::set_breakpoints(const std::vector<uint64_t>& addresses) {
  for (unsigned i = 0; i < machine_.cpu_count(); ++i) machine_.debug_traps(i).breakpoints = addresses;
}

void ReplayTarget::set_watchpoints(const std::vector<Watch>& watches) {
  for (unsigned i = 0; i < machine_.cpu_count(); ++i) machine_.debug_traps(i).watches = watches;
}

gdb::DebugTarget::Stop ReplayTarget::trap_stop(unsigned cpu) {
  std::optional<core::DebugTraps::WatchHit>& hit = machine_.debug_traps(cpu).watch_hit;
  Stop stop{StopKind::kBreakpoint, cpu};
  if (hit) stop = Stop{StopKind::kWatchpoint, cpu, hit->address, hit->kind};
  hit.reset();
  return stop;
}

void ReplayTarget::poll() {
  if (interrupted_ && !interrupt_taken_ && (*interrupted_)()) {
    interrupt_taken_ = true;
    machine_.run_control().request_debug_trap();
  }
}

const replay::SeekIndex& ReplayTarget::index() {
  if (!index_) index_ = std::make_unique<replay::SeekIndex>(reader_);
  return *index_;
}

std::vector<core::DebugTraps> ReplayTarget::disarm_traps() {
  std::vector<core::DebugTraps> armed;
  for (unsigned i = 0; i < machine_.cpu_count(); ++i) armed.push_back(std::exchange(machine_.debug_traps(i), {}));
  return armed;
}

void ReplayTarget::rearm_traps(std::vector<core::DebugTraps>&& armed) {
  for (unsigned i = 0; i < machine_.cpu_count(); ++i) machine_.debug_traps(i) = std::move(armed[i]);
}

void ReplayTarget::seek(size_t checkpoint) {
  replay::seek_to_checkpoint(machine_, reader_, index(), replayer_.last_checkpoint(), checkpoint);
  replayer_.reposition(checkpoint);
  at_end_ = false;
}

core::StopReason ReplayTarget::run_until(uint64_t end) {
  if (machine_.icount() >= end) return core::StopReason::kNone;
  replayer_.stop_at(end);
  machine_.run_control().clear();
  core::RunOutcome outcome = machine_.run();
  replayer_.clear_stop_at();
  return outcome.reason;
}

void ReplayTarget::move_to(uint64_t target) {
  // From the latest point at or before the target among: here, the
  // recording's checkpoints, and the session's own.
  const size_t checkpoint = reader_.checkpoint_at_or_before(target).value_or(0);
  const uint64_t checkpoint_icount = reader_.checkpoints().empty() ? 0 : reader_.checkpoints()[checkpoint].icount;
  const std::optional<uint64_t> session = session_.latest_at_or_before(target);
  const uint64_t here = machine_.icount();
  const bool from_here = here <= target && here >= checkpoint_icount && (!session || here >= *session);
  if (!from_here) {
    if (session && *session >= checkpoint_icount) {
      session_.restore(*session, machine_, reader_, index(), replayer_);
      at_end_ = false;
    } else {
      seek(checkpoint);
    }
  }
  std::vector<core::DebugTraps> armed = disarm_traps();
  // A long way to go: a session checkpoint on the way, at a multiple of the
  // spacing, so that the next step back near here is a short replay.
  const uint64_t mark = target - target % kSessionCheckpointSpacing;
  if (mark > machine_.icount() && session_.budget_bytes()) {
    run_until(mark);
    if (machine_.icount() == mark && replayer_.divergence().empty() && replayer_.damage().empty())
      session_.take(machine_, replayer_);
  }
  run_until(target);
  rearm_traps(std::move(armed));
}

std::string ReplayTarget::go_to(uint64_t icount) {
  const uint64_t last = reader_.last_icount();
  if (icount > last) return "the recording ends at icount " + std::to_string(last);
  move_to(icount);
  return "";
}

std::string ReplayTarget::describe_checkpoints() const {
  const auto& all = reader_.checkpoints();
  std::string out = std::to_string(all.size()) + " checkpoints in the recording (every " +
                    std::to_string(reader_.header().checkpoint_interval) + " instructions), the last at icount " +
                    (all.empty() ? std::string("-") : std::to_string(all.back().icount)) + "; the recording ends at icount " +
                    std::to_string(reader_.last_icount()) + "\n";
  auto mib = [](size_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", double(bytes) / (1 << 20));
    return std::string(text);
  };
  out += std::to_string(session_.count()) + " session checkpoints in memory, " + mib(session_.bytes()) + " of a " +
         mib(session_.budget_bytes()) + " budget (--checkpoint-memory)\n";
  return out;
}

bool ReplayTarget::may_trap_after(size_t k) {
  // The footprint of the interval from checkpoint k is in the next one; the
  // last interval has none.
  if (k + 1 >= reader_.checkpoints().size()) return true;
  const core::DebugTraps& traps = machine_.debug_traps(0);  // every vCPU has the same
  for (uint64_t address : traps.breakpoints)
    if (index().may_have_run(k + 1, address)) return true;
  for (const core::DebugTraps::Watch& w : traps.watches) {
    // Reads are not in footprints: a read or access watchpoint replays all.
    if (w.kind != core::DebugTraps::kWatchWrite) return true;
    if (index().may_have_written(k + 1, w.address, w.length)) return true;
  }
  return false;
}

gdb::DebugTarget::Stop ReplayTarget::reverse_step(unsigned cpu) {
  const uint64_t now = machine_.icount();
  const uint64_t own = machine_.cpu_state(cpu).icount;  // the vCPU's own count
  // Most often the vCPU ran the machine's last instruction.
  move_to(now - 1);
  if (machine_.cpu_state(cpu).icount + 1 == own) return {StopKind::kStep, cpu};
  // Else its last instruction came before other vCPUs' turns: find the point
  // right after it (its count reaching `own`, from a checkpoint where it is
  // below), then stop just before it.
  for (size_t k = reader_.checkpoint_at_or_before(now - 1).value_or(0);; --k) {
    seek(k);
    if (machine_.cpu_state(cpu).icount < own) break;
    if (k == 0) {
      move_to(0);
      return {StopKind::kStartOfHistory, cpu};
    }
  }
  std::vector<core::DebugTraps> armed = disarm_traps();
  machine_.debug_traps(cpu).stop_at_icount = own;
  run_until(now);
  const uint64_t after = machine_.icount();
  const bool found = machine_.cpu_state(cpu).icount == own;
  rearm_traps(std::move(armed));
  if (!found) throw std::runtime_error("vCPU " + std::to_string(cpu) + " did not reach its instruction " +
                                       std::to_string(own) + " again on the way back (machine icount " +
                                       std::to_string(after) + ")");
  move_to(after - 1);
  return {StopKind::kStep, cpu};
}

gdb::DebugTarget::Stop ReplayTarget::reverse(std::optional<unsigned> step_cpu,
                                             const std::function<bool()>& interrupted) {
  const uint64_t now = machine_.icount();
  if (now == 0) return {StopKind::kStartOfHistory, step_cpu.value_or(machine_.running_vcpu())};
  if (step_cpu) return reverse_step(*step_cpu);
  // The latest breakpoint hit before now: each interval between checkpoints,
  // newest first, replayed with the breakpoints armed -- unless the
  // recording's footprint of the interval shows that no trap can fire in it.
  // A Ctrl-C stops the search where it is (between intervals, or at the
  // machine's next input poll in one).
  uint64_t end = now;
  for (size_t k = reader_.checkpoint_at_or_before(now - 1).value_or(0);; --k) {
    if (!may_trap_after(k)) {
      end = reader_.checkpoints()[k].icount;
      if (k == 0) break;
      continue;
    }
    if (interrupted()) return {StopKind::kInterrupted, machine_.running_vcpu()};
    seek(k);
    std::optional<Stop> last;
    uint64_t last_icount = 0;
    interrupted_ = &interrupted;
    interrupt_taken_ = false;
    while (machine_.icount() < end && run_until(end) == core::StopReason::kDebugTrap && !interrupt_taken_) {
      last = trap_stop(machine_.running_vcpu());
      last_icount = machine_.icount();
    }
    interrupted_ = nullptr;
    if (interrupt_taken_) return {StopKind::kInterrupted, machine_.running_vcpu()};
    if (last) {
      // A watchpoint's trap comes after the instruction that touched it:
      // going back, gdb stops before that instruction.
      move_to(last->kind == StopKind::kWatchpoint && last_icount > 0 ? last_icount - 1 : last_icount);
      return *last;
    }
    end = reader_.checkpoints()[k].icount;
    if (k == 0) break;
  }
  move_to(0);
  return {StopKind::kStartOfHistory, machine_.running_vcpu()};
}

gdb::DebugTarget::Stop ReplayTarget::resume(std::optional<unsigned> step_cpu,
                                            const std::function<bool()>& interrupted) {
  if (at_end_) return {StopKind::kEndOfHistory, machine_.running_vcpu()};
  if (step_cpu) machine_.debug_traps(*step_cpu).step = true;
  interrupted_ = &interrupted;
  interrupt_taken_ = false;
  machine_.run_control().clear();
  core::RunOutcome outcome = machine_.run();
  interrupted_ = nullptr;
  if (step_cpu) machine_.debug_traps(*step_cpu).step = false;
  const unsigned cpu = machine_.running_vcpu();
  if (outcome.reason == core::StopReason::kDebugTrap) {
    if (interrupt_taken_) return {StopKind::kInterrupted, cpu};
    // A stepping vCPU runs its one instruction whatever breakpoint is there;
    // another one may reach a breakpoint first; an instruction may touch a watchpoint.
    Stop stop = trap_stop(cpu);
    if (stop.kind == StopKind::kBreakpoint && step_cpu && cpu == *step_cpu) stop.kind = StopKind::kStep;
    return stop;
  }
  // Anything else ends what can be replayed: the recording's end (the
  // guest's exit, its power-off, the user's quit when it was recorded), a
  // cut trace, or a divergence (which the replay reports when it ends).
  at_end_ = true;
  return {StopKind::kEndOfHistory, cpu};
}

}  // namespace rwd::tools
