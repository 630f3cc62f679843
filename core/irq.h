// Interrupt wiring: a device drives an IrqLine; the line forwards level changes
// to whatever consumes it (an interrupt controller input, the CPU's INTR pin).
#pragma once

#include <cstdint>

namespace rwd::core {

class IrqSink {
 public:
  virtual ~IrqSink() = default;
  virtual void set_irq(unsigned pin, bool level) = 0;
};

class IrqLine {
 public:
  IrqLine() = default;
  IrqLine(IrqSink* sink, unsigned pin) : sink_(sink), pin_(pin) {}

  void set(bool level) {
    if (sink_) sink_->set_irq(pin_, level);
  }
  void raise() { set(true); }
  void lower() { set(false); }
  // An edge: for edge-triggered consumers (ISA interrupts through the PIC).
  void pulse() { set(true); set(false); }
  bool connected() const { return sink_ != nullptr; }

 private:
  IrqSink* sink_ = nullptr;
  unsigned pin_ = 0;
};

// What a CPU asks of the interrupt controller in front of it when it takes an
// external interrupt: the INTA cycle.
class InterruptController {
 public:
  virtual ~InterruptController() = default;
  // Acknowledge the highest-priority pending request and return its vector.
  virtual uint8_t acknowledge() = 0;
};

}  // namespace rwd::core
