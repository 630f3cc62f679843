// The PS/2 keyboard controller (i8042) at 0x60 (data) / 0x64 (status and
// command), and the PS/2 "system control port A" at 0x92 (fast A20 and reset).
//
// What a kernel needs to boot and to reboot the machine: the status register,
// the controller command byte, self tests (0xAA -> 0x55, interface tests -> 0),
// the output port (A20 and the reset line), pulse commands 0xF0-0xFF (0xFE
// resets the machine through RunControl), and a keyboard that answers its
// basic commands (reset, identify, enable/disable, LEDs, scan-code set) but
// never has keys pressed: there is no keyboard input in replay::Inputs yet.
// No mouse is attached: commands to the aux port answer "no device" (a
// timeout in the status register), as on a PC without one.
//
// A20 is tracked (readable through 0xD0 and 0x92) but not applied: memory is
// never wrapped at 1 MiB.
#pragma once

#include <cstdint>
#include <deque>

#include "core/irq.h"
#include "core/memory.h"
#include "core/run_control.h"
#include "core/snapshot.h"

namespace rwd::hw {

class I8042Controller final : public core::RegionOps, public core::Snapshottable {
 public:
  static constexpr uint32_t kStateVersion = 1;
  static constexpr const char* kStateName = "i8042";
  static constexpr uint16_t kDataPort = 0x60, kCommandPort = 0x64, kPortA = 0x92;
  static constexpr unsigned kKeyboardIrq = 1, kMouseIrq = 12;

  I8042Controller(core::RunControl& run_control, core::IrqLine keyboard_irq, core::IrqLine mouse_irq);

  // core::RegionOps for the data port 0x60.
  uint64_t read(uint64_t offset, unsigned size) override { return read_data(); }
  void write(uint64_t offset, uint64_t value, unsigned size) override { write_data(static_cast<uint8_t>(value)); }

  // Port 0x64: reads the status register, writes a controller command.
  core::RegionOps& command_ops() { return command_ops_; }

  // Port 0x92: bit 0 fast reset (on a 0 -> 1 write), bit 1 A20.
  core::RegionOps& port_a_ops() { return port_a_ops_; }

  void reset();

  // core::Snapshottable: the output buffer queue (bytes and their source),
  // the command byte, output port, port A (0x92), the status flags, what the
  // next data-port write means, the keyboard's pending command and enable,
  // and this side's view of IRQ1/IRQ12.
  void save_state(core::StateWriter& out) const override;
  void load_state(core::StateReader& in) override;

  bool a20_enabled() const { return (output_port_ | port_a_) & kOutA20; }
  uint8_t command_byte() const { return command_byte_; }

 private:
  static constexpr uint8_t kOutReset = 0x01, kOutA20 = 0x02;

  enum class Source : uint8_t { kController, kKeyboard, kMouse };
  struct OutputByte {
    uint8_t value;
    Source source;
  };
  // What the next data-port write means.
  enum class Pending : uint8_t {
    kNone, kCommandByte, kOutputPort, kKeyboardOutput, kMouseOutput, kMouseCommand, kKeyboardArgument
  };

  class CommandOps final : public core::RegionOps {
   public:
    explicit CommandOps(I8042Controller& c) : c_(c) {}
    uint64_t read(uint64_t offset, unsigned size) override { return c_.read_status(); }
    void write(uint64_t offset, uint64_t value, unsigned size) override {
      c_.write_command(static_cast<uint8_t>(value));
    }

   private:
    I8042Controller& c_;
  };
  class PortAOps final : public core::RegionOps {
   public:
    explicit PortAOps(I8042Controller& c) : c_(c) {}
    uint64_t read(uint64_t offset, unsigned size) override { return c_.read_port_a(); }
    void write(uint64_t offset, uint64_t value, unsigned size) override {
      c_.write_port_a(static_cast<uint8_t>(value));
    }

   private:
    I8042Controller& c_;
  };

  uint8_t read_status();
  uint8_t read_data();
  void write_command(uint8_t command);
  void write_data(uint8_t value);
  void keyboard_command(uint8_t value);
  void write_output_port(uint8_t value);
  void push(uint8_t value, Source source);
  void update_irqs();
  uint8_t read_port_a() const;
  void write_port_a(uint8_t value);

  core::RunControl& run_control_;
  core::IrqLine keyboard_irq_, mouse_irq_;
  bool keyboard_irq_level_ = false, mouse_irq_level_ = false;
  std::deque<OutputByte> output_;
  uint8_t command_byte_ = 0;
  uint8_t output_port_ = 0;
  bool last_write_was_command_ = false;
  bool aux_timeout_ = false;
  Pending pending_ = Pending::kNone;
  uint8_t keyboard_pending_command_ = 0;
  bool keyboard_enabled_ = true;
  uint8_t port_a_ = 0;
  CommandOps command_ops_{*this};
  PortAOps port_a_ops_{*this};
};

}  // namespace rwd::hw
