// The local APIC of each vCPU (Intel SDM vol. 3, ch. 11) and the APIC bus
// between them and the IOAPIC.
//
//  - xAPIC registers through MMIO at 0xfee00000 (the board's region sends an
//    access to the APIC of the vCPU that makes it), x2APIC registers through
//    MSRs 0x800-0x8ff, IA32_APIC_BASE (kept in the vCPU's state; the
//    semantics check its transitions), IA32_TSC_DEADLINE, and CR8 (TPR[7:4]).
//  - IRR/ISR/TMR with the SDM's priority rules (PPR from TPR and the highest
//    in-service class), EOI (broadcast to the IOAPIC for level-triggered
//    vectors), the spurious vector, ESR.
//  - Timer on the virtual clock: the APIC bus runs at 1 GHz (one tick per
//    virtual nanosecond, as QEMU's), divided by the DCR; one-shot, periodic and
//    TSC-deadline (the TSC also counts virtual nanoseconds).
//  - LINT0 takes the 8259's INT: in ExtINT mode, or with the APIC globally
//    disabled, it reaches the CPU's INTR and the INTA cycle goes to the 8259.
//    As on QEMU, the bootstrap processor's LINT0 comes out of reset unmasked
//    in ExtINT mode (the virtual-wire setup firmware makes), so software that
//    never touches the APIC sees a plain 8259 PC.
//  - IPIs: fixed, lowest priority (to the lowest-priority, then lowest-ID
//    target: deterministic), NMI, INIT, start-up; physical and logical (flat,
//    cluster, x2APIC cluster) destinations and shorthands. INIT and start-up
//    go to the board's start-up handler (the vCPUs' wait-for-SIPI state).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/irq.h"
#include "core/memory.h"
#include "core/run_control.h"
#include "core/snapshot.h"
#include "core/timer_queue.h"
#include "core/vcpu.h"
#include "core/virtual_clock.h"
#include "core/x86_cpu_state.h"

namespace rwd::hw {

class LocalApic;

// Delivery modes of an interrupt message (ICR, LVT, IOAPIC redirection entry).
namespace apic_mode {
inline constexpr uint8_t kFixed = 0, kLowestPriority = 1, kSmi = 2, kNmi = 4, kInit = 5, kStartup = 6, kExtInt = 7;
}

// An interrupt message on the APIC bus.
struct ApicMessage {
  uint32_t destination = 0;   // an APIC ID or a logical destination
  bool logical = false;
  bool x2apic_format = false; // destination is 32 bits wide (x2APIC ICR), else 8
  uint8_t mode = apic_mode::kFixed;
  uint8_t vector = 0;
  bool level_triggered = false;
  bool assert_level = true;   // INIT with level de-assert is the legacy "INIT level de-assert": ignored
};

class ApicBus {
 public:
  void attach(LocalApic* apic) { apics_.push_back(apic); }
  const std::vector<LocalApic*>& apics() const { return apics_; }
  // Delivers to every APIC the destination names (for lowest priority, one).
  void deliver(const ApicMessage& message);
  // An EOI of a level-triggered vector: the IOAPIC clears its remote IRR.
  void set_eoi_listener(std::function<void(uint8_t vector)> listener) { on_eoi_ = std::move(listener); }
  void broadcast_eoi(uint8_t vector) {
    if (on_eoi_) on_eoi_(vector);
  }
  // INIT (vector unused) and start-up IPIs reach the vCPUs through this.
  using StartupHandler = std::function<void(unsigned cpu_index, bool init, uint8_t vector)>;
  void set_startup_handler(StartupHandler handler) { on_startup_ = std::move(handler); }
  void startup(unsigned cpu_index, bool init, uint8_t vector) {
    if (on_startup_) on_startup_(cpu_index, init, vector);
  }
  // Which vCPU is running (its APIC answers the MMIO window).
  void set_current(unsigned index) { current_ = index; }
  LocalApic& current() { return *apics_.at(current_); }

