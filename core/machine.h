// A machine: guest RAM, the memory and port-I/O address spaces, the virtual
// clock and timer queue, the vCPU, and the main loop that drives them. The
// board (hw/) populates it with devices; an accelerator supplies the vCPU.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/dirty_log.h"
#include "core/memory.h"
#include "core/run_control.h"
#include "core/snapshot.h"
#include "core/timer_queue.h"
#include "core/vcpu.h"
#include "core/virtual_clock.h"

namespace rwd::core {

struct RunOutcome {
  StopReason reason = StopReason::kNone;
  int exit_status = 0;
  std::string detail;
  uint64_t icount = 0;
};

class Machine {
 public:
  explicit Machine(uint64_t ram_size);
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  // Guest RAM as one host block; the board decides where it appears in memory().
  uint8_t* ram() { return ram_; }
  const uint8_t* ram() const { return ram_; }
  uint64_t ram_size() const { return ram_size_; }
  AddressSpace& memory() { return memory_; }
  AddressSpace& io() { return io_; }
  VirtualClock& clock() { return clock_; }
  TimerQueue& timers() { return timers_; }
  RunControl& run_control() { return run_control_; }
  // RAM pages written since the last checkpoint (the board maps RAM with it).
  DirtyLog& dirty_log() { return dirty_log_; }
  const DirtyLog& dirty_log() const { return dirty_log_; }

  // Checkpoint state of everything but the vCPU and RAM: the machine's own
  // (virtual clock, timer order, INTR pin) and every registered device, by
  // stable name, in registration order.
  using NamedState = std::pair<std::string, std::vector<uint8_t>>;
  void register_state(std::string name, Snapshottable* owner);
  void unregister_state(const Snapshottable* owner);
  std::vector<NamedState> save_states() const;
  // Throws SnapshotError when a name is missing, unknown, or its state malformed.
  void load_states(const std::vector<NamedState>& states);

  void attach_vcpu(std::unique_ptr<Vcpu> vcpu);
  Vcpu& vcpu() { return *vcpu_; }
  bool has_vcpu() const { return vcpu_ != nullptr; }
  // Where the vCPU plugs in; valid once the board has installed its
  // interrupt controller with set_interrupt_controller().
  CpuEnvironment cpu_environment();
  void set_interrupt_controller(InterruptController* controller) { interrupt_controller_ = controller; }
  // The vCPU's local APIC (CR8, x2APIC MSRs); none: CR8 is a plain register.
  void set_local_apic(LocalApicPort* apic) { local_apic_ = apic; }
  // Where RDRAND's values come from (set before the vCPU is attached).
  void set_entropy(EntropySource* entropy) { entropy_ = entropy; }
  // Where the CPU's FERR# output goes (the board's IRQ 13 latch).
  void set_fpu_error_line(IrqLine line) { fpu_error_ = line; }

  // The vCPU's interrupt pins as the board sees them: the board wires the
  // interrupt controller's output here; levels are remembered (so the main loop
  // knows whether a halted vCPU will wake) and forwarded to the vCPU.
  IrqSink& cpu_pins() { return cpu_pins_; }

  // Called between instructions to let outside input in (console bytes, user
  // requests), waiting up to max_wait_ns of host time for some to arrive when
  // the guest is idle; returns false when no input can ever arrive again.
  static constexpr uint64_t kWaitForever = ~0ull;
  using InputPoller = std::function<bool(uint64_t icount, uint64_t max_wait_ns)>;
  void set_input_poller(InputPoller poller) { poll_inputs_ = std::move(poller); }
  // The replay layer's own stopping points (record: the next checkpoint;
  // replay: the next logged event or checkpoint). The vCPU never runs past the
  // returned icount, and the poller is called when the run reaches it.
  void set_stop_points(std::function<uint64_t()> next_stop_icount) { next_stop_icount_ = std::move(next_stop_icount); }

  // Run until the guest exits, shuts down or resets, or the user quits.
  RunOutcome run();

 private:
  uint64_t ram_size_;
  uint8_t* ram_;
  AddressSpace memory_;
  AddressSpace io_;
  uint64_t unbound_icount_ = 0;
  uint64_t run_until_ns_ = 0;  // while the vCPU runs: the virtual time its budget ends at
  DirtyLog dirty_log_;
  std::vector<std::pair<std::string, Snapshottable*>> state_owners_;
  std::unordered_set<std::string> state_names_;
  VirtualClock clock_;
  TimerQueue timers_;
  RunControl run_control_;
  InterruptController* interrupt_controller_ = nullptr;
  LocalApicPort* local_apic_ = nullptr;
  class CpuPins : public IrqSink {
   public:
    void set_irq(unsigned pin, bool level) override;
    Vcpu* vcpu = nullptr;
    bool intr = false;
  } cpu_pins_;
  bool cpu_has_pending_wakeup() const;
  // Every vCPU halted: virtual time jumps to deadline_ns, and the TSC with it.
  void skip_idle_to(uint64_t deadline_ns);
  std::unique_ptr<Vcpu> vcpu_;
  InputPoller poll_inputs_;
  EntropySource* entropy_ = nullptr;
  IrqLine fpu_error_;
  std::function<uint64_t()> next_stop_icount_;
};

}  // namespace rwd::core
