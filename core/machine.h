// A machine: guest RAM, the memory and port-I/O address spaces, the virtual
// clock and timer queue, the vCPUs, and the main loop that drives them. The
// board (hw/) populates it with devices; an accelerator supplies the vCPUs.
//
// N vCPUs run on one host thread, in turns: vCPU 0, 1, ..., N-1, 0, ...,
// each turn at most `quantum` instructions and ending early when the vCPU
// halts. A halted vCPU is skipped until an interrupt can wake it; when every
// vCPU is halted, virtual time skips to the next timer deadline. The
// machine's instruction count (icount()) is the sum of every vCPU's: it is
// virtual time, and it stamps every event, so "at machine instruction X"
// names one vCPU and one of its instructions. The turn in progress (which
// vCPU, and where its turn ends) is part of the machine's checkpoint state.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/cpu_features.h"
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
  static constexpr uint64_t kDefaultQuantum = 10000;
  // `rom_size` bytes of firmware ROM follow RAM in the same host block, so
  // checkpoints, digests and seeks carry them like RAM (the board fills them
  // once and maps them read-only).
  explicit Machine(uint64_t ram_size, unsigned cpus = 1, uint64_t rom_size = 0);
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  // Guest RAM as one host block; the board decides where it appears in memory().
  uint8_t* ram() { return ram_; }
  const uint8_t* ram() const { return ram_; }
  uint64_t ram_size() const { return ram_size_; }
  uint8_t* rom() { return ram_ + ram_size_; }
  uint64_t rom_size() const { return rom_size_; }
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

  unsigned cpu_count() const { return unsigned(cpus_.size()); }
  // vCPUs are attached in index order, cpu_count() of them.
  void attach_vcpu(std::unique_ptr<Vcpu> vcpu);
  Vcpu& vcpu(unsigned index = 0) { return *cpus_.at(index).vcpu; }
  const X86CpuState& cpu_state(unsigned index = 0) const { return cpus_.at(index).vcpu->state(); }
  bool has_vcpu(unsigned index = 0) const { return index < cpus_.size() && cpus_[index].vcpu != nullptr; }
  // Instructions retired by all vCPUs: virtual time, and the stamp of events.
  uint64_t icount() const { return clock_.icount(); }
  // The vCPU whose turn it is (the one running while a device is reached).
  unsigned running_vcpu() const { return current_; }
  // vCPU `index`'s TSC now: its TSC follows virtual time while other vCPUs
  // run or all are idle (it is brought up to date when its turn starts).
  uint64_t tsc(unsigned index) const;
  void set_quantum(uint64_t instructions) { quantum_ = instructions ? instructions : 1; }
  uint64_t quantum() const { return quantum_; }
  // Told when another vCPU's turn starts (the board points the APIC window at its APIC).
  void set_vcpu_switch_listener(std::function<void(unsigned index)> listener) { on_switch_ = std::move(listener); }
  // Where vCPU `index` plugs in; valid once the board has installed its
  // interrupt controller with set_interrupt_controller().
  CpuEnvironment cpu_environment(unsigned index = 0);
  void set_interrupt_controller(InterruptController* controller, unsigned index = 0) {
    cpus_.at(index).interrupt_controller = controller;
  }
  // The vCPU's local APIC (CR8, x2APIC MSRs); none: CR8 is a plain register.
  void set_local_apic(LocalApicPort* apic, unsigned index = 0) { cpus_.at(index).local_apic = apic; }
  // INIT: the vCPU returns to its power-on state and waits for a start-up
  // IPI (the APIC base's enable bit and address stay). Start-up: a vCPU
  // waiting for one starts in real mode at vector * 4096.
  void init_vcpu(unsigned index);
  void startup_vcpu(unsigned index, uint8_t vector);
  // After vCPU states were replaced (a checkpoint restored, a kernel
  // loaded): the machine's count follows them again.
  void resync_icount();
  // vCPU `index`'s debugger traps (set before or between runs); a trap ends
  // run() with StopReason::kDebugTrap, running_vcpu() the vCPU that took it.
  DebugTraps& debug_traps(unsigned index) { return cpus_.at(index).debug_traps; }
  // The features -cpu took out of every vCPU's CPUID (set before the vCPUs are attached).
  void set_cpuid_mask(CpuidMask mask) { cpuid_mask_ = std::move(mask); }
  // Where RDRAND's values come from (set before the vCPU is attached).
  void set_entropy(EntropySource* entropy) { entropy_ = entropy; }
  // Where the CPU's FERR# output goes (the board's IRQ 13 latch).
  void set_fpu_error_line(IrqLine line) { fpu_error_ = line; }

  // A vCPU's interrupt pins as the board sees them: the board wires the
  // interrupt controller's output here; levels are remembered (so the main loop
  // knows whether a halted vCPU will wake) and forwarded to the vCPU.
  IrqSink& cpu_pins(unsigned index = 0) { return cpus_.at(index).pins; }

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
  uint64_t rom_size_;
  uint8_t* ram_;
  AddressSpace memory_;
  AddressSpace io_;
  uint64_t machine_icount_ = 0;  // between slices the clock follows this
  uint64_t run_until_ns_ = 0;  // while the vCPU runs: the virtual time its budget ends at
  CpuidMask cpuid_mask_;
  DirtyLog dirty_log_;
  std::vector<std::pair<std::string, Snapshottable*>> state_owners_;
  std::unordered_set<std::string> state_names_;
  VirtualClock clock_;
  TimerQueue timers_;
  RunControl run_control_;
  class CpuPins : public IrqSink {
   public:
    void set_irq(unsigned pin, bool level) override;
    Vcpu* vcpu = nullptr;
    bool intr = false;
  };
  struct Cpu {
    std::unique_ptr<Vcpu> vcpu;
    CpuPins pins;
    InterruptController* interrupt_controller = nullptr;
    LocalApicPort* local_apic = nullptr;
    uint64_t last_seen_ns = 0;  // virtual time when its last slice ended
    DebugTraps debug_traps;
  };
  bool runnable(unsigned index) const;
  bool can_ever_wake() const;
  // Picks the vCPU to run: the current one while its turn lasts, else the
  // next runnable one in index order (a new turn); false when none can run.
  bool schedule();
  // Around one Vcpu::run: the clock follows the vCPU's count, its TSC
  // catches up with the time it did not run.
  void begin_slice(unsigned index);
  void end_slice(unsigned index);
  std::vector<Cpu> cpus_;
  unsigned current_ = 0;
  uint64_t turn_end_ = 0;      // machine icount at which the current turn ends
  uint64_t slice_start_ = 0;   // the running vCPU's icount when its slice began
  uint64_t quantum_ = kDefaultQuantum;
  std::function<void(unsigned)> on_switch_;
  InputPoller poll_inputs_;
  EntropySource* entropy_ = nullptr;
  IrqLine fpu_error_;
  std::function<uint64_t()> next_stop_icount_;
};

}  // namespace rwd::core
