// The 16550A UART (a PC's COM port): eight registers, 16-byte RX and TX FIFOs,
// four prioritised interrupt sources, loopback, and the PC's OUT2 IRQ gate.
//
// Simplifications, all invisible to a driver that follows the datasheet:
//  - Transmission takes no time: a byte written to THR goes to the console sink
//    at once, so the TX FIFO and shift register are always empty again when the
//    guest next looks (LSR.THRE and LSR.TEMT stay set, and with IER.ETBEI the
//    THRE interrupt is pending again right after each THR write).
//  - The character timeout runs on the virtual clock: four character times at
//    the programmed divisor and frame format after the last byte entered or
//    left the RX FIFO, as the datasheet says.
//  - Parity, framing and break errors cannot happen (bytes arrive whole); only
//    overrun can, and only in loopback, since console input is held back while
//    the FIFO is full.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "core/irq.h"
#include "core/memory.h"
#include "core/snapshot.h"
#include "core/timer_queue.h"
#include "core/virtual_clock.h"
#include "replay/inputs.h"

namespace rwd::hw {

class Uart16550 final : public core::RegionOps, public replay::ByteReceiver, public core::Snapshottable {
 public:
  static constexpr uint32_t kStateVersion = 1;
  static constexpr uint16_t kCom1Base = 0x3f8;
  static constexpr unsigned kCom1Irq = 4;
  static constexpr unsigned kFifoSize = 16;
  // The PC's UART crystal is 1.8432 MHz divided by 16: divisor 1 = 115200 baud.
  static constexpr uint64_t kBaseBaud = 115200;

  // Register offsets.
  enum Reg : uint8_t { kRbrThr = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7 };

  // `tx` receives transmitted bytes; `irq` is the line to the interrupt
  // controller (gated by MCR.OUT2, as on a PC).
  Uart16550(const char* name, core::VirtualClock& clock, core::TimerQueue& timers, core::IrqLine irq,
            replay::ByteSink* tx);

  // core::RegionOps: an 8-byte register window, 1-byte accesses.
  uint64_t read(uint64_t offset, unsigned size) override;
  void write(uint64_t offset, uint64_t value, unsigned size) override;

  // replay::ByteReceiver: console input. Refused while in loopback (the
  // serial input pin is disconnected) or while the receiver is full.
  bool can_receive() const override;
  void receive(uint8_t byte) override;

  void set_tx_sink(replay::ByteSink* tx) { tx_ = tx; }
  void reset();

  // core::Snapshottable: registers, RX FIFO, pending sources, the timeout
  // timer and this side's IRQ level. The console sink is wiring, not state.
  void save_state(core::StateWriter& out) const override;
  void load_state(core::StateReader& in) override;
  // The name given at construction ("com1"): also its checkpoint state name.
  const std::string& name() const { return name_; }

  // For tests and the board.
  bool irq_level() const { return irq_level_; }
  unsigned rx_count() const { return rx_count_; }

 private:
  // Interrupt identification values of IIR bits 3:0 (bit 0 = none pending).
  static constexpr uint8_t kIirNone = 0x01, kIirLineStatus = 0x06, kIirRxData = 0x04,
                           kIirTimeout = 0x0c, kIirThre = 0x02, kIirModem = 0x00;

  uint8_t read_register(unsigned reg);
  void write_register(unsigned reg, uint8_t value);
  void write_fcr(uint8_t value);
  void write_mcr(uint8_t value);
  void transmit(uint8_t byte);
  void enqueue_rx(uint8_t byte);
  uint8_t dequeue_rx();
  void clear_rx();
  bool fifo_enabled() const { return fcr_ & 0x01; }
  unsigned rx_trigger_level() const;
  uint8_t modem_inputs() const;      // MSR bits 7:4 as the pins currently show them
  void update_modem_status(uint8_t old_inputs);
  uint64_t char_time_ns() const;     // one character frame at the current settings
  void restart_timeout();
  void on_timeout();
  uint8_t pending_interrupt() const;  // the IIR bits 3:0 of the highest-priority source
  void update_irq();

  std::string name_;
  core::VirtualClock& clock_;
  core::IrqLine irq_;
  replay::ByteSink* tx_;
  std::unique_ptr<core::Timer> timeout_timer_;

  uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0, fcr_ = 0;
  uint8_t lsr_errors_ = 0;  // LSR.OE (the only error we can produce), cleared on LSR read
  uint8_t msr_deltas_ = 0;  // MSR bits 3:0
  uint16_t divisor_ = 12;   // 9600 baud, a common power-on value
  bool thr_interrupt_ = false;
  bool timeout_pending_ = false;
  bool irq_level_ = false;

  std::array<uint8_t, kFifoSize> rx_fifo_{};
  unsigned rx_head_ = 0, rx_count_ = 0;
};

}  // namespace rwd::hw
