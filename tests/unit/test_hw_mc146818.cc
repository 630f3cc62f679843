// The MC146818 RTC: wall time from replay::Inputs plus virtual time, formats,
// UIP, interrupts, and the CMOS bytes a BIOS would leave.
#define BOOST_TEST_MODULE hw_mc146818
#include <boost/test/unit_test.hpp>

#include "core/memory.h"
#include "hw/mc146818_rtc.h"
#include "tests/unit/test_hw_fakes.h"

using namespace rwd;
using hw::Mc146818Rtc;

namespace {

constexpr int64_t kNs = 1'000'000'000;
// 2024-02-29 23:59:58.5 UTC, a Thursday.
constexpr int64_t kLeapDayEvening = 1709251198 * kNs + kNs / 2;
// 1999-12-31 11:59:59 UTC.
constexpr int64_t kMillenniumEve = 946641599 * kNs;

struct Fixture {
  explicit Fixture(int64_t wall = kLeapDayEvening) : inputs(wall) {
    core::AccessRules rules;
    rules.impl_max = 1;
    io.add_io("rtc", 0x70, 2, &rtc, rules);
  }
  uint8_t reg(uint8_t index) {
    io.write(0x70, index, 1);
    return static_cast<uint8_t>(io.read(0x71, 1));
  }
  void set(uint8_t index, uint8_t value) {
    io.write(0x70, index, 1);
    io.write(0x71, value, 1);
  }
  bool irq() { return sink.level(8); }
  // Runs until `end_ns`, servicing each IRQ8 like a handler (read C, which
  // must have the `expected` flags set); returns how many interrupts came.
  unsigned service_until(uint64_t end_ns, uint8_t expected) {
    unsigned count = 0;
    for (;;) {
      uint64_t next = time.timers.next_deadline_ns();
      if (next > end_ns) break;
      time.advance_to(next);
      if (irq()) {
        BOOST_TEST((reg(Mc146818Rtc::kRegC) & expected) == expected);
        BOOST_TEST(!irq());
        ++count;
      }
    }
    time.advance_to(end_ns);
    return count;
  }

