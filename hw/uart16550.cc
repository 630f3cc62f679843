#include "hw/uart16550.h"

#include <string>

namespace rwd::hw {

namespace {

// IER bits.
constexpr uint8_t kIerRxData = 0x01, kIerThre = 0x02, kIerLineStatus = 0x04, kIerModem = 0x08;
// LCR bits.
constexpr uint8_t kLcrDlab = 0x80, kLcrParity = 0x08, kLcrTwoStop = 0x04;
// MCR bits.
constexpr uint8_t kMcrDtr = 0x01, kMcrRts = 0x02, kMcrOut1 = 0x04, kMcrOut2 = 0x08, kMcrLoop = 0x10;
// LSR bits.
constexpr uint8_t kLsrDr = 0x01, kLsrOe = 0x02, kLsrThre = 0x20, kLsrTemt = 0x40;
// MSR input bits (7:4) and delta bits (3:0).
constexpr uint8_t kMsrCts = 0x10, kMsrDsr = 0x20, kMsrRi = 0x40, kMsrDcd = 0x80;
constexpr uint8_t kMsrDcts = 0x01, kMsrDdsr = 0x02, kMsrTeri = 0x04, kMsrDdcd = 0x08;

constexpr uint64_t kNsPerSecond = 1'000'000'000;

}  // namespace

Uart16550::Uart16550(const char* name, core::VirtualClock& clock, core::TimerQueue& timers, core::IrqLine irq,
                     replay::ByteSink* tx)
    : name_(name), clock_(clock), irq_(irq), tx_(tx) {
  timeout_timer_ = std::make_unique<core::Timer>(timers, name_ + ".rx-timeout", [this] { on_timeout(); });
  reset();
}

void Uart16550::reset() {
  ier_ = lcr_ = mcr_ = scr_ = fcr_ = 0;
  lsr_errors_ = msr_deltas_ = 0;
  divisor_ = 12;
  thr_interrupt_ = false;
  timeout_pending_ = false;
  timeout_timer_->cancel();
  clear_rx();
  update_irq();
}

uint64_t Uart16550::read(uint64_t offset, unsigned size) { return read_register(offset & 7); }

void Uart16550::write(uint64_t offset, uint64_t value, unsigned size) {
  write_register(offset & 7, static_cast<uint8_t>(value));
}

uint8_t Uart16550::read_register(unsigned reg) {
  bool dlab = lcr_ & kLcrDlab;
  switch (reg) {
    case kRbrThr: {
      if (dlab) return divisor_ & 0xff;
      if (rx_count_ == 0) return 0;
      uint8_t byte = dequeue_rx();
      timeout_pending_ = false;
      restart_timeout();
      update_irq();
      return byte;
    }
    case kIer:
      return dlab ? divisor_ >> 8 : ier_;
    case kIirFcr: {
      uint8_t id = pending_interrupt();
      // Reading IIR while it reports THRE is what acknowledges that source.
      if (id == kIirThre) {
        thr_interrupt_ = false;
        update_irq();
      }
      return id | (fifo_enabled() ? 0xc0 : 0x00);
    }
    case kLcr:
      return lcr_;
    case kMcr:
      return mcr_;
    case kLsr: {
      uint8_t lsr = kLsrThre | kLsrTemt | lsr_errors_ | (rx_count_ ? kLsrDr : 0);
      lsr_errors_ = 0;
      update_irq();
      return lsr;
    }
    case kMsr: {
      uint8_t msr = modem_inputs() | msr_deltas_;
      msr_deltas_ = 0;
      update_irq();
      return msr;
    }
    default:
      return scr_;
  }
}

void Uart16550::write_register(unsigned reg, uint8_t value) {
  bool dlab = lcr_ & kLcrDlab;
  switch (reg) {
    case kRbrThr:
      if (dlab) {
        divisor_ = (divisor_ & 0xff00) | value;
        return;
      }
      thr_interrupt_ = false;
      transmit(value);
      // The byte left at once, so THR is empty again: that is a new THRE event.
      thr_interrupt_ = true;
      update_irq();
      return;
    case kIer:
      if (dlab) {
        divisor_ = static_cast<uint16_t>((divisor_ & 0x00ff) | (value << 8));
        return;
      }
      // Enabling ETBEI while THR is empty raises THRE right away (it always is here).
      if ((value & kIerThre) && !(ier_ & kIerThre)) thr_interrupt_ = true;
      ier_ = value & 0x0f;
      update_irq();
      return;
    case kIirFcr:
      write_fcr(value);
      return;
    case kLcr:
      lcr_ = value;
      return;
    case kMcr:
      write_mcr(value);
      return;
    case kLsr:
    case kMsr:
      return;  // factory-test writes: no effect on a 16550A in normal use
    default:
      scr_ = value;
      return;
  }
}

void Uart16550::write_fcr(uint8_t value) {
  bool enable = value & 0x01;
  // Switching between 16450 and FIFO mode empties both FIFOs.
  if (enable != fifo_enabled()) clear_rx();
  if (enable) {
    if (value & 0x02) clear_rx();
    // Bit 2 resets the TX FIFO, which is always empty here.
    fcr_ = value & 0xc9;  // enable, DMA mode, trigger level; reset bits self-clear
  } else {
    fcr_ = 0;  // the other bits are only programmed together with bit 0
  }
  timeout_pending_ = false;
  restart_timeout();
  update_irq();
}

void Uart16550::write_mcr(uint8_t value) {
  uint8_t old_inputs = modem_inputs();
  bool was_loop = mcr_ & kMcrLoop;
  mcr_ = value & 0x1f;
  if (was_loop != bool(mcr_ & kMcrLoop)) restart_timeout();
  update_modem_status(old_inputs);
  update_irq();
}

void Uart16550::transmit(uint8_t byte) {
  if (mcr_ & kMcrLoop) {
    enqueue_rx(byte);  // the serial output is looped back and the TX pin idles
  } else if (tx_) {
    tx_->write(&byte, 1);
  }
}

bool Uart16550::can_receive() const {
  if (mcr_ & kMcrLoop) return false;
  return rx_count_ < (fifo_enabled() ? kFifoSize : 1u);
}

void Uart16550::receive(uint8_t byte) {
  if (mcr_ & kMcrLoop) return;  // input pin disconnected in loopback
  enqueue_rx(byte);
}

void Uart16550::enqueue_rx(uint8_t byte) {
  unsigned capacity = fifo_enabled() ? kFifoSize : 1;
  if (rx_count_ >= capacity) {
    lsr_errors_ |= kLsrOe;
    // 16450 mode: the new character overwrites RBR. FIFO mode: the FIFO keeps
    // its contents and the character in the shift register is lost.
    if (!fifo_enabled()) rx_fifo_[rx_head_] = byte;
  } else {
    rx_fifo_[(rx_head_ + rx_count_) % kFifoSize] = byte;
    ++rx_count_;
  }
  restart_timeout();
  update_irq();
}

uint8_t Uart16550::dequeue_rx() {
  uint8_t byte = rx_fifo_[rx_head_];
  rx_head_ = (rx_head_ + 1) % kFifoSize;
  --rx_count_;
  return byte;
}

void Uart16550::clear_rx() {
  rx_head_ = rx_count_ = 0;
  timeout_pending_ = false;
}

unsigned Uart16550::rx_trigger_level() const {
  static constexpr unsigned kLevels[4] = {1, 4, 8, 14};
  return kLevels[fcr_ >> 6];
}

uint8_t Uart16550::modem_inputs() const {
  if (mcr_ & kMcrLoop) {
    // Loopback wires the modem outputs back to the inputs: DTR->DSR, RTS->CTS,
    // OUT1->RI, OUT2->DCD.
    return ((mcr_ & kMcrRts) ? kMsrCts : 0) | ((mcr_ & kMcrDtr) ? kMsrDsr : 0) |
           ((mcr_ & kMcrOut1) ? kMsrRi : 0) | ((mcr_ & kMcrOut2) ? kMsrDcd : 0);
  }
  // A console is a modem that is always there and ready: CTS, DSR, DCD asserted.
  return kMsrCts | kMsrDsr | kMsrDcd;
}

void Uart16550::update_modem_status(uint8_t old_inputs) {
  uint8_t now = modem_inputs();
  uint8_t changed = old_inputs ^ now;
  if (changed & kMsrCts) msr_deltas_ |= kMsrDcts;
  if (changed & kMsrDsr) msr_deltas_ |= kMsrDdsr;
  if ((old_inputs & kMsrRi) && !(now & kMsrRi)) msr_deltas_ |= kMsrTeri;  // trailing edge only
  if (changed & kMsrDcd) msr_deltas_ |= kMsrDdcd;
}

uint64_t Uart16550::char_time_ns() const {
  uint64_t bits = 1 + 5 + (lcr_ & 0x03) + ((lcr_ & kLcrParity) ? 1 : 0) + ((lcr_ & kLcrTwoStop) ? 2 : 1);
  uint64_t divisor = divisor_ ? divisor_ : 0x10000;
  return bits * divisor * kNsPerSecond / kBaseBaud;
}

void Uart16550::restart_timeout() {
  // The timeout counts four character times from the last byte that entered
  // or left the RX FIFO; only FIFO mode has a timeout indication.
  if (fifo_enabled() && rx_count_ > 0) {
    timeout_timer_->arm(clock_.now_ns() + 4 * char_time_ns());
  } else {
    timeout_timer_->cancel();
  }
}

void Uart16550::on_timeout() {
  if (fifo_enabled() && rx_count_ > 0) {
    timeout_pending_ = true;
    update_irq();
  }
}

uint8_t Uart16550::pending_interrupt() const {
  if ((ier_ & kIerLineStatus) && lsr_errors_) return kIirLineStatus;
  if (ier_ & kIerRxData) {
    if (fifo_enabled()) {
      if (rx_count_ >= rx_trigger_level()) return kIirRxData;
      if (timeout_pending_ && rx_count_ > 0) return kIirTimeout;
    } else if (rx_count_ > 0) {
      return kIirRxData;
    }
  }
  if ((ier_ & kIerThre) && thr_interrupt_) return kIirThre;
  if ((ier_ & kIerModem) && msr_deltas_) return kIirModem;
  return kIirNone;
}

void Uart16550::update_irq() {
  // On a PC the INTRPT pin reaches the bus through a buffer enabled by OUT2;
  // in loopback the OUT pins are forced inactive, so the IRQ is gated off too.
  bool level = pending_interrupt() != kIirNone && (mcr_ & kMcrOut2) && !(mcr_ & kMcrLoop);
  if (level != irq_level_) {
    irq_level_ = level;
    irq_.set(level);
  }
}

void Uart16550::save_state(core::StateWriter& out) const {
  out.u32(kStateVersion);
  out.u8(ier_);
  out.u8(lcr_);
  out.u8(mcr_);
  out.u8(scr_);
  out.u8(fcr_);
  out.u8(lsr_errors_);
  out.u8(msr_deltas_);
  out.u16(divisor_);
  out.boolean(thr_interrupt_);
  out.boolean(timeout_pending_);
  out.boolean(irq_level_);
  out.bytes(rx_fifo_.data(), rx_fifo_.size());
  out.u8(static_cast<uint8_t>(rx_head_));
  out.u8(static_cast<uint8_t>(rx_count_));
  timeout_timer_->save(out);
}

void Uart16550::load_state(core::StateReader& in) {
  in.version(kStateVersion);
  // Everything is read and checked before any member changes, so a corrupt
  // checkpoint leaves the register state as it was.
  uint8_t ier = in.u8(), lcr = in.u8(), mcr = in.u8(), scr = in.u8(), fcr = in.u8();
  uint8_t lsr_errors = in.u8(), msr_deltas = in.u8();
  uint16_t divisor = in.u16();
  bool thr_interrupt = in.boolean(), timeout_pending = in.boolean(), irq_level = in.boolean();
  std::array<uint8_t, kFifoSize> rx_fifo;
  in.bytes(rx_fifo.data(), rx_fifo.size());
  unsigned rx_head = in.u8(), rx_count = in.u8();

  auto corrupt = [&](const std::string& what) {
    throw core::SnapshotError(name_ + ": corrupt state: " + what);
  };
  // Masks the register writes apply: other bits would confuse the IIR/LSR/MSR
  // composition (and FCR bits 7:6 index the trigger-level table).
  if (ier & ~0x0f) corrupt("IER " + std::to_string(ier) + " has reserved bits set");
  if (mcr & ~0x1f) corrupt("MCR " + std::to_string(mcr) + " has reserved bits set");
  if (fcr & ~0xc9) corrupt("FCR " + std::to_string(fcr) + " has bits that self-clear");
  if (lsr_errors & ~kLsrOe) corrupt("LSR error bits " + std::to_string(lsr_errors) + " cannot occur");
  if (msr_deltas & ~0x0f) corrupt("MSR delta bits " + std::to_string(msr_deltas) + " out of range");
  if (rx_head >= kFifoSize) corrupt("RX FIFO head " + std::to_string(rx_head) + " is beyond the FIFO");
  unsigned capacity = (fcr & 0x01) ? kFifoSize : 1;
  if (rx_count > capacity) {
    corrupt("RX FIFO holds " + std::to_string(rx_count) + " bytes, more than its " + std::to_string(capacity));
  }
  timeout_timer_->load(in);

  ier_ = ier;
  lcr_ = lcr;
  mcr_ = mcr;
  scr_ = scr;
  fcr_ = fcr;
  lsr_errors_ = lsr_errors;
  msr_deltas_ = msr_deltas;
  divisor_ = divisor;
  thr_interrupt_ = thr_interrupt;
  timeout_pending_ = timeout_pending;
  rx_fifo_ = rx_fifo;
  rx_head_ = rx_head;
  rx_count_ = rx_count;
  // Only this side's view of the line: the interrupt controller restores its
  // own, so calling irq_.set() here would invent an edge the run never had.
  irq_level_ = irq_level;
}

}  // namespace rwd::hw
