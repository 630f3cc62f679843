// The 16550A driven through its ports as a guest driver would.
#define BOOST_TEST_MODULE hw_uart16550
#include <boost/test/unit_test.hpp>

#include "core/memory.h"
#include "hw/uart16550.h"
#include "tests/unit/test_hw_fakes.h"

using namespace rwd;
using hw::Uart16550;

namespace {

constexpr uint16_t kBase = 0x3f8;
constexpr uint16_t kRbr = kBase, kIer = kBase + 1, kIir = kBase + 2, kFcr = kBase + 2, kLcr = kBase + 3,
                   kMcr = kBase + 4, kLsr = kBase + 5, kMsr = kBase + 6, kScr = kBase + 7;
constexpr uint8_t kMcrOut2 = 0x08, kMcrLoop = 0x10;

struct Fixture {
  Fixture() {
    core::AccessRules rules;
    rules.impl_max = 1;
    io.add_io("com1", kBase, 8, &uart, rules);
    inputs.attach_console(0, &uart);
  }
  uint8_t in(uint16_t port) { return static_cast<uint8_t>(io.read(port, 1)); }
  void out(uint16_t port, uint8_t value) { io.write(port, value, 1); }
  bool irq() { return sink.level(4); }

  hw::test::TestClock time;
  hw::test::FakeIrqSink sink;
  hw::test::FakeInputs inputs;
  Uart16550 uart{"com1", time.clock, time.timers, core::IrqLine(&sink, 4), &inputs};
  core::AddressSpace io{"io", 0x10000};
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(uart, Fixture)

BOOST_AUTO_TEST_CASE(power_on_registers) {
  BOOST_TEST(in(kIir) == 0x01);  // no interrupt pending, FIFOs off
  BOOST_TEST(in(kLsr) == 0x60);  // THRE | TEMT
  BOOST_TEST(in(kLcr) == 0x00);
  BOOST_TEST(in(kMcr) == 0x00);
  BOOST_TEST(in(kMsr) == 0xb0);  // the console shows CTS, DSR, DCD
  BOOST_TEST(!irq());
}

BOOST_AUTO_TEST_CASE(transmit_goes_to_the_console_at_once) {
  for (char c : std::string("hi\n")) out(kRbr, static_cast<uint8_t>(c));
  BOOST_TEST(inputs.output == "hi\n");
  BOOST_TEST(in(kLsr) == 0x60);
}

BOOST_AUTO_TEST_CASE(divisor_latch_and_scratch) {
  out(kLcr, 0x83);
  out(kRbr, 0x01);
  out(kIer, 0x02);
  BOOST_TEST(in(kRbr) == 0x01);
  BOOST_TEST(in(kIer) == 0x02);
  out(kLcr, 0x03);
  BOOST_TEST(in(kIer) == 0x00);  // IER itself was not touched
  BOOST_TEST(inputs.output.empty());
  out(kScr, 0x5a);
  BOOST_TEST(in(kScr) == 0x5a);
}

BOOST_AUTO_TEST_CASE(thre_interrupt_semantics) {
  out(kMcr, kMcrOut2);
  out(kIer, 0x02);  // enabling ETBEI with THR empty raises THRE at once
  BOOST_TEST(irq());
  BOOST_TEST(in(kIir) == 0x02);
  // Reading IIR while it says THRE acknowledges it.
  BOOST_TEST(!irq());
  BOOST_TEST(in(kIir) == 0x01);
  // A THR write clears THRE; the byte leaves at once, so THR is empty again.
  out(kRbr, 'x');
  BOOST_TEST(irq());
  BOOST_TEST(in(kIir) == 0x02);
  // Disabling ETBEI hides it; re-enabling raises it again.
  out(kRbr, 'y');
  out(kIer, 0x00);
  BOOST_TEST(!irq());
  out(kIer, 0x02);
  BOOST_TEST(irq());
}

BOOST_AUTO_TEST_CASE(out2_gates_the_irq) {
  out(kIer, 0x02);
  BOOST_TEST(!irq());
  out(kMcr, kMcrOut2);
  BOOST_TEST(irq());
  out(kMcr, 0);
  BOOST_TEST(!irq());
}

BOOST_AUTO_TEST_CASE(receive_without_fifo) {
  out(kMcr, kMcrOut2);
  out(kIer, 0x01);
  BOOST_TEST(uart.can_receive());
  inputs.type("ab");
  BOOST_TEST(!uart.can_receive());  // a 16450 holds one byte
  BOOST_TEST(irq());
  BOOST_TEST(in(kIir) == 0x04);
  BOOST_TEST((in(kLsr) & 0x01) == 0x01);
  BOOST_TEST(in(kRbr) == 'a');
  inputs.deliver();
  BOOST_TEST(in(kRbr) == 'b');
  BOOST_TEST(!irq());
  BOOST_TEST((in(kLsr) & 0x01) == 0x00);
}

BOOST_AUTO_TEST_CASE(fifo_trigger_levels) {
  out(kMcr, kMcrOut2);
  out(kIer, 0x01);
  const std::pair<uint8_t, unsigned> kLevels[] = {{0x00, 1}, {0x40, 4}, {0x80, 8}, {0xc0, 14}};
  for (auto [bits, level] : kLevels) {
    out(kFcr, 0x07 | bits);  // enable and reset both FIFOs
    BOOST_TEST(in(kIir) == 0xc1);
    for (unsigned i = 1; i < level; ++i) inputs.type("x");
    BOOST_TEST(in(kIir) == 0xc1, "below trigger level " << level);
    BOOST_TEST(!irq());
    inputs.type("y");
    BOOST_TEST(in(kIir) == 0xc4, "at trigger level " << level);
    BOOST_TEST(irq());
  }
}

BOOST_AUTO_TEST_CASE(fifo_holds_sixteen_bytes_then_refuses) {
  out(kFcr, 0x01);
  inputs.type("0123456789abcdefXYZ");
  BOOST_TEST(uart.rx_count() == 16u);
  BOOST_TEST(!uart.can_receive());
  BOOST_TEST(inputs.pending.size() == 3u);  // held back, not lost
  BOOST_TEST((in(kLsr) & 0x02) == 0);       // no overrun
  std::string got;
  for (int i = 0; i < 4; ++i) got += static_cast<char>(in(kRbr));
  BOOST_TEST(got == "0123");
  inputs.deliver();
  BOOST_TEST(uart.rx_count() == 15u);
  out(kFcr, 0x03);  // reset the RX FIFO
  BOOST_TEST(uart.rx_count() == 0u);
  BOOST_TEST((in(kLsr) & 0x01) == 0);
}

BOOST_AUTO_TEST_CASE(character_timeout_on_the_virtual_clock) {
  out(kLcr, 0x80);
  out(kRbr, 1);  // 115200 baud
  out(kLcr, 0x03);  // 8N1: 10 bits a character, 86805 ns
  out(kMcr, kMcrOut2);
  out(kIer, 0x01);
  out(kFcr, 0xc1);  // trigger level 14
  inputs.type("ab");
  BOOST_TEST(in(kIir) == 0xc1);
  time.advance(4 * 86805 - 10);
  BOOST_TEST(in(kIir) == 0xc1);
  BOOST_TEST(!irq());
  time.advance(10);
  BOOST_TEST(in(kIir) == 0xcc);  // character timeout indication
  BOOST_TEST(irq());
  BOOST_TEST(in(kRbr) == 'a');   // reading clears it and restarts the timer
  BOOST_TEST(in(kIir) == 0xc1);
  time.advance(4 * 86805);
  BOOST_TEST(in(kIir) == 0xcc);
  BOOST_TEST(in(kRbr) == 'b');
  time.advance(10 * 86805);
  BOOST_TEST(in(kIir) == 0xc1);  // empty FIFO: no timeout
}

BOOST_AUTO_TEST_CASE(loopback) {
  out(kMcr, kMcrLoop);
  in(kMsr);                         // clear the deltas of entering loopback
  BOOST_TEST(!uart.can_receive());  // console input disconnected
  out(kRbr, 'Q');
  BOOST_TEST(inputs.output.empty());
  BOOST_TEST(in(kLsr) == 0x61);
  BOOST_TEST(in(kRbr) == 'Q');
  // Modem outputs appear on the inputs: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
  out(kMcr, kMcrLoop | 0x01);
  BOOST_TEST(in(kMsr) == (0x20 | 0x02));
  out(kMcr, kMcrLoop | 0x02);
  BOOST_TEST(in(kMsr) == (0x10 | 0x01 | 0x02));
  out(kMcr, kMcrLoop | 0x0f);
  BOOST_TEST((in(kMsr) & 0xf0) == 0xf0);
  out(kMcr, kMcrLoop | 0x0b);  // RI falls: trailing-edge delta
  BOOST_TEST((in(kMsr) & 0x04) == 0x04);
}

BOOST_AUTO_TEST_CASE(iir_priorities) {
  out(kMcr, kMcrLoop | kMcrOut2);
  out(kIer, 0x0f);
  out(kMcr, kMcrLoop | kMcrOut2 | 0x02);  // RTS -> CTS change: modem status
  out(kRbr, '1');
  out(kRbr, '2');  // overruns the one-byte receiver
  BOOST_TEST(!irq());  // loopback forces OUT2 inactive: the PC IRQ is gated off
  BOOST_TEST(in(kIir) == 0x06);  // line status first
  BOOST_TEST(in(kLsr) == 0x63);  // DR | OE | THRE | TEMT, reading clears OE
  BOOST_TEST(in(kIir) == 0x04);  // then received data
  BOOST_TEST(in(kRbr) == '2');   // 16450 mode: the overrunning byte replaced RBR
  BOOST_TEST(in(kIir) == 0x02);  // then THRE (acknowledged by this read)
  BOOST_TEST(in(kIir) == 0x00);  // then modem status
  BOOST_TEST((in(kMsr) & 0x01) == 0x01);
  BOOST_TEST(in(kIir) == 0x01);
}

BOOST_AUTO_TEST_CASE(fifo_overrun_keeps_the_fifo) {
  out(kFcr, 0x01);
  out(kMcr, kMcrLoop);
  for (int i = 0; i < 17; ++i) out(kRbr, static_cast<uint8_t>('a' + i));
  BOOST_TEST(uart.rx_count() == 16u);
  BOOST_TEST((in(kLsr) & 0x02) == 0x02);
  BOOST_TEST(in(kRbr) == 'a');
  BOOST_TEST((in(kLsr) & 0x02) == 0x00);
}

BOOST_AUTO_TEST_SUITE_END()