  hw::test::TestClock time;
  hw::test::FakeIrqSink sink;
  hw::test::FakeInputs inputs;
  Mc146818Rtc rtc{time.clock, time.timers, core::IrqLine(&sink, 8), inputs};
  core::AddressSpace io{"io", 0x10000};
};

struct MillenniumFixture : Fixture {
  MillenniumFixture() : Fixture(kMillenniumEve) {}
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(rtc, Fixture)

BOOST_AUTO_TEST_CASE(wall_clock_is_read_lazily_once) {
  BOOST_TEST(inputs.wall_clock_reads == 0);
  reg(Mc146818Rtc::kSeconds);
  BOOST_TEST(inputs.wall_clock_reads == 1);
  time.advance(5 * kNs);
  reg(Mc146818Rtc::kSeconds);
  reg(Mc146818Rtc::kRegA);
  BOOST_TEST(inputs.wall_clock_reads == 1);
}

BOOST_AUTO_TEST_CASE(power_on_registers) {
  BOOST_TEST(reg(Mc146818Rtc::kRegA) == 0x26);
  BOOST_TEST(reg(Mc146818Rtc::kRegB) == 0x02);
  BOOST_TEST(reg(Mc146818Rtc::kRegC) == 0x00);
  BOOST_TEST(reg(Mc146818Rtc::kRegD) == 0x80);
}

BOOST_AUTO_TEST_CASE(bcd_24_hour_time) {
  BOOST_TEST(reg(Mc146818Rtc::kSeconds) == 0x58);
  BOOST_TEST(reg(Mc146818Rtc::kMinutes) == 0x59);
  BOOST_TEST(reg(Mc146818Rtc::kHours) == 0x23);
  BOOST_TEST(reg(Mc146818Rtc::kDayOfWeek) == 5);  // Sunday = 1
  BOOST_TEST(reg(Mc146818Rtc::kDayOfMonth) == 0x29);
  BOOST_TEST(reg(Mc146818Rtc::kMonth) == 0x02);
  BOOST_TEST(reg(Mc146818Rtc::kYear) == 0x24);
  BOOST_TEST(reg(Mc146818Rtc::kCentury) == 0x20);
}

BOOST_AUTO_TEST_CASE(time_follows_virtual_time) {
  time.advance(kNs / 2 - 1);
  BOOST_TEST(reg(Mc146818Rtc::kSeconds) == 0x58);
  time.advance(1);
  BOOST_TEST(reg(Mc146818Rtc::kSeconds) == 0x59);
  time.advance(kNs);  // past midnight into March 1st, a leap year
  BOOST_TEST(reg(Mc146818Rtc::kSeconds) == 0x00);
  BOOST_TEST(reg(Mc146818Rtc::kMinutes) == 0x00);
  BOOST_TEST(reg(Mc146818Rtc::kHours) == 0x00);
  BOOST_TEST(reg(Mc146818Rtc::kDayOfMonth) == 0x01);
  BOOST_TEST(reg(Mc146818Rtc::kMonth) == 0x03);
  BOOST_TEST(reg(Mc146818Rtc::kDayOfWeek) == 6);
}

BOOST_AUTO_TEST_CASE(binary_and_12_hour_formats) {
  set(Mc146818Rtc::kRegB, 0x06);  // binary, 24 h
  BOOST_TEST(reg(Mc146818Rtc::kSeconds) == 58);
  BOOST_TEST(reg(Mc146818Rtc::kHours) == 23);
  BOOST_TEST(reg(Mc146818Rtc::kDayOfMonth) == 29);
  BOOST_TEST(reg(Mc146818Rtc::kCentury) == 20);
  set(Mc146818Rtc::kRegB, 0x00);  // BCD, 12 h: 11 PM
  BOOST_TEST(reg(Mc146818Rtc::kHours) == (0x80 | 0x11));
  set(Mc146818Rtc::kRegB, 0x04);  // binary, 12 h
  BOOST_TEST(reg(Mc146818Rtc::kHours) == (0x80 | 11));
}

BOOST_AUTO_TEST_CASE(update_in_progress_window) {
  BOOST_TEST((reg(Mc146818Rtc::kRegA) & 0x80) == 0);
  time.advance(kNs / 2 - Mc146818Rtc::kUipWindowNs - 1);
  BOOST_TEST((reg(Mc146818Rtc::kRegA) & 0x80) == 0);
  time.advance(1);
  BOOST_TEST((reg(Mc146818Rtc::kRegA) & 0x80) == 0x80);
  BOOST_TEST(reg(Mc146818Rtc::kSeconds) == 0x58);
  time.advance(Mc146818Rtc::kUipWindowNs - 1);
  BOOST_TEST((reg(Mc146818Rtc::kRegA) & 0x80) == 0x80);
  time.advance(1);
  BOOST_TEST((reg(Mc146818Rtc::kRegA) & 0x80) == 0);
  BOOST_TEST(reg(Mc146818Rtc::kSeconds) == 0x59);
}

BOOST_AUTO_TEST_CASE(periodic_interrupt_2hz) {
  set(Mc146818Rtc::kRegA, 0x2f);  // rate 15: every 0.5 s
  set(Mc146818Rtc::kRegB, 0x42);  // PIE
  BOOST_TEST(service_until(5 * kNs, 0xc0) == 10u);
}

BOOST_AUTO_TEST_CASE(periodic_interrupt_1024hz) {
  set(Mc146818Rtc::kRegB, 0x42);  // rate 6 (power-on): 976.5625 us
  BOOST_TEST(service_until(kNs, 0xc0) == 1024u);
  BOOST_TEST(service_until(3 * kNs, 0xc0) == 2048u);
}

BOOST_AUTO_TEST_CASE(periodic_flag_without_interrupt) {
  time.advance(kNs / 100);
  uint8_t c = reg(Mc146818Rtc::kRegC);
  BOOST_TEST(c == 0x40);  // PF set, IRQF not (PIE off)
  BOOST_TEST(!irq());
  BOOST_TEST(reg(Mc146818Rtc::kRegC) == 0x00);  // cleared by the read
}

BOOST_AUTO_TEST_CASE(update_ended_interrupt) {
  set(Mc146818Rtc::kSecondsAlarm, 0x45);  // keep AF out of the way
  set(Mc146818Rtc::kRegB, 0x12);          // UIE
  time.advance(kNs / 2 - 1);
  BOOST_TEST(!irq());
  time.advance(1);
  BOOST_TEST(irq());
  BOOST_TEST((reg(Mc146818Rtc::kRegC) & 0xf0) == 0xd0);  // IRQF | UF (PF too)
  BOOST_TEST(!irq());
  BOOST_TEST(service_until(kNs / 2 + 10 * kNs, 0xd0) == 10u);
}

BOOST_AUTO_TEST_CASE(alarm_interrupt) {
  set(Mc146818Rtc::kSecondsAlarm, 0x01);  // 00:00:01, 2.5 s from now
  set(Mc146818Rtc::kMinutesAlarm, 0x00);
  set(Mc146818Rtc::kHoursAlarm, 0x00);
  set(Mc146818Rtc::kRegB, 0x22);  // AIE
  time.advance(2 * kNs + kNs / 2 - 1);
  BOOST_TEST(!irq());
  reg(Mc146818Rtc::kRegC);
  time.advance(1);
  BOOST_TEST(irq());
  BOOST_TEST((reg(Mc146818Rtc::kRegC) & 0xb0) == 0xb0);  // IRQF | AF | UF
  // "Don't care" in every alarm byte: once a second.
  set(Mc146818Rtc::kSecondsAlarm, 0xc0);
  set(Mc146818Rtc::kMinutesAlarm, 0xff);
  set(Mc146818Rtc::kHoursAlarm, 0xc5);
  BOOST_TEST(service_until(time.now() + 5 * kNs, 0xf0) == 5u);
}

BOOST_AUTO_TEST_CASE(set_bit_freezes_and_sets_the_time) {
  set(Mc146818Rtc::kRegB, 0x92);  // SET and UIE: SET clears UIE
  BOOST_TEST(reg(Mc146818Rtc::kRegB) == 0x82);
  time.advance(5 * kNs);
  BOOST_TEST(reg(Mc146818Rtc::kSeconds) == 0x58);
  BOOST_TEST((reg(Mc146818Rtc::kRegA) & 0x80) == 0);
  set(Mc146818Rtc::kHours, 0x05);
  set(Mc146818Rtc::kMinutes, 0x30);
  set(Mc146818Rtc::kSeconds, 0x00);
  set(Mc146818Rtc::kDayOfMonth, 0x15);
  set(Mc146818Rtc::kMonth, 0x06);
  set(Mc146818Rtc::kYear, 0x31);
  set(Mc146818Rtc::kRegB, 0x02);
  BOOST_TEST(reg(Mc146818Rtc::kHours) == 0x05);
  BOOST_TEST(reg(Mc146818Rtc::kMinutes) == 0x30);
  BOOST_TEST(reg(Mc146818Rtc::kSeconds) == 0x00);
  BOOST_TEST(reg(Mc146818Rtc::kYear) == 0x31);
  BOOST_TEST(reg(Mc146818Rtc::kDayOfWeek) == 1);  // 2031-06-15 is a Sunday
  time.advance(kNs - 1);
  BOOST_TEST(reg(Mc146818Rtc::kSeconds) == 0x00);
  time.advance(1);
  BOOST_TEST(reg(Mc146818Rtc::kSeconds) == 0x01);
}

BOOST_AUTO_TEST_CASE(direct_write_keeps_running) {
  set(Mc146818Rtc::kYear, 0x25);
  BOOST_TEST(reg(Mc146818Rtc::kYear) == 0x25);
  BOOST_TEST(reg(Mc146818Rtc::kMonth) == 0x03);  // Feb 29th 2025 does not exist
  BOOST_TEST(reg(Mc146818Rtc::kDayOfMonth) == 0x01);
  time.advance(kNs / 2);
  BOOST_TEST(reg(Mc146818Rtc::kSeconds) == 0x59);  // the fraction of a second was kept
}

BOOST_AUTO_TEST_CASE(divider_reset) {
  set(Mc146818Rtc::kRegA, 0x76);  // hold the divider in reset
  time.advance(3 * kNs);
  BOOST_TEST(reg(Mc146818Rtc::kSeconds) == 0x58);
  set(Mc146818Rtc::kRegA, 0x26);  // first update 500 ms later
  time.advance(kNs / 2 - 1);
  BOOST_TEST(reg(Mc146818Rtc::kSeconds) == 0x58);
  time.advance(1);
  BOOST_TEST(reg(Mc146818Rtc::kSeconds) == 0x59);
}

BOOST_AUTO_TEST_CASE(nmi_disable_bit) {
  BOOST_TEST(!rtc.nmi_disabled());
  io.write(0x70, 0x80 | Mc146818Rtc::kRegD, 1);
  BOOST_TEST(rtc.nmi_disabled());
  BOOST_TEST(io.read(0x71, 1) == 0x80u);  // the index is the low 7 bits
  io.write(0x70, Mc146818Rtc::kRegD, 1);
  BOOST_TEST(!rtc.nmi_disabled());
}

BOOST_AUTO_TEST_CASE(cmos_ram) {
  set(0x40, 0xa5);
  BOOST_TEST(reg(0x40) == 0xa5);
  set(Mc146818Rtc::kRegD, 0x00);  // read-only
  BOOST_TEST(reg(Mc146818Rtc::kRegD) == 0x80);
}

BOOST_AUTO_TEST_CASE(memory_size_bytes) {
  rtc.set_memory_size(128ull << 20, 0);
  BOOST_TEST(reg(0x15) == 0x80);  // 640 KiB
  BOOST_TEST(reg(0x16) == 0x02);
  BOOST_TEST(reg(0x17) == 0xff);  // extended memory, clipped at 65535 KiB
  BOOST_TEST(reg(0x18) == 0xff);
  BOOST_TEST(reg(0x30) == 0xff);
  BOOST_TEST(reg(0x31) == 0xff);
  BOOST_TEST(reg(0x34) == 0x00);  // (128 - 16) MiB in 64 KiB units = 0x700
  BOOST_TEST(reg(0x35) == 0x07);
  BOOST_TEST(reg(0x5b) == 0x00);
  unsigned sum = 0;
  for (uint8_t i = 0x10; i <= 0x2d; ++i) sum += reg(i);
  BOOST_TEST(sum == (reg(0x2e) << 8 | reg(0x2f)));

  rtc.set_memory_size(32ull << 20, 0);
  BOOST_TEST((reg(0x17) | reg(0x18) << 8) == 31 * 1024);
  BOOST_TEST((reg(0x34) | reg(0x35) << 8) == 256);

  rtc.set_memory_size(0xe0000000, 3ull << 29);  // 5 GiB: 1.5 GiB above 4 GiB
  BOOST_TEST((reg(0x34) | reg(0x35) << 8) == 0xdf00);
  BOOST_TEST((reg(0x5b) | reg(0x5c) << 8 | reg(0x5d) << 16) == 0x6000);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(rtc_rollover, MillenniumFixture)

BOOST_AUTO_TEST_CASE(noon_and_century) {
  set(Mc146818Rtc::kRegB, 0x00);  // 12-hour BCD
  BOOST_TEST(reg(Mc146818Rtc::kHours) == 0x11);  // 11 AM
  time.advance(kNs);
  BOOST_TEST(reg(Mc146818Rtc::kHours) == (0x80 | 0x12));  // 12 PM
  set(Mc146818Rtc::kRegB, 0x02);
  time.advance(12 * 3600 * kNs);
  BOOST_TEST(reg(Mc146818Rtc::kYear) == 0x00);
  BOOST_TEST(reg(Mc146818Rtc::kCentury) == 0x20);
  BOOST_TEST(reg(Mc146818Rtc::kMonth) == 0x01);
  BOOST_TEST(reg(Mc146818Rtc::kDayOfMonth) == 0x01);
}

BOOST_AUTO_TEST_SUITE_END()
