#include "hw/i8259_pair.h"

#include <string>

namespace rwd::hw {

namespace {

constexpr int kMaster = 0, kSlave = 1;
// Inputs whose trigger mode the PC's ELCR may set: IRQ0-2 and IRQ8/13 are
// always edge-triggered.
constexpr uint8_t kMasterElcrMask = 0xf8, kSlaveElcrMask = 0xde;

// Priority rank of `input`: 0 is the highest, 7 the lowest.
unsigned rank(uint8_t lowest_priority, int input) { return (input - lowest_priority - 1) & 7; }

}  // namespace

I8259Pair::I8259Pair() { reset(); }

void I8259Pair::reset() {
  for (int i = 0; i < 2; ++i) {
    uint8_t pins = chips_[i].pins;
    chips_[i] = Chip{};
    chips_[i].pins = pins;
    chips_[i].elcr_mask = i == kMaster ? kMasterElcrMask : kSlaveElcrMask;
  }
  update();
}

void I8259Pair::connect_output(core::IrqLine intr) {
  intr_ = intr;
  intr_.set(output_);
}

void I8259Pair::set_irq(unsigned pin, bool level) {
  if (pin >= 16 || pin == kCascadeInput) return;  // master IR2 belongs to the slave
  set_input(pin < 8 ? kMaster : kSlave, pin & 7, level);
  update();
}

void I8259Pair::set_input(int chip, unsigned input, bool level) {
  Chip& c = chips_[chip];
  uint8_t mask = 1u << input;
  bool was = c.pins & mask;
  if (level) {
    c.pins |= mask;
    // Edge mode latches on the rising edge; the request then stays until INTA.
    if (input_is_level(c, input) || !was) c.irr |= mask;
  } else {
    c.pins &= ~mask;
    if (input_is_level(c, input)) c.irr &= ~mask;
  }
}

int I8259Pair::highest_priority(const Chip& c, uint8_t bits) {
  if (!bits) return -1;
  for (int i = 1; i <= 8; ++i) {
    int input = (c.lowest_priority + i) & 7;
    if (bits & (1u << input)) return input;
  }
  return -1;
}

int I8259Pair::pending_input(int chip) const {
  const Chip& c = chips_[chip];
  int request = highest_priority(c, c.irr & ~c.imr);
  if (request < 0) return -1;
  uint8_t in_service = c.isr;
  // Special mask mode: a masked level in service no longer blocks the others.
  if (c.special_mask) in_service &= ~c.imr;
  // Special fully nested mode: the cascade input in service does not block
  // a higher-priority request from the same slave.
  if (chip == kMaster && c.special_fully_nested) in_service &= ~(1u << kCascadeInput);
  int current = highest_priority(c, in_service);
  if (current >= 0 && rank(c.lowest_priority, current) <= rank(c.lowest_priority, request)) return -1;
  return request;
}

void I8259Pair::update() {
  // The slave's INT output is the master's IR2 input. It is followed as a
  // level: a slave request withdrawn before INTA withdraws the master's too,
  // and one still pending after the INTA cycle requests again at once.
  Chip& master = chips_[kMaster];
  uint8_t cascade = 1u << kCascadeInput;
  if (!master.single && pending_input(kSlave) >= 0) {
    master.irr |= cascade;
  } else {
    master.irr &= ~cascade;
  }
  bool out = pending_input(kMaster) >= 0;
  if (out != output_) {
    output_ = out;
    intr_.set(out);
  }
}

void I8259Pair::acknowledge_input(Chip& c, int input) {
  uint8_t mask = 1u << input;
  if (!input_is_level(c, input)) c.irr &= ~mask;
  if (c.auto_eoi) {
    if (c.rotate_on_auto_eoi) c.lowest_priority = input;
  } else {
    c.isr |= mask;
  }
}

uint8_t I8259Pair::acknowledge() {
  Chip& master = chips_[kMaster];
  int input = pending_input(kMaster);
  if (input < 0) {
    // The request went away between INT and INTA: the 8259A answers IRQ7
    // without setting ISR (a spurious interrupt).
    return master.vector_base | 7;
  }
  acknowledge_input(master, input);
  uint8_t vector;
  if (input == kCascadeInput && !master.single) {
    Chip& slave = chips_[kSlave];
    int slave_input = pending_input(kSlave);
    if (slave_input < 0) {
      // Spurious IRQ15 (master's ISR2 stays set). Unreachable while update()
      // keeps IR2 equal to the slave's INT, kept for robustness.
      vector = slave.vector_base | 7;
    } else {
      acknowledge_input(slave, slave_input);
      vector = slave.vector_base | slave_input;
    }
  } else {
    vector = master.vector_base | input;
  }
  update();
  return vector;
}

uint8_t I8259Pair::read_port(int chip, unsigned port) {
  Chip& c = chips_[chip];
  if (port == 1) return c.imr;
  if (c.poll) {
    // Poll command: this read is the chip's INTA; answer 0x80 | level.
    c.poll = false;
    int input = pending_input(chip);
    if (input < 0) return 0;
    acknowledge_input(c, input);
    update();
    return 0x80 | input;
  }
  return c.read_isr ? c.isr : c.irr;
}

void I8259Pair::write_port(int chip, unsigned port, uint8_t value) {
  Chip& c = chips_[chip];
  if (port == 0) {
    if (value & 0x10) {
      write_icw1(c, value);
    } else if (value & 0x08) {
      write_ocw3(c, value);
    } else {
      write_ocw2(c, value);
    }
    update();
    return;
  }
  switch (c.init_step) {
    case 2:  // ICW2: vector base
      c.vector_base = value & 0xf8;
      c.init_step = c.single ? (c.icw4_needed ? 4 : 0) : 3;
      break;
    case 3:  // ICW3: cascade wiring, fixed on a PC
      c.init_step = c.icw4_needed ? 4 : 0;
      break;
    case 4:  // ICW4; bit 0 (8086 mode) is assumed, 8080 mode is not modelled
      c.auto_eoi = value & 0x02;
      c.special_fully_nested = value & 0x10;
      c.init_step = 0;
      break;
    default:  // OCW1
      c.imr = value;
      break;
  }
  update();
}

void I8259Pair::write_icw1(Chip& c, uint8_t value) {
  c.init_step = 2;
  c.icw4_needed = value & 0x01;
  c.single = value & 0x02;
  c.level_triggered = value & 0x08;
  // Initialisation clears the mask and in-service registers, resets the edge
  // sense latches, gives IR7 the lowest priority, clears special mask mode,
  // selects IRR for reads, and zeroes the ICW4 functions.
  c.imr = 0;
  c.isr = 0;
  c.irr = 0;
  for (unsigned i = 0; i < 8; ++i) {
    if (input_is_level(c, i) && (c.pins >> i & 1)) c.irr |= 1u << i;
  }
  // (The master's IR2 is recomputed from the slave by update().)
  c.lowest_priority = 7;
  c.special_mask = false;
  c.read_isr = false;
  c.poll = false;
  c.auto_eoi = false;
  c.rotate_on_auto_eoi = false;
  c.special_fully_nested = false;
}

void I8259Pair::eoi(Chip& c, int input, bool rotate) {
  if (input < 0) return;
  c.isr &= ~(1u << input);
  if (rotate) c.lowest_priority = input;
}

void I8259Pair::write_ocw2(Chip& c, uint8_t value) {
  int level = value & 7;
  switch (value >> 5) {
    case 0: c.rotate_on_auto_eoi = false; break;
    case 4: c.rotate_on_auto_eoi = true; break;
    case 1: eoi(c, highest_priority(c, c.isr), false); break;  // non-specific EOI
    case 5: eoi(c, highest_priority(c, c.isr), true); break;   // rotate on non-specific EOI
    case 3: eoi(c, level, false); break;                       // specific EOI
    case 7: eoi(c, level, true); break;                        // rotate on specific EOI
    case 6: c.lowest_priority = level; break;                  // set priority
    default: break;                                            // 2: no operation
  }
}

void I8259Pair::write_ocw3(Chip& c, uint8_t value) {
  if (value & 0x04) c.poll = true;
  if (value & 0x02) c.read_isr = value & 0x01;
  if (value & 0x40) c.special_mask = value & 0x20;
}

void I8259Pair::write_elcr(int chip, uint8_t value) {
  Chip& c = chips_[chip];
  c.elcr = value & c.elcr_mask;
  // A level-triggered input's request is its pin.
  for (unsigned i = 0; i < 8; ++i) {
    uint8_t mask = 1u << i;
    if (input_is_level(c, i)) c.irr = (c.irr & ~mask) | (c.pins & mask);
  }
  update();
}

void I8259Pair::save_state(core::StateWriter& out) const {
  out.u32(kStateVersion);
  out.boolean(output_);
  for (const Chip& c : chips_) save_chip(c, out);
}

void I8259Pair::save_chip(const Chip& c, core::StateWriter& out) {
  out.u8(c.irr);
  out.u8(c.isr);
  out.u8(c.imr);
  out.u8(c.pins);
  out.u8(c.elcr);
  out.u8(c.vector_base);
  out.u8(c.lowest_priority);
  out.u8(c.init_step);
  out.boolean(c.icw4_needed);
  out.boolean(c.single);
  out.boolean(c.level_triggered);
  out.boolean(c.auto_eoi);
  out.boolean(c.rotate_on_auto_eoi);
  out.boolean(c.special_fully_nested);
  out.boolean(c.special_mask);
  out.boolean(c.read_isr);
  out.boolean(c.poll);
}

I8259Pair::Chip I8259Pair::load_chip(int chip, core::StateReader& in) {
  Chip c;
  c.elcr_mask = chip == kMaster ? kMasterElcrMask : kSlaveElcrMask;  // wiring, not state
  c.irr = in.u8();
  c.isr = in.u8();
  c.imr = in.u8();
  c.pins = in.u8();
  c.elcr = in.u8();
  c.vector_base = in.u8();
  c.lowest_priority = in.u8();
  c.init_step = in.u8();
  c.icw4_needed = in.boolean();
  c.single = in.boolean();
  c.level_triggered = in.boolean();
  c.auto_eoi = in.boolean();
  c.rotate_on_auto_eoi = in.boolean();
  c.special_fully_nested = in.boolean();
  c.special_mask = in.boolean();
  c.read_isr = in.boolean();
  c.poll = in.boolean();

  std::string who = std::string(kStateName) + ": corrupt state: " + (chip == kMaster ? "master" : "slave");
  if (c.elcr & ~c.elcr_mask) {
    throw core::SnapshotError(who + " ELCR " + std::to_string(c.elcr) + " sets inputs that are always edge-triggered");
  }
  if (c.vector_base & 7) {
    throw core::SnapshotError(who + " vector base " + std::to_string(c.vector_base) + " is not a multiple of 8");
  }
  // Priorities are input numbers: rank() and rotation assume 0-7.
  if (c.lowest_priority > 7) {
    throw core::SnapshotError(who + " lowest-priority input " + std::to_string(c.lowest_priority) + " is not 0-7");
  }
  if (c.init_step == 1 || c.init_step > 4) {
    throw core::SnapshotError(who + " initialisation step " + std::to_string(c.init_step) + " does not exist");
  }
  return c;
}

void I8259Pair::load_state(core::StateReader& in) {
  in.version(kStateVersion);
  bool output = in.boolean();
  Chip master = load_chip(kMaster, in);
  Chip slave = load_chip(kSlave, in);
  chips_[kMaster] = master;
  chips_[kSlave] = slave;
  // The CPU's INTR pin is restored by the machine; driving intr_ here would
  // be an edge the original run never had.
  output_ = output;
}

}  // namespace rwd::hw
