// The HPET on a virtual clock the test advances: capabilities, the main
// counter at 100 MHz and halting it, one-shot and periodic comparators to the
// nanosecond (64- and 32-bit), level interrupts held until their status bit
// is cleared, routing through INT_ROUTE_CNF, legacy replacement taking IRQs 0
// and 8 over from the PIT and RTC, and a checkpoint taken with a timer armed.
#define BOOST_TEST_MODULE hw_hpet
#include <boost/test/unit_test.hpp>

#include <utility>
#include <vector>

#include "hw/hpet.h"
#include "tests/unit/test_hw_fakes.h"

using namespace rwd;
using hw::Hpet;

namespace {

struct Rig {
  uint32_t rd(uint64_t offset) { return uint32_t(hpet.read(offset, 4)); }
  uint64_t rd64(uint64_t offset) { return rd(offset) | uint64_t(rd(offset + 4)) << 32; }
  void wr(uint64_t offset, uint32_t value) { hpet.write(offset, value, 4); }
  void wr64(uint64_t offset, uint64_t value) {
    wr(offset, uint32_t(value));
    wr(offset + 4, uint32_t(value >> 32));
  }
  bool gsi(unsigned n) { return sink.level(n); }
  unsigned edges(unsigned n) { return sink.rising_edges(n); }

  hw::test::TestClock time;
  hw::test::FakeIrqSink sink;  // pin = GSI
  Hpet hpet{time.clock, time.timers, [this](unsigned gsi, bool level) { sink.set_irq(gsi, level); }};
};

constexpr uint64_t kConf = 0x10, kStatus = 0x20, kCounter = 0xf0;
constexpr uint64_t timer_conf(unsigned n) { return 0x100 + 0x20 * n; }
constexpr uint64_t timer_cmp(unsigned n) { return 0x108 + 0x20 * n; }

}  // namespace

