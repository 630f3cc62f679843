// What the gdbstub debugs, seen through what gdb can ask of it. The replay
// implements it (tools/replay_debug); tests can fake it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/vcpu.h"
#include "core/x86_cpu_state.h"

namespace rwd::tools::gdb {

class DebugTarget {
 public:
  virtual ~DebugTarget() = default;

  virtual unsigned cpu_count() const = 0;
  virtual const core::X86CpuState& cpu(unsigned index) const = 0;
  // Guest memory at linear `address` as vCPU `index` sees it now (its page
  // tables, read without setting A/D bits); nullopt where nothing readable
  // is mapped (a hole, a device register: reading one would change it).
  virtual std::optional<std::string> read_memory(unsigned index, uint64_t address, size_t length) = 0;
  // Where every vCPU stops before running an instruction (linear addresses).
  virtual void set_breakpoints(const std::vector<uint64_t>& addresses) = 0;
  // Data watchpoints (kind 2 write, 3 read, 4 access, as Z2-Z4): a vCPU
  // stops after the instruction that touched one.
  using Watch = core::DebugTraps::Watch;
  virtual void set_watchpoints(const std::vector<Watch>& watches) = 0;

  enum class StopKind : uint8_t {
    kStep,          // the step asked for is done
    kBreakpoint,    // at a breakpoint, before its instruction
    kInterrupted,   // the debugger asked to stop (Ctrl-C)
    kEndOfHistory,  // the recording ends here: nothing more to run
    kStartOfHistory,  // going back reached the recording's start
    kWatchpoint,    // after (going back: before) an instruction that touched a watchpoint
  };
  struct Stop {
    StopKind kind;
    unsigned cpu;  // the vCPU it concerns
    uint64_t watch_address = 0;  // kWatchpoint: what it touched
    uint8_t watch_kind = 0;      // kWatchpoint: 2, 3 or 4
  };
  // Runs on: one instruction of vCPU `step_cpu` when set, else until a
  // breakpoint, the end, or `interrupted()` (asked now and then) says stop.
  virtual Stop resume(std::optional<unsigned> step_cpu, const std::function<bool()>& interrupted) = 0;
  // Back in time: to just before vCPU `step_cpu`'s last instruction, or
  // (no step) to the latest breakpoint hit before now (the start when there
  // is none); `interrupted()` (asked now and then) stops the search where
  // it is.
  virtual Stop reverse(std::optional<unsigned> step_cpu, const std::function<bool()>& interrupted) = 0;
  // To instruction `icount` of the run (monitor goto), breakpoints ignored;
  // a message for the user when it cannot go there, else empty.
  virtual std::string go_to(uint64_t icount) = 0;
  // What monitor checkpoints prints.
  virtual std::string describe_checkpoints() const = 0;
  // Where the run is (the machine's instruction count), for monitor icount.
  virtual uint64_t icount() const = 0;
};

}  // namespace rwd::tools::gdb
