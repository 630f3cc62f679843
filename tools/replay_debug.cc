#include "tools/replay_debug.h"

#include <algorithm>

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

void ReplayTarget::poll() {
  if (interrupted_ && !interrupt_taken_ && (*interrupted_)()) {
    interrupt_taken_ = true;
    machine_.run_control().request_debug_trap();
  }
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
    // another one may reach a breakpoint first.
    return {step_cpu && cpu == *step_cpu ? StopKind::kStep : StopKind::kBreakpoint, cpu};
  }
  // Anything else ends what can be replayed: the recording's end (the
  // guest's exit, its power-off, the user's quit when it was recorded), a
  // cut trace, or a divergence (which the replay reports when it ends).
  at_end_ = true;
  return {StopKind::kEndOfHistory, cpu};
}

}  // namespace rwd::tools