BOOST_AUTO_TEST_CASE(capabilities_and_the_main_counter) {
  Rig r;
  BOOST_TEST(r.rd64(0) == 0x00989680'8086a201ull);  // 10^7 fs = 10 ns, 8086, legacy, 64-bit, 3 timers
  BOOST_TEST(r.rd64(timer_conf(0)) == 0x00ff0104'00000030ull);  // route cap, 64-bit, periodic capable
  r.time.advance(1000);
  BOOST_TEST(r.rd64(kCounter) == 0u);  // halted after reset
  r.wr(kConf, 1);
  r.time.advance(1234);
  BOOST_TEST(r.rd64(kCounter) == 123u);
  r.wr(kConf, 0);
  r.time.advance(5000);
  BOOST_TEST(r.rd64(kCounter) == 123u);  // halted again
  r.wr64(kCounter, 1'000'000);           // writable while halted
  r.wr(kConf, 1);
  r.time.advance(100);
  BOOST_TEST(r.rd64(kCounter) == 1'000'010u);
  r.wr64(kCounter, 5);                   // ignored while running
  BOOST_TEST(r.rd64(kCounter) == 1'000'010u);
}

BOOST_AUTO_TEST_CASE(one_shot_and_periodic_to_the_nanosecond) {
  Rig r;
  r.wr(timer_conf(2), (16u << 9) | 0x4);  // GSI 16, edge, enabled
  r.wr64(timer_cmp(2), 500);
  r.wr(kConf, 1);
  r.time.advance_to(4999);
  BOOST_TEST(r.edges(16) == 0u);
  r.time.advance_to(5000);
  BOOST_TEST(r.edges(16) == 1u);
  r.time.advance(1'000'000);
  BOOST_TEST(r.edges(16) == 1u);  // once

  // Periodic: VAL_SET then the first comparator, then the period.
  uint64_t c = r.rd64(kCounter);
  r.wr(timer_conf(2), (16u << 9) | 0x4 | 0x8 | 0x40);
  r.wr64(timer_cmp(2), c + 100);
  r.wr64(timer_cmp(2), 250);
  BOOST_TEST(r.rd64(timer_cmp(2)) == c + 100);
  uint64_t start = r.time.now() - (r.time.now() % 10);
  for (unsigned i = 0; i < 3; ++i) {
    uint64_t due = start + (100 + 250 * i) * 10;
    r.time.advance_to(due - 1);
    BOOST_TEST(r.edges(16) == 1u + i);
    r.time.advance_to(due);
    BOOST_TEST(r.edges(16) == 2u + i);
  }
  BOOST_TEST(r.rd64(timer_cmp(2)) == c + 100 + 3 * 250);

  // 32-bit mode: the comparator is 32 bits and matches the counter's low half.
  r.wr(kConf, 0);
  r.wr64(kCounter, 0xffff'fff0ull);
  r.wr(timer_conf(2), (16u << 9) | 0x4 | 0x100);
  r.wr64(timer_cmp(2), 0x1'0000'0010ull);  // upper half dropped: 0x10
  BOOST_TEST(r.rd64(timer_cmp(2)) == 0x10u);
  uint64_t t0 = r.time.now();
  r.wr(kConf, 1);
  unsigned before = r.edges(16);
  r.time.advance_to(t0 + 0x20 * 10 - 1);
  BOOST_TEST(r.edges(16) == before);
  r.time.advance_to(t0 + 0x20 * 10);
  BOOST_TEST(r.edges(16) == before + 1);
}

BOOST_AUTO_TEST_CASE(level_interrupts_hold_until_the_status_is_cleared) {
  Rig r;
  r.wr(timer_conf(1), (20u << 9) | 0x4 | 0x2);  // GSI 20, level
  r.wr64(timer_cmp(1), 10);
  r.wr(kConf, 1);
  r.time.advance(100);
  BOOST_TEST(r.gsi(20));
  BOOST_TEST(r.rd(kStatus) == 2u);
  r.wr(kStatus, 1);  // another timer's bit: nothing
  BOOST_TEST(r.gsi(20));
  r.wr(kStatus, 2);
  BOOST_TEST(!r.gsi(20));
  BOOST_TEST(r.rd(kStatus) == 0u);
  // A route the capability does not offer (GSI 5) is not taken.
  r.wr(timer_conf(1), (5u << 9) | 0x4 | 0x2);
  BOOST_TEST(((r.rd(timer_conf(1)) >> 9) & 0x1f) == 20u);
}

BOOST_AUTO_TEST_CASE(legacy_replacement_takes_irq0_and_irq8) {
  Rig r;
  r.hpet.set_irq(Hpet::kPitInput, true);  // the PIT's output passes through
  BOOST_TEST(r.gsi(0));
  r.hpet.set_irq(Hpet::kRtcInput, true);
  BOOST_TEST(r.gsi(8));
  r.wr(timer_conf(0), 0x4);
  r.wr64(timer_cmp(0), 50);
  r.wr(kConf, 3);  // enabled, legacy routing
  BOOST_TEST(!r.gsi(0));  // the PIT and RTC are cut off
  BOOST_TEST(!r.gsi(8));
  r.hpet.set_irq(Hpet::kPitInput, false);
  r.hpet.set_irq(Hpet::kPitInput, true);
  BOOST_TEST(!r.gsi(0));
  unsigned before = r.edges(0);
  r.time.advance(500);
  BOOST_TEST(r.edges(0) == before + 1);  // timer 0 on IRQ 0
  r.wr(kConf, 1);  // legacy off: the PIT and RTC levels come back
  BOOST_TEST(r.gsi(0));
  BOOST_TEST(r.gsi(8));
}

BOOST_AUTO_TEST_CASE(a_checkpoint_keeps_an_armed_comparator) {
  Rig original;
  // Periodic in 32-bit mode, as Linux programs it (the comparator's upper
  // half is all ones after reset, and VAL_SET holds for one write).
  original.wr(timer_conf(2), (17u << 9) | 0x4 | 0x8 | 0x40 | 0x100);
  original.wr(timer_cmp(2), 300);
  original.wr(timer_cmp(2), 300);
  original.wr(kConf, 1);
  original.time.advance(4321);
  core::StateWriter out;
  original.hpet.save_state(out);

  Rig restored;
  restored.time.icount = original.time.icount;
  core::StateReader in(out.data().data(), out.data().size(), "hpet");
  restored.hpet.load_state(in);
  in.expect_end();
  for (Rig* r : {&original, &restored}) {
    BOOST_TEST(r->rd64(kCounter) == 432u);
    BOOST_TEST(r->time.timers.next_deadline_ns() == 6000u);
    r->time.advance_to(6000);
    BOOST_TEST(r->rd64(timer_cmp(2)) == 900u);
  }
  BOOST_TEST(restored.edges(17) == 1u);
}
