// The cascaded 8259A pair programmed and serviced as a PC kernel does.
#define BOOST_TEST_MODULE hw_i8259
#include <boost/test/unit_test.hpp>

#include "core/memory.h"
#include "hw/i8259_pair.h"
#include "tests/unit/test_hw_fakes.h"

using namespace rwd;
using hw::I8259Pair;

namespace {

struct Fixture {
  Fixture() {
    io.add_io("pic-master", 0x20, 2, &pic.master_ops());
    io.add_io("pic-slave", 0xa0, 2, &pic.slave_ops());
    io.add_io("elcr", 0x4d0, 2, &pic.elcr_ops());
    pic.connect_output(core::IrqLine(&cpu, 0));
  }
  uint8_t in(uint16_t port) { return static_cast<uint8_t>(io.read(port, 1)); }
  void out(uint16_t port, uint8_t value) { io.write(port, value, 1); }
  bool intr() { return cpu.level(0); }
  // The usual PC setup: vectors 0x20 and 0x28, cascade on IR2, 8086 mode.
  void init(uint8_t icw4 = 0x01) {
    out(0x20, 0x11);
    out(0x21, 0x20);
    out(0x21, 0x04);
    out(0x21, icw4);
    out(0xa0, 0x11);
    out(0xa1, 0x28);
    out(0xa1, 0x02);
    out(0xa1, icw4);
  }
  void eoi_master() { out(0x20, 0x20); }
  void eoi_slave() { out(0xa0, 0x20); }

