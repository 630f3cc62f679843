// The gdbstub's view of a replay (tools/gdbstub/debug_target.h): registers
// and memory of the replaying machine, breakpoints and steps through its
// debugger traps (core::DebugTraps), runs that end where the recording does.
// Going back is going to a point: the nearest checkpoint at or before it
// (replay/checkpoints: in place), then replaying forward to it exactly.
// reverse-continue searches backwards one checkpoint interval at a time,
// replaying each with the breakpoints armed and keeping its last hit.
#pragma once

#include <functional>

#include <memory>

#include "core/machine.h"
#include "replay/checkpoints.h"
#include "replay/replayer.h"
#include "replay/session_checkpoints.h"
#include "traces/trace_reader.h"
#include "tools/gdbstub/debug_target.h"

namespace rwd::tools {

class ReplayTarget final : public gdb::DebugTarget {
 public:
  // Going back places session checkpoints (replay/session_checkpoints) this
  // many instructions apart, at most: a step back then replays fewer.
  static constexpr uint64_t kSessionCheckpointSpacing = 1u << 20;

  // `session_budget_bytes`: memory the session's own checkpoints may hold.
  ReplayTarget(core::Machine& machine, replay::Replayer& replayer, traces::TraceReader& reader,
               size_t session_budget_bytes = replay::SessionCheckpoints::kDefaultBudgetBytes)
      : machine_(machine), replayer_(replayer), reader_(reader), session_(session_budget_bytes) {}

  unsigned cpu_count() const override { return machine_.cpu_count(); }
  const core::X86CpuState& cpu(unsigned index) const override { return machine_.cpu_state(index); }
  std::optional<std::string> read_memory(unsigned index, uint64_t address, size_t length) override;
  void set_breakpoints(const std::vector<uint64_t>& addresses) override;
  void set_watchpoints(const std::vector<Watch>& watches) override;
  Stop resume(std::optional<unsigned> step_cpu, const std::function<bool()>& interrupted) override;
  Stop reverse(std::optional<unsigned> step_cpu, const std::function<bool()>& interrupted) override;
  std::string go_to(uint64_t icount) override;
  std::string describe_checkpoints() const override;
  uint64_t icount() const override { return machine_.icount(); }

  // Called at the machine's input polls (every 2^20 instructions) while it
  // runs: a debugger's Ctrl-C stops it there.
  void poll();
  bool at_end() const { return at_end_; }
  const replay::SessionCheckpoints& session_checkpoints() const { return session_; }

 private:
  // The machine exactly at instruction `target` of the recording, breakpoints
  // ignored on the way.
  void move_to(uint64_t target);
  void seek(size_t checkpoint);
  // Replays on to `end` (at most), with the traps as they are; returns how
  // the run stopped.
  core::StopReason run_until(uint64_t end);
  // Back to just before vCPU `cpu`'s last instruction.
  Stop reverse_step(unsigned cpu);
  // Whether a breakpoint or watchpoint may fire between checkpoint k and the
  // next one (their footprint; always true past the last checkpoint).
  bool may_trap_after(size_t k);
  // The seek index, read at the first need (it reads every checkpoint).
  const replay::SeekIndex& index();
  // Takes every vCPU's debugger traps off (for a run that must not stop at
  // them) and puts them back.
  std::vector<core::DebugTraps> disarm_traps();
  void rearm_traps(std::vector<core::DebugTraps>&& armed);
  // What a kDebugTrap stop of vCPU `cpu` was (watch hit or breakpoint); clears the hit.
  Stop trap_stop(unsigned cpu);

  core::Machine& machine_;
  replay::Replayer& replayer_;
  traces::TraceReader& reader_;
  std::unique_ptr<replay::SeekIndex> index_;  // built at the first step back
  replay::SessionCheckpoints session_;
  const std::function<bool()>* interrupted_ = nullptr;  // while resume() runs
  bool interrupt_taken_ = false;
  bool at_end_ = false;
};

}  // namespace rwd::tools
