// The accelerator-facing vCPU: what the main loop and the board see of an
// execution engine (tcg-llvm's interpreter/JIT, or KVM). Engines implement it;
// nothing in core or hw includes an engine's headers.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/entropy.h"
#include "core/execution_footprint.h"
#include "core/irq.h"
#include "core/x86_cpu_state.h"

namespace rwd::core {

class AddressSpace;
class DirtyLog;
class RunControl;
class CpuidMask;

// A vCPU's local APIC as its own instructions reach it. The semantics check
// IA32_APIC_BASE writes and keep the MSR in the CPU state, then tell the APIC.
class LocalApicPort {
 public:
  virtual ~LocalApicPort() = default;
  // The x2APIC registers (MSRs 0x800-0x8ff) and IA32_TSC_DEADLINE (0x6e0);
  // false: #GP (x2APIC mode off, a read-only or reserved register, reserved bits).
  virtual bool read_msr(uint32_t index, uint64_t& value) = 0;
  virtual bool write_msr(uint32_t index, uint64_t value) = 0;
  virtual void apic_base_changed(uint64_t old_value) = 0;
  // CR8 is TPR[7:4].
  virtual uint64_t cr8() = 0;
  virtual void set_cr8(uint64_t value) = 0;
};

// What a debugger (tools/gdbstub) has a vCPU stop at, unseen by the guest:
// before an instruction whose linear address (CS base + RIP) is a
// breakpoint, and after every instruction while `step` is set. The vCPU
// then returns VcpuExit::kDebugTrap; run again, it does not stop again at
// the breakpoint it stopped at (as after a debugger's step over it).
// Watchpoints stop the vCPU after the instruction whose data access
// touched one (kind 2 writes, 3 reads, 4 either, as gdb's Z2-Z4); the vCPU
// leaves the address it touched in `watch_hit`.
struct DebugTraps {
  static constexpr uint8_t kWatchWrite = 2, kWatchRead = 3, kWatchAccess = 4;
  struct Watch {
    uint64_t address;
    uint64_t length;
    uint8_t kind;
  };
  struct WatchHit {
    uint64_t address;
    uint8_t kind;
  };
  std::vector<uint64_t> breakpoints;  // sorted
  std::vector<Watch> watches;
  bool step = false;
  // Stop (kDebugTrap) when this vCPU's own instruction count reaches it.
  std::optional<uint64_t> stop_at_icount;
  std::optional<WatchHit> watch_hit;  // set by the vCPU with the trap it caused
  // Traps that need the vCPU to look at every block (stop_at_icount does not:
  // it bounds the run like its limit).
  bool armed() const { return step || !breakpoints.empty() || !watches.empty(); }
};

// What a vCPU is plugged into.
struct CpuEnvironment {
  AddressSpace* memory = nullptr;           // guest-physical address space
  AddressSpace* io = nullptr;               // 64 KiB port-I/O space
  InterruptController* interrupt_controller = nullptr;  // answers INTA
  LocalApicPort* local_apic = nullptr;      // none: CR8 is a plain register, no x2APIC MSRs
  RunControl* run_control = nullptr;
  DirtyLog* dirty_log = nullptr;            // RAM pages the vCPU writes are marked here
  EntropySource* entropy = nullptr;         // RDRAND/RDSEED (none: they report no value)
  IrqLine fpu_error;                        // FERR#: an x87 error with CR0.NE clear (the board's IRQ 13)
  uint32_t apic_id = 0;                     // the initial APIC ID CPUID reports (the vCPU's index)
  const CpuidMask* cpuid_mask = nullptr;    // features -cpu took out of CPUID (none: the full model)
  DebugTraps* debug_traps = nullptr;        // a debugger's breakpoints and steps (none: never stops for one)
};

enum class VcpuExit : uint8_t {
  kLimitReached,   // state().icount == icount_limit
  kHalted,         // HLT with no deliverable interrupt
  kStopRequested,  // RunControl::stop_requested() became true
  kAttention,      // RunControl::attention_requested(): back to the main loop, run goes on
  kYielded,        // PAUSE retired: the vCPU spins waiting for another, its turn ends
  kDebugTrap,      // DebugTraps: at a breakpoint (not yet run) or after a step
};

// IrqSink pins of a vCPU.
inline constexpr unsigned kCpuPinIntr = 0;
inline constexpr unsigned kCpuPinNmi = 1;

class Vcpu : public IrqSink {
 public:
  ~Vcpu() override = default;

  virtual X86CpuState& state() = 0;
  // Execute until state().icount reaches icount_limit (exactly: never beyond),
  // the vCPU halts, a stop is requested, or attention is requested (checked
  // at least at every block end and REP iteration, so within microseconds of
  // host time). A triple fault requests a shutdown through RunControl with a
  // description of the faults.
  virtual VcpuExit run(uint64_t icount_limit) = 0;
  // The state was changed from outside (loader, snapshot restore, debugger):
  // drop anything cached from it.
  virtual void state_changed() = 0;
  // Guest-physical memory was written from outside (loader, DMA).
  virtual void memory_written(uint64_t paddr, uint64_t len) = 0;
  // The physical memory map changed (a region added, removed or moved): every
  // translation and anything decoded from guest-physical memory is stale.
  virtual void memory_map_changed() = 0;
  // The dirty log was cleared (a checkpoint was taken): the next write to any
  // page must mark it again, so cached writable mappings must be dropped.
  // It also starts the vCPU's next execution footprint.
  virtual void dirty_log_cleared() = 0;
  // Adds what the vCPU did since the dirty log was last cleared (the code it
  // ran, the pages it wrote) to `into`; false when it cannot tell (a
  // hardware-run vCPU), leaving `into` as it was.
  virtual bool add_footprint(ExecutionFootprint& into) const {
    (void)into;
    return false;
  }
};

}  // namespace rwd::core
