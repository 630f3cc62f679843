// The 8254 PIT and port B, on a virtual clock the test advances. Counter values
// are computed from virtual time; tick k of the 1.193182 MHz input clock
// begins at I8254Pit::ticks_to_ns(k). A count written during tick t reaches
// the counting element at tick t + 1.
#define BOOST_TEST_MODULE hw_i8254
#include <boost/test/unit_test.hpp>

#include "core/memory.h"
#include "hw/i8254_pit.h"
#include "tests/unit/test_hw_fakes.h"

using namespace rwd;
using hw::I8254Pit;

namespace {

struct Fixture {
  Fixture() {
    core::AccessRules rules;
    rules.impl_max = 1;
    io.add_io("pit", 0x40, 4, &pit, rules);
    io.add_io("port-b", 0x61, 1, &pit.port_b_ops(), rules);
  }
  uint8_t in(uint16_t port) { return static_cast<uint8_t>(io.read(port, 1)); }
  void out(uint16_t port, uint8_t value) { io.write(port, value, 1); }
  void to_tick(uint64_t tick) { time.advance_to(I8254Pit::ticks_to_ns(tick)); }
  uint16_t read16(uint16_t port) {
    uint16_t lo = in(port);
    return static_cast<uint16_t>(lo | in(port) << 8);
  }
  uint16_t latched(unsigned channel) {
    out(0x43, static_cast<uint8_t>(channel << 6));  // counter latch command
    return read16(static_cast<uint16_t>(0x40 + channel));
  }
  void program(unsigned channel, uint8_t mode, uint16_t count, bool bcd = false) {
    out(0x43, static_cast<uint8_t>(channel << 6 | 0x30 | mode << 1 | (bcd ? 1 : 0)));
    out(static_cast<uint16_t>(0x40 + channel), count & 0xff);
    out(static_cast<uint16_t>(0x40 + channel), count >> 8);
  }
  unsigned irq_edges() { return sink.rising_edges(0); }

