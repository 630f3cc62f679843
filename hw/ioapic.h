// The I/O APIC of a PC (Intel 82093AA, version 0x20 as on QEMU's pc machine):
// 24 input pins, each with a redirection entry that sends an interrupt message
// over the APIC bus (hw/local_apic).
//
//  - MMIO at 0xfec00000: IOREGSEL (0x00), IOWIN (0x10), and the EOI register
//    (0x40) of version 0x20.
//  - Registers: ID (0), version (1: 0x00170020), arbitration (2), the
//    redirection table (0x10 + 2n, low and high halves).
//  - Edge-triggered pins send on a rising edge; level-triggered pins send
//    while asserted and set remote IRR until the local APIC's EOI of the
//    vector (or a write to the EOI register) clears it, then send again if
//    the pin is still asserted. Masked pins send nothing; unmasking an
//    asserted level pin sends.
//  - Pin levels are active-high whatever the polarity bit says: the board's
//    ISA devices drive active-high lines and the MADT declares them so, as
//    QEMU does.
//
// The board wires ISA IRQ n to pin n, except IRQ 0 (the PIT), which goes to
// pin 2, as the MADT's interrupt-source override says.
#pragma once

#include <array>
#include <cstdint>

#include "core/irq.h"
#include "core/memory.h"
#include "core/run_control.h"
#include "core/snapshot.h"
#include "hw/local_apic.h"

namespace rwd::hw {

class IoApic final : public core::RegionOps, public core::IrqSink, public core::Snapshottable {
 public:
  static constexpr uint32_t kStateVersion = 1;
  static constexpr const char* kStateName = "ioapic";
  static constexpr uint64_t kBase = 0xfec00000, kSize = 0x1000;
  static constexpr unsigned kPins = 24;
  static constexpr uint8_t kId = 0;  // the MADT's I/O APIC ID (after the CPUs' APIC IDs on QEMU; any free ID)

  explicit IoApic(ApicBus& bus);

  // 32-bit accesses (the board's access rules widen narrower ones).
  uint64_t read(uint64_t offset, unsigned size) override;
  void write(uint64_t offset, uint64_t value, unsigned size) override;
  void set_irq(unsigned pin, bool level) override;
  // A local APIC's EOI of a level-triggered vector.
  void end_of_interrupt(uint8_t vector);
  void reset();

  uint64_t entry(unsigned pin) const { return entries_[pin]; }

  void save_state(core::StateWriter& out) const override;
  void load_state(core::StateReader& in) override;

 private:
  uint32_t read_register(uint8_t index) const;
  void write_register(uint8_t index, uint32_t value);
  void service(unsigned pin);  // send if the pin asks for it now
  ApicMessage message(unsigned pin) const;

  ApicBus& bus_;
  uint8_t id_ = kId;
  uint8_t select_ = 0;
  std::array<uint64_t, kPins> entries_{};
  uint32_t levels_ = 0;  // pin levels, bit n = pin n
};

}  // namespace rwd::hw
