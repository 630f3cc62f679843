#include "hw/i8042_controller.h"

#include <string>

namespace rwd::hw {

namespace {

// Status register bits.
constexpr uint8_t kStatusObf = 0x01, kStatusSys = 0x04, kStatusCommand = 0x08, kStatusUnlocked = 0x10,
                  kStatusAuxObf = 0x20, kStatusTimeout = 0x40;
// Command byte bits.
constexpr uint8_t kCcbKeyboardInt = 0x01, kCcbMouseInt = 0x02, kCcbSys = 0x04, kCcbKeyboardOff = 0x10,
                  kCcbMouseOff = 0x20;
// Keyboard replies.
constexpr uint8_t kAck = 0xfa, kResend = 0xfe, kSelfTestPassed = 0xaa;

}  // namespace

I8042Controller::I8042Controller(core::RunControl& run_control, core::IrqLine keyboard_irq,
                                 core::IrqLine mouse_irq)
    : run_control_(run_control), keyboard_irq_(keyboard_irq), mouse_irq_(mouse_irq) {
  reset();
}

void I8042Controller::reset() {
  // Power-on state of the controller (no BIOS has run): both port interrupts
  // enabled, system flag clear until a self test, A20 and reset deasserted.
  output_.clear();
  command_byte_ = kCcbKeyboardInt | kCcbMouseInt;
  output_port_ = 0xcf;
  last_write_was_command_ = true;
  aux_timeout_ = false;
  pending_ = Pending::kNone;
  keyboard_enabled_ = true;
  port_a_ = 0;
  update_irqs();
}

uint8_t I8042Controller::read_status() {
  uint8_t status = kStatusUnlocked;
  if (!output_.empty()) {
    status |= kStatusObf;
    if (output_.front().source == Source::kMouse) status |= kStatusAuxObf;
  }
  if (command_byte_ & kCcbSys) status |= kStatusSys;
  if (last_write_was_command_) status |= kStatusCommand;
  if (aux_timeout_) status |= kStatusTimeout;
  return status;
}

uint8_t I8042Controller::read_data() {
  if (output_.empty()) return 0;
  uint8_t value = output_.front().value;
  output_.pop_front();
  aux_timeout_ = false;
  // Drop the lines so the next queued byte, if any, is a fresh edge.
  if (keyboard_irq_level_) keyboard_irq_.lower();
  if (mouse_irq_level_) mouse_irq_.lower();
  keyboard_irq_level_ = mouse_irq_level_ = false;
  update_irqs();
  return value;
}

void I8042Controller::push(uint8_t value, Source source) {
  output_.push_back({value, source});
  update_irqs();
}

void I8042Controller::update_irqs() {
  bool keyboard = false, mouse = false;
  if (!output_.empty()) {
    if (output_.front().source == Source::kMouse) {
      mouse = command_byte_ & kCcbMouseInt;
    } else {
      keyboard = command_byte_ & kCcbKeyboardInt;
    }
  }
  if (keyboard != keyboard_irq_level_) {
    keyboard_irq_level_ = keyboard;
    keyboard_irq_.set(keyboard);
  }
  if (mouse != mouse_irq_level_) {
    mouse_irq_level_ = mouse;
    mouse_irq_.set(mouse);
  }
}

void I8042Controller::write_command(uint8_t command) {
  last_write_was_command_ = true;
  pending_ = Pending::kNone;
  if (command >= 0xf0) {
    // Pulse the output port bits whose command bit is 0; bit 0 is the CPU's
    // reset line (0xFE is the classic reboot).
    if (!(command & kOutReset)) run_control_.request_reset();
    return;
  }
  switch (command) {
    case 0x20: push(command_byte_, Source::kController); break;
    case 0x60: pending_ = Pending::kCommandByte; break;
    case 0xa7: command_byte_ |= kCcbMouseOff; break;
    case 0xa8: command_byte_ &= ~kCcbMouseOff; break;
    case 0xa9: push(0x00, Source::kController); break;  // aux interface test: OK
    case 0xaa:                                          // controller self test
      command_byte_ |= kCcbSys;
      push(0x55, Source::kController);
      break;
    case 0xab: push(0x00, Source::kController); break;  // keyboard interface test: OK
    case 0xad: command_byte_ |= kCcbKeyboardOff; break;
    case 0xae: command_byte_ &= ~kCcbKeyboardOff; break;
    case 0xc0: push(0x80, Source::kController); break;  // input port: keyboard not locked
    case 0xd0: push(output_port_, Source::kController); break;
    case 0xd1: pending_ = Pending::kOutputPort; break;
    case 0xd2: pending_ = Pending::kKeyboardOutput; break;
    case 0xd3: pending_ = Pending::kMouseOutput; break;
    case 0xd4: pending_ = Pending::kMouseCommand; break;
    case 0xdd: output_port_ &= ~kOutA20; break;
    case 0xdf: output_port_ |= kOutA20; break;
    case 0xe0: push(0x00, Source::kController); break;  // test inputs
    default:
      // 0x21-0x3f read controller RAM, 0x61-0x7f write it: not kept.
      if (command > 0x20 && command < 0x40) push(0x00, Source::kController);
      break;
  }
}

void I8042Controller::write_data(uint8_t value) {
  last_write_was_command_ = false;
  Pending pending = pending_;
  pending_ = Pending::kNone;
  switch (pending) {
    case Pending::kCommandByte:
      command_byte_ = value;
      update_irqs();
      break;
    case Pending::kOutputPort:
      write_output_port(value);
      break;
    case Pending::kKeyboardOutput:
      push(value, Source::kKeyboard);
      break;
    case Pending::kMouseOutput:
      push(value, Source::kMouse);
      break;
    case Pending::kMouseCommand:
      // No mouse answers: the controller times out and reports "resend".
      aux_timeout_ = true;
      push(kResend, Source::kMouse);
      break;
    case Pending::kKeyboardArgument:
      push(kAck, Source::kKeyboard);
      if (keyboard_pending_command_ == 0xf0 && value == 0) push(0x02, Source::kKeyboard);  // current set: 2
      break;
    case Pending::kNone:
      keyboard_command(value);
      break;
  }
}

void I8042Controller::keyboard_command(uint8_t value) {
  switch (value) {
    case 0xff:  // reset and self test
      keyboard_enabled_ = true;
      push(kAck, Source::kKeyboard);
      push(kSelfTestPassed, Source::kKeyboard);
      break;
    case 0xf2:  // identify: an MF2 keyboard
      push(kAck, Source::kKeyboard);
      push(0xab, Source::kKeyboard);
      push(0x83, Source::kKeyboard);
      break;
    case 0xee:  // echo
      push(0xee, Source::kKeyboard);
      break;
    case 0xf4:
      keyboard_enabled_ = true;
      push(kAck, Source::kKeyboard);
      break;
    case 0xf5:
      keyboard_enabled_ = false;
      push(kAck, Source::kKeyboard);
      break;
    case 0xed:  // set LEDs
    case 0xf0:  // get/set scan-code set
    case 0xf3:  // typematic rate
      keyboard_pending_command_ = value;
      pending_ = Pending::kKeyboardArgument;
      push(kAck, Source::kKeyboard);
      break;
    default:
      push(kAck, Source::kKeyboard);
      break;
  }
}

void I8042Controller::write_output_port(uint8_t value) {
  output_port_ = value;
  // Bit 0 low holds the CPU in reset.
  if (!(value & kOutReset)) run_control_.request_reset();
}

uint8_t I8042Controller::read_port_a() const {
  return static_cast<uint8_t>((port_a_ & ~kOutA20) | ((port_a_ | output_port_) & kOutA20));
}

void I8042Controller::write_port_a(uint8_t value) {
  uint8_t old = port_a_;
  port_a_ = value;
  // A 0 -> 1 transition of bit 0 resets the CPU (the PS/2 fast reset).
  if ((value & 0x01) && !(old & 0x01)) run_control_.request_reset();
}

void I8042Controller::save_state(core::StateWriter& out) const {
  out.u32(kStateVersion);
  out.u8(command_byte_);
  out.u8(output_port_);
  out.u8(port_a_);
  out.boolean(last_write_was_command_);
  out.boolean(aux_timeout_);
  out.u8(static_cast<uint8_t>(pending_));
  out.u8(keyboard_pending_command_);
  out.boolean(keyboard_enabled_);
  out.boolean(keyboard_irq_level_);
  out.boolean(mouse_irq_level_);
  out.u32(static_cast<uint32_t>(output_.size()));
  for (const OutputByte& byte : output_) {
    out.u8(byte.value);
    out.u8(static_cast<uint8_t>(byte.source));
  }
}

void I8042Controller::load_state(core::StateReader& in) {
  in.version(kStateVersion);
  auto corrupt = [](const std::string& what) {
    throw core::SnapshotError(std::string(kStateName) + ": corrupt state: " + what);
  };
  uint8_t command_byte = in.u8(), output_port = in.u8(), port_a = in.u8();
  bool last_write_was_command = in.boolean(), aux_timeout = in.boolean();
  uint8_t pending = in.u8();
  uint8_t keyboard_pending_command = in.u8();
  bool keyboard_enabled = in.boolean();
  bool keyboard_irq_level = in.boolean(), mouse_irq_level = in.boolean();
  if (pending > static_cast<uint8_t>(Pending::kKeyboardArgument)) {
    corrupt("pending data-port meaning " + std::to_string(pending) + " does not exist");
  }
  // The count comes from the stream: entries are read one by one (a corrupt
  // count runs into the end of the state, it never sizes an allocation).
  uint32_t count = in.u32();
  std::deque<OutputByte> output;
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t value = in.u8();
    uint8_t source = in.u8();
    if (source > static_cast<uint8_t>(Source::kMouse)) {
      corrupt("output byte " + std::to_string(i) + " has source " + std::to_string(source) + ", which does not exist");
    }
    output.push_back({value, static_cast<Source>(source)});
  }
  output_ = std::move(output);
  command_byte_ = command_byte;
  output_port_ = output_port;
  port_a_ = port_a;
  last_write_was_command_ = last_write_was_command;
  aux_timeout_ = aux_timeout;
  pending_ = static_cast<Pending>(pending);
  keyboard_pending_command_ = keyboard_pending_command;
  keyboard_enabled_ = keyboard_enabled;
  // This side's view only: the PIC restores its own, and driving the lines
  // here could be an edge the original run never had.
  keyboard_irq_level_ = keyboard_irq_level;
  mouse_irq_level_ = mouse_irq_level;
}

}  // namespace rwd::hw
