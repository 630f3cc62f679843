// The ACPI fixed-hardware power-management block of a PIIX4-style PC, at
// QEMU's I/O base 0x600: PM1a event block (0x600 PM1_STS, 0x602 PM1_EN),
// PM1a control block (0x604 PM1_CNT) and the PM timer (0x608). rewind's FADT
// (hw/acpi_tables) describes exactly these.
//
//  - PM timer: 24 bits at 3.579545 MHz of virtual time (deterministic, like
//    every clock here). TMR_STS sets each time its bit 23 toggles.
//  - PM1_STS bits are write-1-to-clear; the SCI (IRQ 9, level) is high while
//    any status bit is set whose enable bit is: TMR_EN is armed on a timer at
//    the next toggle.
//  - PM1_CNT: SCI_EN reads 1 (the FADT has no SMI command port: always ACPI
//    mode). Writing SLP_EN with SLP_TYP = kSlpTypS5 (the DSDT's \_S5) powers
//    the machine off: the run ends with status 0. No other sleep state is
//    offered (the DSDT names only \_S5), so other SLP_TYP writes do nothing.
#pragma once

#include <cstdint>

#include "core/irq.h"
#include "core/memory.h"
#include "core/run_control.h"
#include "core/snapshot.h"
#include "core/timer_queue.h"
#include "core/virtual_clock.h"

namespace rwd::hw {

class AcpiPm final : public core::RegionOps, public core::Snapshottable {
 public:
  static constexpr uint32_t kStateVersion = 1;
  static constexpr const char* kStateName = "acpi-pm";
  static constexpr uint16_t kBase = 0x600, kSize = 12;
  static constexpr uint16_t kPm1EvtBlk = kBase, kPm1CntBlk = kBase + 4, kPmTmrBlk = kBase + 8;
  static constexpr unsigned kSciIrq = 9;
  static constexpr uint64_t kTimerHz = 3579545;
  static constexpr uint16_t kSlpTypS5 = 5;
  // PM1_STS / PM1_EN bits.
  static constexpr uint16_t kTmr = 1u << 0, kGbl = 1u << 5, kPwrBtn = 1u << 8, kSlpBtn = 1u << 9,
                            kRtc = 1u << 10, kWak = 1u << 15;
  // PM1_CNT bits.
  static constexpr uint16_t kSciEn = 1u << 0, kBmRld = 1u << 1, kSlpEn = 1u << 13;

  AcpiPm(core::VirtualClock& clock, core::TimerQueue& timers, core::RunControl& run_control, core::IrqLine sci);

  uint64_t read(uint64_t offset, unsigned size) override;  // byte accesses (the board splits wider ones)
  void write(uint64_t offset, uint64_t value, unsigned size) override;

  uint32_t timer_ticks() const;  // the 24-bit PM timer now
  uint16_t status() const;
  void reset();

  // The SCI level is part of the PIC's state, so loading does not drive it.
  void save_state(core::StateWriter& out) const override;
  void load_state(core::StateReader& in) override;

 private:
  uint64_t ticks() const;  // since virtual time 0, all bits
  void write_control_high(uint8_t value);
  void update_sci();

  core::VirtualClock& clock_;
  core::RunControl& run_control_;
  core::IrqLine sci_;
  core::Timer overflow_;
  uint16_t status_ = 0;      // every bit but TMR_STS, which comes from the timer
  uint16_t enable_ = 0;
  uint16_t control_ = 0;     // BM_RLD and SLP_TYP as written
  uint64_t tmr_epoch_ = 0;   // ticks >> 23 when TMR_STS was last cleared
  bool sci_level_ = false;
};

}  // namespace rwd::hw