 private:
  std::vector<LocalApic*> apics_;
  std::function<void(uint8_t)> on_eoi_;
  StartupHandler on_startup_;
  unsigned current_ = 0;
};

class LocalApic final : public core::InterruptController,
                        public core::LocalApicPort,
                        public core::IrqSink,
                        public core::Snapshottable {
 public:
  static constexpr uint32_t kStateVersion = 1;
  static constexpr uint64_t kDefaultBase = 0xfee00000;
  static constexpr uint32_t kVersion = 0x00050014;  // version 0x14, 6 LVT entries (as QEMU's)
  // IrqSink pins.
  static constexpr unsigned kLint0 = 0, kLint1 = 1;

  // `cpu_state` gives the vCPU's architectural state (IA32_APIC_BASE), `tsc`
  // its TSC now; `pic` answers INTA for ExtINT; `cpu_pins` is the vCPU's INTR/NMI.
  LocalApic(unsigned index, core::VirtualClock& clock, core::TimerQueue& timers, core::RunControl& run_control,
            ApicBus& bus, std::function<const core::X86CpuState&()> cpu_state, std::function<uint64_t()> tsc,
            core::InterruptController* pic, core::IrqSink& cpu_pins);

  // "lapic@<index>": the checkpoint state name.
  std::string state_name() const { return "lapic@" + std::to_string(index_); }
  unsigned index() const { return index_; }
  uint32_t id() const { return id_; }

  // xAPIC MMIO (32-bit accesses at 16-byte aligned offsets).
  uint32_t mmio_read(uint32_t offset);
  void mmio_write(uint32_t offset, uint32_t value);

  // core::LocalApicPort
  bool read_msr(uint32_t index, uint64_t& value) override;
  bool write_msr(uint32_t index, uint64_t value) override;
  void apic_base_changed(uint64_t old_value) override;
  uint64_t cr8() override { return tpr_ >> 4; }
  void set_cr8(uint64_t value) override;

  // core::InterruptController: INTA.
  uint8_t acknowledge() override;
  // core::IrqSink: LINT0 / LINT1 input levels.
  void set_irq(unsigned pin, bool level) override;

  // From the bus.
  bool accepts(const ApicMessage& m) const;
  void receive(const ApicMessage& m);
  uint8_t ppr() const;

  // Power-on state (INIT keeps the ID and the APIC base, as the SDM says).
  void reset();
  void init_ipi();

  void save_state(core::StateWriter& out) const override;
  void load_state(core::StateReader& in) override;

  // For tests.
  uint32_t timer_current_count() const;

 private:
  enum Lvt { kLvtTimer, kLvtThermal, kLvtPerf, kLvtLint0, kLvtLint1, kLvtError, kLvtCount };
  using Bits = std::array<uint32_t, 8>;  // 256 vectors

  bool hw_enabled() const;
  bool x2apic() const;
  bool sw_enabled() const { return svr_ & 0x100; }
  bool read_register(unsigned reg, uint64_t& value);         // reg = offset >> 4
  bool write_register(unsigned reg, uint64_t value, bool via_msr);
  void send_ipi(uint64_t icr, uint32_t destination);
  void accept_vector(uint8_t vector, bool level);
  void deliver_local(uint32_t lvt);
  void raise_nmi();
  void set_error(uint32_t bit);
  void eoi();
  bool pic_path() const;  // the 8259's INT reaches the CPU
  void update_intr();
  int highest_irr() const;
  uint32_t logical_id() const;

  unsigned timer_shift() const;
  uint8_t timer_mode() const { return (lvt_[kLvtTimer] >> 17) & 3; }
  void arm_timer();
  void on_timer();
  uint64_t tsc_now() const;

  const unsigned index_;
  core::VirtualClock& clock_;
  core::RunControl& run_control_;
  ApicBus& bus_;
  std::function<const core::X86CpuState&()> cpu_state_;
  std::function<uint64_t()> tsc_;
  core::InterruptController* pic_;
  core::IrqSink& cpu_pins_;
  core::Timer timer_;

  uint32_t id_;
  uint8_t tpr_ = 0;
  uint32_t ldr_ = 0, dfr_ = 0xffffffff, svr_ = 0xff;
  Bits irr_{}, isr_{}, tmr_{};
  uint32_t esr_ = 0, esr_pending_ = 0;
  uint64_t icr_ = 0;
  std::array<uint32_t, kLvtCount> lvt_{};
  uint32_t initial_count_ = 0, dcr_ = 0;
  uint64_t count_load_ns_ = 0;
  uint64_t tsc_deadline_ = 0;
  bool lint0_level_ = false, lint1_level_ = false;
  bool intr_out_ = false;
};

}  // namespace rwd::hw
