// The gdbstub's view of a replay (tools/gdbstub/debug_target.h): registers
// and memory of the replaying machine, breakpoints and steps through its
// debugger traps (core::DebugTraps), runs that end where the recording does.
#pragma once

#include <functional>

#include "core/machine.h"
#include "replay/replayer.h"
#include "tools/gdbstub/debug_target.h"

namespace rwd::tools {

class ReplayTarget final : public gdb::DebugTarget {
 public:
  ReplayTarget(core::Machine& machine, replay::Replayer& replayer) : machine_(machine), replayer_(replayer) {}

  unsigned cpu_count() const override { return machine_.cpu_count(); }
  const core::X86CpuState& cpu(unsigned index) const override { return machine_.cpu_state(index); }
  std::optional<std::string> read_memory(unsigned index, uint64_t address, size_t length) override;
  void set_breakpoints(const std::vector<uint64_t>& addresses) override;
  Stop resume(std::optional<unsigned> step_cpu, const std::function<bool()>& interrupted) override;
  uint64_t icount() const override { return machine_.icount(); }

  // Called at the machine's input polls (every 2^20 instructions) while it
  // runs: a debugger's Ctrl-C stops it there.
  void poll();
  bool at_end() const { return at_end_; }

 private:
  core::Machine& machine_;
  replay::Replayer& replayer_;
  const std::function<bool()>* interrupted_ = nullptr;  // while resume() runs
  bool interrupt_taken_ = false;
  bool at_end_ = false;
};

}  // namespace rwd::tools
