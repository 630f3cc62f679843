// The ACPI PM block on a virtual clock the test advances: the PM timer's rate
// and width, TMR_STS at each toggle of its bit 23, write-1-to-clear status,
// the SCI from TMR_EN at the toggle's instant (also after a snapshot), and
// power-off through SLP_EN with the DSDT's S5 type.
#define BOOST_TEST_MODULE hw_acpi_pm
#include <boost/test/unit_test.hpp>

#include "core/memory.h"
#include "core/run_control.h"
#include "hw/acpi_pm.h"
#include "tests/unit/test_hw_fakes.h"

using namespace rwd;
using hw::AcpiPm;

namespace {

constexpr uint64_t kNs = 1'000'000'000;
// The first instant the 3.579545 MHz timer shows `ticks`.
uint64_t ns_of_tick(uint64_t ticks) { return (ticks * kNs + AcpiPm::kTimerHz - 1) / AcpiPm::kTimerHz; }

struct Fixture {
  Fixture() {
    core::AccessRules rules;
    rules.impl_max = 1;  // the board's ISA bridge splits wider accesses into bytes
    io.add_io("acpi-pm", AcpiPm::kBase, AcpiPm::kSize, &pm, rules);
  }
  uint32_t in(uint16_t port, unsigned size) { return static_cast<uint32_t>(io.read(port, size)); }
  void out(uint16_t port, uint32_t value, unsigned size) { io.write(port, value, size); }

  hw::test::TestClock time;
  hw::test::FakeIrqSink sink;
  core::RunControl run_control;
  AcpiPm pm{time.clock, time.timers, run_control, core::IrqLine(&sink, AcpiPm::kSciIrq)};
  core::AddressSpace io{"io", 0x10000};
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(acpi_pm, Fixture)

BOOST_AUTO_TEST_CASE(the_pm_timer_counts_3579545_per_second_in_24_bits) {
  BOOST_TEST(in(0x608, 4) == 0u);
  time.advance_to(kNs);
  BOOST_TEST(in(0x608, 4) == 3579545u);
  time.advance_to(ns_of_tick(0x1000000) - 1);
  BOOST_TEST(in(0x608, 4) == 0xffffffu);
  time.advance_to(ns_of_tick(0x1000000));
  BOOST_TEST(in(0x608, 4) == 0u);  // wrapped
  BOOST_TEST(in(0x60b, 1) == 0u);
}

BOOST_AUTO_TEST_CASE(tmr_sts_sets_at_each_toggle_of_bit_23_and_clears_by_writing_one) {
  time.advance_to(ns_of_tick(0x800000) - 1);
  BOOST_TEST((in(0x600, 2) & AcpiPm::kTmr) == 0u);
  time.advance_to(ns_of_tick(0x800000));
  BOOST_TEST((in(0x600, 2) & AcpiPm::kTmr) != 0u);
  out(0x600, 0x0100, 2);  // another bit: TMR_STS stays
  BOOST_TEST((in(0x600, 2) & AcpiPm::kTmr) != 0u);
  out(0x600, AcpiPm::kTmr, 2);
  BOOST_TEST(in(0x600, 2) == 0u);
  time.advance_to(ns_of_tick(0x1000000));  // the next toggle (1 -> 0)
  BOOST_TEST(in(0x600, 2) == AcpiPm::kTmr);
}

BOOST_AUTO_TEST_CASE(tmr_en_raises_the_sci_at_the_toggle_and_a_snapshot_keeps_the_deadline) {
  out(0x602, AcpiPm::kTmr, 2);
  BOOST_TEST(in(0x602, 2) == AcpiPm::kTmr);
  time.advance_to(ns_of_tick(0x800000) - 1);
  BOOST_TEST(!sink.level(AcpiPm::kSciIrq));

  // A copy restored from a snapshot taken now fires at the same instant.
  core::StateWriter out_state;
  pm.save_state(out_state);
  hw::test::TestClock time2;
  time2.icount = time.icount;
  hw::test::FakeIrqSink sink2;
  core::RunControl run_control2;
  AcpiPm copy{time2.clock, time2.timers, run_control2, core::IrqLine(&sink2, AcpiPm::kSciIrq)};
  std::vector<uint8_t> bytes = out_state.take();
  core::StateReader in_state(bytes.data(), bytes.size(), "acpi-pm");
  copy.load_state(in_state);
  in_state.expect_end();
  BOOST_TEST(!sink2.level(AcpiPm::kSciIrq));  // loading does not drive the line

  time.advance_to(ns_of_tick(0x800000));
  time2.advance_to(ns_of_tick(0x800000));
  BOOST_TEST(sink.level(AcpiPm::kSciIrq));
  BOOST_TEST(sink2.level(AcpiPm::kSciIrq));
  out(0x600, AcpiPm::kTmr, 2);  // the handler acknowledges
  BOOST_TEST(!sink.level(AcpiPm::kSciIrq));
  out(0x602, 0, 2);
  time.advance_to(ns_of_tick(0x1000000));
  BOOST_TEST(!sink.level(AcpiPm::kSciIrq));  // disabled: the status sets, the SCI stays low
  BOOST_TEST(in(0x600, 2) == AcpiPm::kTmr);
}

BOOST_AUTO_TEST_CASE(slp_en_with_the_s5_type_powers_off_with_status_0) {
  BOOST_TEST(in(0x604, 2) == AcpiPm::kSciEn);  // always in ACPI mode
  out(0x604, 5u << 10, 2);                      // SLP_TYP alone: nothing yet
  BOOST_TEST(!run_control.stop_requested());
  out(0x604, (1u << 10) | AcpiPm::kSlpEn, 2);  // S1 is not offered: nothing
  BOOST_TEST(!run_control.stop_requested());
  out(0x605, 0x34, 1);                          // SLP_EN | SLP_TYP 5, as a byte
  BOOST_TEST(run_control.reason() == core::StopReason::kGuestExit);
  BOOST_TEST(run_control.exit_status() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
