// The i8042 keyboard controller and port 0x92, as a kernel probes and reboots.
#define BOOST_TEST_MODULE hw_i8042
#include <boost/test/unit_test.hpp>

#include "core/memory.h"
#include "core/run_control.h"
#include "hw/i8042_controller.h"
#include "tests/unit/test_hw_fakes.h"

using namespace rwd;
using hw::I8042Controller;

namespace {

constexpr uint8_t kObf = 0x01, kSys = 0x04, kAuxObf = 0x20, kTimeout = 0x40;

struct Fixture {
  Fixture() {
    io.add_io("i8042-data", 0x60, 1, &kbc);
    io.add_io("i8042-command", 0x64, 1, &kbc.command_ops());
    io.add_io("port-a", 0x92, 1, &kbc.port_a_ops());
  }
  uint8_t in(uint16_t port) { return static_cast<uint8_t>(io.read(port, 1)); }
  void out(uint16_t port, uint8_t value) { io.write(port, value, 1); }

  hw::test::FakeIrqSink sink;
  core::RunControl run_control;
  I8042Controller kbc{run_control, core::IrqLine(&sink, 1), core::IrqLine(&sink, 12)};
  core::AddressSpace io{"io", 0x10000};
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(i8042, Fixture)

BOOST_AUTO_TEST_CASE(self_test) {
  BOOST_TEST((in(0x64) & (kObf | kSys)) == 0);
  out(0x64, 0xaa);
  BOOST_TEST((in(0x64) & kObf) == kObf);
  BOOST_TEST(in(0x60) == 0x55);
  BOOST_TEST((in(0x64) & (kObf | kSys)) == kSys);  // system flag set by the passed test
  out(0x64, 0xab);
  BOOST_TEST(in(0x60) == 0x00);  // keyboard interface OK
}

BOOST_AUTO_TEST_CASE(command_byte) {
  out(0x64, 0x20);
  BOOST_TEST(in(0x60) == 0x03);
  out(0x64, 0x60);
  out(0x60, 0x65);
  BOOST_TEST(kbc.command_byte() == 0x65);
  out(0x64, 0x20);
  BOOST_TEST(in(0x60) == 0x65);
  out(0x64, 0xad);  // disable keyboard: bit 4
  BOOST_TEST(kbc.command_byte() == 0x75);
}

BOOST_AUTO_TEST_CASE(pulse_reset) {
  out(0x64, 0xff);  // pulses nothing: bit 0 set
  BOOST_TEST(!run_control.stop_requested());
  out(0x64, 0xfe);
  BOOST_TEST(run_control.stop_requested());
  BOOST_TEST(run_control.reason() == core::StopReason::kReset);
}

BOOST_AUTO_TEST_CASE(output_port_reset_and_a20) {
  out(0x64, 0xd0);
  BOOST_TEST((in(0x60) & 0x03) == 0x03);
  out(0x64, 0xd1);
  out(0x60, 0xdd);  // A20 off, reset deasserted
  BOOST_TEST(!kbc.a20_enabled());
  BOOST_TEST(!run_control.stop_requested());
  out(0x64, 0xd1);
  out(0x60, 0xdf);
  BOOST_TEST(kbc.a20_enabled());
  out(0x64, 0xd1);
  out(0x60, 0xde);  // bit 0 low: CPU reset
  BOOST_TEST(run_control.reason() == core::StopReason::kReset);
}

BOOST_AUTO_TEST_CASE(port_92_fast_reset) {
  out(0x92, 0x02);
  BOOST_TEST(in(0x92) == 0x02);
  BOOST_TEST(!run_control.stop_requested());
  out(0x92, 0x03);
  BOOST_TEST(run_control.reason() == core::StopReason::kReset);
}

BOOST_AUTO_TEST_CASE(keyboard_answers_and_irq1) {
  out(0x60, 0xff);  // keyboard reset
  BOOST_TEST(sink.level(1));
  BOOST_TEST(in(0x60) == 0xfa);
  BOOST_TEST(sink.level(1));  // next byte queued
  BOOST_TEST(sink.rising_edges(1) == 2u);
  BOOST_TEST(in(0x60) == 0xaa);
  BOOST_TEST(!sink.level(1));
  out(0x60, 0xf2);
  BOOST_TEST(in(0x60) == 0xfa);
  BOOST_TEST(in(0x60) == 0xab);
  BOOST_TEST(in(0x60) == 0x83);
  out(0x60, 0xed);  // LEDs and their argument, each acknowledged
  BOOST_TEST(in(0x60) == 0xfa);
  out(0x60, 0x07);
  BOOST_TEST(in(0x60) == 0xfa);
  BOOST_TEST((in(0x64) & kObf) == 0);
}

BOOST_AUTO_TEST_CASE(irq1_follows_the_command_byte) {
  out(0x64, 0x60);
  out(0x60, 0x00);
  out(0x60, 0xee);
  BOOST_TEST(!sink.level(1));
  BOOST_TEST(in(0x60) == 0xee);
}

BOOST_AUTO_TEST_CASE(no_mouse) {
  out(0x64, 0xd3);  // aux loopback works (the controller does it)
  out(0x60, 0x5a);
  BOOST_TEST((in(0x64) & (kObf | kAuxObf)) == (kObf | kAuxObf));
  BOOST_TEST(sink.level(12));
  BOOST_TEST(in(0x60) == 0x5a);
  out(0x64, 0xd4);  // a command to the mouse: nobody answers
  out(0x60, 0xf2);
  BOOST_TEST((in(0x64) & kTimeout) == kTimeout);
  BOOST_TEST(in(0x60) == 0xfe);
  BOOST_TEST((in(0x64) & kTimeout) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
