// The PC's two cascaded 8259A programmable interrupt controllers: master at
// 0x20/0x21 (IRQ0-7), slave at 0xa0/0xa1 (IRQ8-15) on master input 2, plus
// the EISA edge/level control registers (ELCR) at 0x4d0/0x4d1.
//
// Inputs 0-15 arrive through core::IrqSink (ISA IRQ numbers). The master's INT
// output drives an IrqLine (the CPU's INTR pin); the CPU's INTA cycle is
// acknowledge(). Modelled: ICW1-ICW4, OCW1-OCW3 (IRR/ISR read, poll, special
// mask mode), specific/non-specific EOI, automatic EOI, rotation (on EOI, on
// AEOI, set priority), special fully nested mode, edge and level triggering
// (ICW1.LTIM or per-input ELCR), spurious IRQ7/IRQ15.
//
// Edge triggering follows what PC devices rely on: a rising edge latches IRR
// and the request stays until acknowledged even if the input falls (so
// IrqLine::pulse() works). A real 8259A drops such a request and answers
// IRQ7 instead; no PC device depends on that. The cascade input (master IR2)
// follows the slave's INT as a level, as on real hardware.
//
// INTA is atomic here, so spurious vectors (IRQ7, IRQ15) only come from an
// acknowledge() with nothing deliverable, which a vCPU that samples INTR
// before acknowledging does not do.
#pragma once

#include <cstdint>

#include "core/irq.h"
#include "core/memory.h"
#include "core/snapshot.h"

namespace rwd::hw {

class I8259Pair final : public core::IrqSink, public core::InterruptController, public core::Snapshottable {
 public:
  static constexpr uint32_t kStateVersion = 1;
  static constexpr const char* kStateName = "pic";
  static constexpr uint16_t kMasterBase = 0x20, kSlaveBase = 0xa0, kElcrBase = 0x4d0;
  static constexpr unsigned kCascadeInput = 2;

  I8259Pair();

  // The master's INT output, e.g. IrqLine(&machine.cpu_pins(), core::kCpuPinIntr).
  void connect_output(core::IrqLine intr);

  // core::IrqSink: ISA IRQ `pin` (0-15) is at `level`.
  void set_irq(unsigned pin, bool level) override;
  // core::InterruptController: the INTA cycle; returns the vector.
  uint8_t acknowledge() override;

  // Port handlers, one per chip (2 bytes each) and one for the ELCR pair.
  core::RegionOps& master_ops() { return master_ops_; }
  core::RegionOps& slave_ops() { return slave_ops_; }
  core::RegionOps& elcr_ops() { return elcr_ops_; }

  void reset();

  // core::Snapshottable: both chips (IRR, ISR, IMR, input levels, ELCR,
  // initialisation and OCW state) and the INT output level. Input levels are
  // the PIC's own view of its lines, restored without edges; devices restore
  // theirs, so the two ends agree again without any signalling.
  void save_state(core::StateWriter& out) const override;
  void load_state(core::StateReader& in) override;

  // Introspection for tests, the monitor and snapshots.
  bool output() const { return output_; }
  uint8_t irr(int chip) const { return chips_[chip].irr; }
  uint8_t isr(int chip) const { return chips_[chip].isr; }
  uint8_t imr(int chip) const { return chips_[chip].imr; }
  uint8_t pins(int chip) const { return chips_[chip].pins; }

 private:
  struct Chip {
    uint8_t irr = 0;           // interrupt request register
    uint8_t isr = 0;           // in-service register
    uint8_t imr = 0;           // mask register
    uint8_t pins = 0;          // current input levels
    uint8_t elcr = 0;          // per-input level triggering (ELCR)
    uint8_t elcr_mask = 0;     // which ELCR bits exist
    uint8_t vector_base = 0;   // ICW2 & 0xf8
    uint8_t lowest_priority = 7;  // input with the lowest priority (rotation)
    uint8_t init_step = 0;     // 0 = operational; 2/3/4 = expecting that ICW
    bool icw4_needed = false;
    bool single = false;
    bool level_triggered = false;  // ICW1.LTIM: every input level-triggered
    bool auto_eoi = false;
    bool rotate_on_auto_eoi = false;
    bool special_fully_nested = false;
    bool special_mask = false;
    bool read_isr = false;     // OCW3 RR/RIS: which of IRR/ISR port 0 reads
    bool poll = false;         // OCW3 P: next port-0 read is a poll
  };

  class ChipOps final : public core::RegionOps {
   public:
    ChipOps(I8259Pair& pair, int chip) : pair_(pair), chip_(chip) {}
    uint64_t read(uint64_t offset, unsigned size) override { return pair_.read_port(chip_, offset & 1); }
    void write(uint64_t offset, uint64_t value, unsigned size) override {
      pair_.write_port(chip_, offset & 1, static_cast<uint8_t>(value));
    }

   private:
    I8259Pair& pair_;
    int chip_;
  };
  class ElcrOps final : public core::RegionOps {
   public:
    explicit ElcrOps(I8259Pair& pair) : pair_(pair) {}
    uint64_t read(uint64_t offset, unsigned size) override { return pair_.chips_[offset & 1].elcr; }
    void write(uint64_t offset, uint64_t value, unsigned size) override {
      pair_.write_elcr(offset & 1, static_cast<uint8_t>(value));
    }

   private:
    I8259Pair& pair_;
  };

  uint8_t read_port(int chip, unsigned port);
  void write_port(int chip, unsigned port, uint8_t value);
  void write_elcr(int chip, uint8_t value);
  void write_icw1(Chip& c, uint8_t value);
  void write_ocw2(Chip& c, uint8_t value);
  void write_ocw3(Chip& c, uint8_t value);
  bool input_is_level(const Chip& c, unsigned input) const { return c.level_triggered || (c.elcr >> input & 1); }
  void set_input(int chip, unsigned input, bool level);
  // Highest-priority input set in `bits`, or -1.
  static int highest_priority(const Chip& c, uint8_t bits);
  // The input this chip would raise INT for now, or -1.
  int pending_input(int chip) const;
  // INTA on one chip: move the request to ISR (or AEOI) and return its input.
  void acknowledge_input(Chip& c, int input);
  void eoi(Chip& c, int input, bool rotate);
  void update();
  static void save_chip(const Chip& c, core::StateWriter& out);
  static Chip load_chip(int chip, core::StateReader& in);

  Chip chips_[2];
  core::IrqLine intr_;
  bool output_ = false;
  ChipOps master_ops_{*this, 0};
  ChipOps slave_ops_{*this, 1};
  ElcrOps elcr_ops_{*this};
};

}  // namespace rwd::hw