  hw::test::FakeIrqSink cpu;
  I8259Pair pic;
  core::AddressSpace io{"io", 0x10000};
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(i8259, Fixture)

BOOST_AUTO_TEST_CASE(init_ack_eoi) {
  init();
  BOOST_TEST(in(0x21) == 0x00);
  BOOST_TEST(!intr());
  pic.set_irq(1, true);
  BOOST_TEST(intr());
  BOOST_TEST(pic.acknowledge() == 0x21);
  BOOST_TEST(!intr());
  BOOST_TEST(pic.isr(0) == 0x02);
  BOOST_TEST(pic.irr(0) == 0x00);  // edge: cleared by INTA
  eoi_master();
  BOOST_TEST(pic.isr(0) == 0x00);
  BOOST_TEST(!intr());  // the line is still high but no new edge came
  pic.set_irq(1, false);
  pic.set_irq(1, true);
  BOOST_TEST(intr());
}

BOOST_AUTO_TEST_CASE(pulse_is_latched) {
  init();
  core::IrqLine(&pic, 3).pulse();
  BOOST_TEST(intr());
  BOOST_TEST(pic.acknowledge() == 0x23);
}

BOOST_AUTO_TEST_CASE(masking) {
  init();
  out(0x21, 0x02);
  pic.set_irq(1, true);
  BOOST_TEST(!intr());
  BOOST_TEST(pic.irr(0) == 0x02);
  out(0x21, 0x00);
  BOOST_TEST(intr());
  BOOST_TEST(in(0x21) == 0x00);
}

BOOST_AUTO_TEST_CASE(priority_and_nesting) {
  init();
  pic.set_irq(3, true);
  pic.set_irq(1, true);
  BOOST_TEST(pic.acknowledge() == 0x21);  // IR1 beats IR3
  BOOST_TEST(!intr());                    // IR3 waits behind IR1 in service
  pic.set_irq(0, true);
  BOOST_TEST(intr());                     // IR0 nests above IR1
  BOOST_TEST(pic.acknowledge() == 0x20);
  BOOST_TEST(pic.isr(0) == 0x03);
  eoi_master();                           // non-specific: clears IR0
  BOOST_TEST(pic.isr(0) == 0x02);
  BOOST_TEST(!intr());
  eoi_master();
  BOOST_TEST(intr());
  BOOST_TEST(pic.acknowledge() == 0x23);
}

BOOST_AUTO_TEST_CASE(specific_eoi_and_register_reads) {
  init();
  pic.set_irq(4, true);
  pic.set_irq(6, true);
  BOOST_TEST(in(0x20) == 0x50);  // IRR by default
  BOOST_TEST(pic.acknowledge() == 0x24);
  out(0x20, 0x0b);               // OCW3: read ISR
  BOOST_TEST(in(0x20) == 0x10);
  out(0x20, 0x0a);               // OCW3: read IRR
  BOOST_TEST(in(0x20) == 0x40);
  out(0x20, 0x60 | 6);           // specific EOI for a level not in service: harmless
  BOOST_TEST(pic.isr(0) == 0x10);
  out(0x20, 0x60 | 4);
  BOOST_TEST(pic.isr(0) == 0x00);
  BOOST_TEST(pic.acknowledge() == 0x26);
}

BOOST_AUTO_TEST_CASE(cascade_through_the_slave) {
  init();
  pic.set_irq(12, true);
  BOOST_TEST(intr());
  BOOST_TEST(pic.irr(1) == 0x10);
  BOOST_TEST(pic.acknowledge() == 0x2c);
  BOOST_TEST(pic.isr(0) == 0x04);
  BOOST_TEST(pic.isr(1) == 0x10);
  BOOST_TEST(!intr());
  // Two slave requests: the second is delivered after the slave EOI.
  pic.set_irq(8, true);
  BOOST_TEST(!intr());  // IR8 is higher than IR12 on the slave, but master IR2 is in service
  eoi_slave();
  eoi_master();
  BOOST_TEST(intr());
  BOOST_TEST(pic.acknowledge() == 0x28);
  eoi_slave();
  eoi_master();
  BOOST_TEST(!intr());
}

BOOST_AUTO_TEST_CASE(slave_beats_lower_master_inputs) {
  init();
  pic.set_irq(5, true);
  pic.set_irq(9, true);
  BOOST_TEST(pic.acknowledge() == 0x29);  // IR2 (the slave) outranks IR5
  eoi_slave();
  eoi_master();
  BOOST_TEST(pic.acknowledge() == 0x25);
}

BOOST_AUTO_TEST_CASE(spurious_irq7) {
  init();
  pic.set_irq(5, true);
  BOOST_TEST(intr());
  out(0x21, 0x20);  // masked before the CPU got to INTA
  BOOST_TEST(!intr());
  BOOST_TEST(pic.acknowledge() == 0x27);
  BOOST_TEST(pic.isr(0) == 0x00);  // a spurious IRQ7 is not put in service
}

BOOST_AUTO_TEST_CASE(slave_request_withdrawn_before_inta) {
  init();
  pic.set_irq(10, true);
  BOOST_TEST(intr());
  BOOST_TEST(pic.irr(0) == 0x04);
  out(0xa1, 0x04);  // the slave's request goes away: so does the master's IR2
  BOOST_TEST(!intr());
  BOOST_TEST(pic.irr(0) == 0x00);
  BOOST_TEST(pic.acknowledge() == 0x27);  // a CPU that acks anyway gets IRQ7
  BOOST_TEST(pic.isr(0) == 0x00);
  BOOST_TEST(pic.isr(1) == 0x00);
}

BOOST_AUTO_TEST_CASE(special_fully_nested_mode) {
  init();
  out(0x20, 0x11);  // master again, now with SFNM
  out(0x21, 0x20);
  out(0x21, 0x04);
  out(0x21, 0x11);
  pic.set_irq(12, true);
  BOOST_TEST(pic.acknowledge() == 0x2c);
  pic.set_irq(8, true);  // higher priority on the same slave
  BOOST_TEST(intr());    // gets through IR2 in service
  BOOST_TEST(pic.acknowledge() == 0x28);
  pic.set_irq(13, true);  // lower than IR12, in service on the slave
  BOOST_TEST(!intr());
}

BOOST_AUTO_TEST_CASE(level_triggered_via_elcr) {
  init();
  out(0x4d1, 0x02);  // IRQ9 level-triggered
  BOOST_TEST(in(0x4d1) == 0x02);
  out(0x4d0, 0xff);
  BOOST_TEST(in(0x4d0) == 0xf8);  // IRQ0-2 cannot be level-triggered
  pic.set_irq(9, true);
  BOOST_TEST(pic.acknowledge() == 0x29);
  eoi_slave();
  eoi_master();
  BOOST_TEST(intr());  // still asserted: requests again
  pic.set_irq(9, false);
  BOOST_TEST(!intr());
  BOOST_TEST(pic.irr(1) == 0x00);
}

BOOST_AUTO_TEST_CASE(level_triggered_via_icw1) {
  out(0x20, 0x19);  // LTIM
  out(0x21, 0x20);
  out(0x21, 0x04);
  out(0x21, 0x01);
  pic.set_irq(3, true);
  BOOST_TEST(intr());
  pic.set_irq(3, false);
  BOOST_TEST(!intr());
}

BOOST_AUTO_TEST_CASE(auto_eoi) {
  init(0x03);
  pic.set_irq(1, true);
  BOOST_TEST(pic.acknowledge() == 0x21);
  BOOST_TEST(pic.isr(0) == 0x00);
  pic.set_irq(3, true);
  BOOST_TEST(intr());  // nothing in service blocks it
}

BOOST_AUTO_TEST_CASE(poll_command) {
  init();
  out(0x21, 0xff);  // polled systems mask everything
  pic.set_irq(6, true);
  BOOST_TEST(!intr());
  out(0x20, 0x0c);
  BOOST_TEST(in(0x20) == 0x00);  // masked: nothing to report
  out(0x21, 0x00);
  out(0x20, 0x0c);
  BOOST_TEST(in(0x20) == 0x86);
  BOOST_TEST(pic.isr(0) == 0x40);
}

BOOST_AUTO_TEST_CASE(rotation) {
  init();
  out(0x20, 0xc0 | 3);  // set priority: IR3 lowest, so IR4 highest
  pic.set_irq(1, true);
  pic.set_irq(4, true);
  BOOST_TEST(pic.acknowledge() == 0x24);
  out(0x20, 0xa0);  // rotate on non-specific EOI: IR4 becomes lowest
  BOOST_TEST(pic.acknowledge() == 0x21);
  out(0x20, 0x20);
  pic.set_irq(5, false);
  pic.set_irq(5, true);
  pic.set_irq(3, false);
  pic.set_irq(3, true);
  BOOST_TEST(pic.acknowledge() == 0x25);  // IR5 now highest after IR4 went lowest
}

BOOST_AUTO_TEST_CASE(special_mask_mode) {
  init();
  pic.set_irq(1, true);
  BOOST_TEST(pic.acknowledge() == 0x21);
  pic.set_irq(5, true);
  BOOST_TEST(!intr());  // blocked by IR1 in service
  out(0x21, 0x02);      // mask IR1 ...
  out(0x20, 0x68);      // ... and enter special mask mode
  BOOST_TEST(intr());
  BOOST_TEST(pic.acknowledge() == 0x25);
}

BOOST_AUTO_TEST_CASE(icw1_resets_state) {
  init();
  out(0x21, 0x55);
  pic.set_irq(1, true);
  BOOST_TEST(pic.acknowledge() == 0x21);
  init();
  BOOST_TEST(pic.isr(0) == 0x00);
  BOOST_TEST(pic.imr(0) == 0x00);
}

BOOST_AUTO_TEST_SUITE_END()