  hw::test::TestClock time;
  hw::test::FakeIrqSink sink;
  I8254Pit pit{time.clock, time.timers, core::IrqLine(&sink, 0)};
  core::AddressSpace io{"io", 0x10000};
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(i8254, Fixture)

BOOST_AUTO_TEST_CASE(tick_conversion) {
  BOOST_TEST(I8254Pit::ns_to_ticks(1'000'000'000) == 1'193'182u);
  BOOST_TEST(I8254Pit::ticks_to_ns(1'193'182) == 1'000'000'000u);
  for (uint64_t t : {1ull, 2ull, 1000ull, 123457ull}) {
    BOOST_TEST(I8254Pit::ns_to_ticks(I8254Pit::ticks_to_ns(t)) == t);
    BOOST_TEST(I8254Pit::ns_to_ticks(I8254Pit::ticks_to_ns(t) - 1) == t - 1);
  }
}

BOOST_AUTO_TEST_CASE(quiet_until_programmed) {
  to_tick(100000);
  BOOST_TEST(irq_edges() == 0u);
  BOOST_TEST(time.timers.next_deadline_ns() == core::TimerQueue::kNever);
}

BOOST_AUTO_TEST_CASE(mode2_rate_generator) {
  program(0, 2, 1000);
  sink.clear_edges();
  to_tick(101);
  BOOST_TEST(latched(0) == 900);
  to_tick(1000);  // count 1: OUT low for one clock
  BOOST_TEST(!pit.output(0));
  BOOST_TEST(latched(0) == 1);
  to_tick(1001);  // reload: OUT high again, the PIC sees an edge
  BOOST_TEST(pit.output(0));
  BOOST_TEST(latched(0) == 1000);
  BOOST_TEST(irq_edges() == 1u);
  to_tick(5001);
  BOOST_TEST(irq_edges() == 5u);
  BOOST_TEST(time.timers.next_deadline_ns() == I8254Pit::ticks_to_ns(6001));
}

BOOST_AUTO_TEST_CASE(mode3_square_wave) {
  program(0, 3, 1000);
  sink.clear_edges();
  to_tick(101);
  BOOST_TEST(latched(0) == 800);  // counts down by two
  to_tick(1 + 499);
  BOOST_TEST(pit.output(0));
  to_tick(1 + 500);
  BOOST_TEST(!pit.output(0));     // second half of the period
  BOOST_TEST(latched(0) == 1000);
  to_tick(1 + 1000);
  BOOST_TEST(pit.output(0));
  BOOST_TEST(irq_edges() == 1u);
  to_tick(1 + 10 * 1000);
  BOOST_TEST(irq_edges() == 10u);
}

BOOST_AUTO_TEST_CASE(mode0_interrupt_on_terminal_count) {
  program(0, 0, 500);
  BOOST_TEST(!pit.output(0));
  BOOST_TEST(!sink.level(0));
  to_tick(1 + 499);
  BOOST_TEST(latched(0) == 1);
  BOOST_TEST(!pit.output(0));
  to_tick(1 + 500);
  BOOST_TEST(latched(0) == 0);
  BOOST_TEST(pit.output(0));
  BOOST_TEST(irq_edges() == 1u);
  to_tick(1 + 3000);
  BOOST_TEST(irq_edges() == 1u);  // one shot
  BOOST_TEST(latched(0) == (500 - 3000 + 65536));  // keeps counting, wrapped
  BOOST_TEST(sink.level(0));  // OUT stays high
  // A new control word drops OUT again.
  out(0x43, 0x30);
  BOOST_TEST(!sink.level(0));
}

BOOST_AUTO_TEST_CASE(mode0_first_byte_stops_counting) {
  program(0, 0, 100);
  to_tick(200);
  BOOST_TEST(pit.output(0));
  out(0x40, 0x20);  // low byte of a new count: OUT low, counting stops
  BOOST_TEST(!pit.output(0));
  to_tick(400);
  BOOST_TEST(!pit.output(0));
  out(0x40, 0x00);  // high byte: count 0x20 starts at the next tick
  to_tick(401 + 0x20);
  BOOST_TEST(pit.output(0));
}

BOOST_AUTO_TEST_CASE(latch_holds_while_time_passes) {
  program(0, 0, 500);
  to_tick(101);
  out(0x43, 0x00);
  to_tick(300);
  out(0x43, 0x00);  // a second latch before reading is ignored
  BOOST_TEST(read16(0x40) == 400);
  BOOST_TEST(read16(0x40) == 500 - 299);  // unlatched reads follow time
}

BOOST_AUTO_TEST_CASE(read_back_command) {
  program(0, 2, 1000);
  out(0x43, 0xe2);  // status only, channel 0, before the count is loaded
  BOOST_TEST(in(0x40) == (0x80 | 0x40 | 0x30 | 0x04));  // OUT, null count, lo/hi, mode 2
  to_tick(51);
  out(0x43, 0xc2);  // count and status
  BOOST_TEST(in(0x40) == (0x80 | 0x30 | 0x04));
  BOOST_TEST(read16(0x40) == 950);
  out(0x43, 0xd2);  // count only
  to_tick(61);
  BOOST_TEST(read16(0x40) == 950);
  // Status of several channels at once.
  program(1, 3, 4);
  out(0x43, 0xe6);
  BOOST_TEST(in(0x40) == (0x80 | 0x30 | 0x04));
  BOOST_TEST((in(0x41) & 0x3f) == (0x30 | 0x06));
}

BOOST_AUTO_TEST_CASE(access_modes) {
  out(0x43, 0x10);  // lobyte only, mode 0
  out(0x40, 0x50);
  to_tick(1 + 0x10);
  BOOST_TEST(in(0x40) == 0x40);
  BOOST_TEST(in(0x40) == 0x40);  // every read is the low byte
  out(0x43, 0x20);  // hibyte only
  out(0x40, 0x12);
  to_tick(1 + 0x10 + 1 + 0x100);
  BOOST_TEST(in(0x40) == 0x11);
  out(0x43, 0x30);  // lobyte then hibyte, unlatched reads alternate
  out(0x40, 0x34);
  out(0x40, 0x12);
  uint16_t v = read16(0x40);
  BOOST_TEST(v == 0x1234);
}

BOOST_AUTO_TEST_CASE(bcd_counting) {
  program(0, 2, 0x1000, true);  // 1000 decimal
  to_tick(2);
  BOOST_TEST(latched(0) == 0x0999);
  to_tick(1 + 1000);
  BOOST_TEST(latched(0) == 0x1000);
}

BOOST_AUTO_TEST_CASE(channel2_through_port_b) {
  BOOST_TEST((in(0x61) & 0x01) == 0);  // gate off at power-on
  program(2, 0, 1000);
  to_tick(5000);
  BOOST_TEST(latched(2) == 1000);      // gate low: not counting
  BOOST_TEST((in(0x61) & 0x20) == 0);
  out(0x61, 0x01);                     // gate on during tick 5000: counts from tick 5001
  to_tick(5000 + 999);
  BOOST_TEST((in(0x61) & 0x20) == 0);
  BOOST_TEST(latched(2) == 1);
  to_tick(5000 + 1000);
  BOOST_TEST((in(0x61) & 0x20) == 0x20);
  BOOST_TEST(irq_edges() == 0u);       // channel 2 has no IRQ
  out(0x61, 0x03);
  BOOST_TEST((in(0x61) & 0x03) == 0x03);  // gate and speaker data read back
}

BOOST_AUTO_TEST_CASE(gate_suspends_mode0) {
  out(0x61, 0x01);
  program(2, 0, 1000);
  to_tick(101);
  out(0x61, 0x00);
  to_tick(5000);
  BOOST_TEST(latched(2) == 900);
  out(0x61, 0x01);
  to_tick(5000 + 50);
  BOOST_TEST(latched(2) == 850);
}

BOOST_AUTO_TEST_CASE(gate_reloads_mode2) {
  out(0x61, 0x01);
  program(2, 2, 100);
  to_tick(51);
  BOOST_TEST(latched(2) == 50);
  out(0x61, 0x00);
  BOOST_TEST((in(0x61) & 0x20) == 0x20);  // gate low forces OUT high
  out(0x61, 0x01);                       // rising edge: reload
  to_tick(52);
  BOOST_TEST(latched(2) == 100);
}

BOOST_AUTO_TEST_CASE(mode1_one_shot_needs_a_trigger) {
  program(2, 1, 100);
  to_tick(500);
  BOOST_TEST((in(0x61) & 0x20) == 0x20);  // OUT high until triggered
  out(0x61, 0x01);
  to_tick(501);
  BOOST_TEST((in(0x61) & 0x20) == 0);
  to_tick(501 + 100);
  BOOST_TEST((in(0x61) & 0x20) == 0x20);
}

BOOST_AUTO_TEST_CASE(mode4_software_strobe) {
  program(0, 4, 100);
  sink.clear_edges();
  to_tick(1 + 100);
  BOOST_TEST(!pit.output(0));  // one clock low at terminal count
  to_tick(1 + 101);
  BOOST_TEST(pit.output(0));
  BOOST_TEST(irq_edges() == 1u);
}

BOOST_AUTO_TEST_CASE(refresh_toggle_follows_virtual_time) {
  time.advance_to(0);
  uint8_t a = in(0x61) & 0x10;
  time.advance_to(I8254Pit::kRefreshPeriodNs);
  uint8_t b = in(0x61) & 0x10;
  time.advance_to(2 * I8254Pit::kRefreshPeriodNs);
  uint8_t c = in(0x61) & 0x10;
  BOOST_TEST(a != b);
  BOOST_TEST(a == c);
}

BOOST_AUTO_TEST_SUITE_END()
