// Local APICs and the I/O APIC on a virtual clock the test advances: register
// behaviour in xAPIC and x2APIC mode, the SDM's priority rules, the timer's
// three modes to the nanosecond, IPIs between two APICs, the 8259 path
// through LINT0, the I/O APIC's edge and level pins with remote IRR, and a
// checkpoint taken with a timer running.
#define BOOST_TEST_MODULE hw_apic
#include <boost/test/unit_test.hpp>

#include <memory>
#include <vector>

#include "core/run_control.h"
#include "core/x86_cpu_state.h"
#include "hw/ioapic.h"
#include "hw/local_apic.h"
#include "tests/unit/test_hw_fakes.h"

using namespace rwd;
using hw::ApicBus;
using hw::IoApic;
using hw::LocalApic;

namespace {

class FakePic : public core::InterruptController {
 public:
  uint8_t acknowledge() override {
    ++acks;
    return 0x68;
  }
  unsigned acks = 0;
};

struct Cpu {
  core::X86CpuState state = core::reset_cpu_state();
  hw::test::FakeIrqSink pins;  // INTR and NMI
};

struct Rig {
  explicit Rig(unsigned cpus = 1) {
    for (unsigned i = 0; i < cpus; ++i) {
      cpu.push_back(std::make_unique<Cpu>());
      Cpu* c = cpu.back().get();
      if (i) c->state.apic_base &= ~core::apic_base::kBsp;
      apic.push_back(std::make_unique<LocalApic>(
          i, time.clock, time.timers, run_control, bus, [c]() -> const core::X86CpuState& { return c->state; },
          [c] { return c->state.tsc(); }, &pic, c->pins));
      bus.attach(apic.back().get());
    }
    bus.set_startup_handler([this](unsigned index, bool init, uint8_t vector) {
      startups.push_back({index, init, vector});
    });
  }
  LocalApic& a(unsigned i = 0) { return *apic[i]; }
  bool intr(unsigned i = 0) { return cpu[i]->pins.level(core::kCpuPinIntr); }
  void enable(unsigned i = 0) { a(i).mmio_write(0xf0, 0x1ff); }  // SVR: enabled, spurious 0xff
  void fixed(unsigned dest, uint8_t vector, bool level = false) {
    hw::ApicMessage m;
    m.destination = dest;
    m.vector = vector;
    m.level_triggered = level;
    bus.deliver(m);
  }

  struct Startup {
    unsigned index;
    bool init;
    uint8_t vector;
  };
  hw::test::TestClock time;
  core::RunControl run_control;
  ApicBus bus;
  FakePic pic;
  std::vector<std::unique_ptr<Cpu>> cpu;
  std::vector<std::unique_ptr<LocalApic>> apic;
  std::vector<Startup> startups;
};

}  // namespace

BOOST_AUTO_TEST_CASE(xapic_registers_after_reset) {
  Rig r(2);
  BOOST_TEST(r.a(0).mmio_read(0x20) == 0u);           // ID 0 in bits 31:24
  BOOST_TEST(r.a(1).mmio_read(0x20) == 1u << 24);
  BOOST_TEST(r.a(0).mmio_read(0x30) == 0x00050014u);  // version: 6 LVTs
  BOOST_TEST(r.a(0).mmio_read(0xf0) == 0xffu);        // SVR: software-disabled
  BOOST_TEST(r.a(0).mmio_read(0xe0) == 0xffffffffu);  // DFR: flat
  BOOST_TEST(r.a(0).mmio_read(0x350) == 0x700u);      // BSP LINT0: ExtINT, unmasked
  BOOST_TEST(r.a(1).mmio_read(0x350) == 0x10000u);    // AP LINT0: masked
  for (uint32_t lvt : {0x320u, 0x330u, 0x340u, 0x360u, 0x370u}) BOOST_TEST(r.a(0).mmio_read(lvt) == 0x10000u);
  // While software-disabled, LVT writes stay masked.
  r.a(0).mmio_write(0x320, 0x40);
  BOOST_TEST(r.a(0).mmio_read(0x320) == 0x10040u);
  r.enable();
  r.a(0).mmio_write(0x320, 0x40);
  BOOST_TEST(r.a(0).mmio_read(0x320) == 0x40u);
  // A reserved register: the read gives 0 and ESR latches "illegal register
  // address" at the next ESR write.
  BOOST_TEST(r.a(0).mmio_read(0x2f0) == 0u);
  BOOST_TEST(r.a(0).mmio_read(0x280) == 0u);
  r.a(0).mmio_write(0x280, 0);
  BOOST_TEST(r.a(0).mmio_read(0x280) == 0x80u);
}

BOOST_AUTO_TEST_CASE(priority_tpr_ppr_and_eoi) {
  Rig r;
  r.enable();
  r.fixed(0, 0x31);
  r.fixed(0, 0x52);
  r.fixed(0, 0x41);
  BOOST_TEST(r.intr());
  BOOST_TEST(r.a().acknowledge() == 0x52);
  BOOST_TEST(r.a().mmio_read(0xa0) == 0x50u);  // PPR: the in-service class
  BOOST_TEST(!r.intr());                       // 0x41 and 0x31 wait below class 5
  BOOST_TEST(r.a().mmio_read(0x100 + 0x10 * (0x52 / 32)) == 1u << (0x52 % 32));  // ISR
  r.a().mmio_write(0xb0, 0);                   // EOI
  BOOST_TEST(r.intr());
  r.a().mmio_write(0x80, 0x40);                // TPR class 4 blocks 0x41
  BOOST_TEST(!r.intr());
  BOOST_TEST(r.a().mmio_read(0xa0) == 0x40u);
  r.a().set_cr8(3);                            // CR8 is TPR[7:4]
  BOOST_TEST(r.a().mmio_read(0x80) == 0x30u);
  BOOST_TEST(r.a().cr8() == 3u);
  BOOST_TEST(r.intr());
  BOOST_TEST(r.a().acknowledge() == 0x41);
  BOOST_TEST(r.a().acknowledge() == 0xff);     // nothing above PPR: the spurious vector
  // A vector below 16 is refused with "receive illegal vector".
  r.fixed(0, 0x0e);
  r.a().mmio_write(0x280, 0);
  BOOST_TEST(r.a().mmio_read(0x280) == 0x40u);
}

BOOST_AUTO_TEST_CASE(lint0_extint_hands_inta_to_the_8259) {
  Rig r;
  r.a().set_irq(LocalApic::kLint0, true);
  BOOST_TEST(r.intr());  // even software-disabled, as after reset
  BOOST_TEST(r.a().acknowledge() == 0x68);
  BOOST_TEST(r.pic.acks == 1u);
  r.enable();
  r.a().mmio_write(0x350, 0x10700);  // LINT0 masked: the 8259 is cut off
  BOOST_TEST(!r.intr());
  // With the APIC globally disabled the 8259 reaches INTR again.
  uint64_t old = r.cpu[0]->state.apic_base;
  r.cpu[0]->state.apic_base &= ~core::apic_base::kEnable;
  r.a().apic_base_changed(old);
  BOOST_TEST(r.intr());
}

BOOST_AUTO_TEST_CASE(timer_one_shot_and_periodic_to_the_nanosecond) {
  Rig r;
  r.enable();
  r.a().mmio_write(0x3e0, 0xb);  // divide by 1
  r.a().mmio_write(0x320, 0x40);
  r.time.advance(100);
  r.a().mmio_write(0x380, 1000);  // loaded at 100 ns
  r.time.advance(400);
  BOOST_TEST(r.a().mmio_read(0x390) == 600u);
  r.time.advance_to(1099);
  BOOST_TEST(!r.intr());
  r.time.advance_to(1100);
  BOOST_TEST(r.intr());
  BOOST_TEST(r.a().acknowledge() == 0x40);
  r.a().mmio_write(0xb0, 0);
  BOOST_TEST(r.a().mmio_read(0x390) == 0u);
  r.time.advance(100000);
  BOOST_TEST(!r.intr());  // one shot only

  // Periodic, divide by 16 (DCR 0x3): a period of 16 * 500 ns.
  r.a().mmio_write(0x3e0, 0x3);
  r.a().mmio_write(0x320, 0x20041);
  uint64_t start = r.time.now();
  r.a().mmio_write(0x380, 500);
  for (int i = 1; i <= 3; ++i) {
    r.time.advance_to(start + i * 8000 - 1);
    BOOST_TEST(!r.intr());
    r.time.advance_to(start + i * 8000);
    BOOST_TEST(r.intr());
    BOOST_TEST(r.a().acknowledge() == 0x41);
    r.a().mmio_write(0xb0, 0);
  }
  r.time.advance(16 * 100);
  BOOST_TEST(r.a().mmio_read(0x390) == 400u);
  // Masked: the timer goes on counting but raises nothing.
  r.a().mmio_write(0x320, 0x30041);
  r.time.advance(8000);
  BOOST_TEST(!r.intr());
}

BOOST_AUTO_TEST_CASE(timer_tsc_deadline) {
  Rig r;
  r.enable();
  uint64_t v = 0;
  BOOST_TEST(r.a().write_msr(core::msr::kTscDeadline, 5000));  // one-shot mode: ignored
  BOOST_TEST(r.a().read_msr(core::msr::kTscDeadline, v));
  BOOST_TEST(v == 0u);
  r.a().mmio_write(0x320, 0x40042);  // TSC-deadline mode
  r.cpu[0]->state.tsc_offset = 1'000'000;  // TSC = virtual ns + offset
  r.cpu[0]->state.icount = r.time.icount;
  BOOST_TEST(r.a().write_msr(core::msr::kTscDeadline, 1'000'000 + 3000));
  BOOST_TEST(r.a().read_msr(core::msr::kTscDeadline, v));
  BOOST_TEST(v == 1'003'000u);
  r.time.advance_to(2999);
  BOOST_TEST(!r.intr());
  r.time.advance_to(3000);
  BOOST_TEST(r.intr());
  BOOST_TEST(r.a().read_msr(core::msr::kTscDeadline, v));
  BOOST_TEST(v == 0u);  // disarmed once it fires
  BOOST_TEST(r.a().acknowledge() == 0x42);
  // Leaving TSC-deadline mode disarms a pending deadline.
  r.cpu[0]->state.icount = r.time.icount;
  r.a().write_msr(core::msr::kTscDeadline, r.cpu[0]->state.tsc() + 100);
  r.a().mmio_write(0x320, 0x42);
  r.time.advance(1000);
  BOOST_TEST(!r.intr());
}

BOOST_AUTO_TEST_CASE(x2apic_mode_through_msrs) {
  Rig r(2);
  uint64_t v = 0;
  BOOST_TEST(!r.a().read_msr(0x802, v));  // xAPIC mode: the x2APIC MSRs #GP
  uint64_t old = r.cpu[0]->state.apic_base;
  r.cpu[0]->state.apic_base |= core::apic_base::kExtd;
  r.a().apic_base_changed(old);
  BOOST_TEST(r.a().mmio_read(0x20) == 0xffffffffu);  // the MMIO window is off
  BOOST_TEST(r.a().read_msr(0x802, v));
  BOOST_TEST(v == 0u);                               // 32-bit ID
  BOOST_TEST(r.a().read_msr(0x80d, v));
  BOOST_TEST(v == 1u);                               // LDR: cluster 0, bit 0
  BOOST_TEST(!r.a().write_msr(0x80d, 0));            // read-only
  BOOST_TEST(!r.a().read_msr(0x80e, v));             // no DFR
  BOOST_TEST(!r.a().read_msr(0x831, v));             // no ICR high half
  BOOST_TEST(!r.a().write_msr(0x80b, 1));            // EOI takes 0 only
  BOOST_TEST(r.a().write_msr(0x80f, 0x1ff));
  BOOST_TEST(r.a().write_msr(0x83f, 0x77));          // SELF IPI
  BOOST_TEST(r.intr());
  BOOST_TEST(r.a().acknowledge() == 0x77);
  BOOST_TEST(r.a().write_msr(0x80b, 0));
  // ICR: a fixed IPI to APIC ID 1 (destination in bits 63:32).
  r.enable(1);
  BOOST_TEST(r.a().write_msr(0x830, (uint64_t(1) << 32) | 0x55));
  BOOST_TEST(r.intr(1));
  BOOST_TEST(r.a(1).acknowledge() == 0x55);
}

BOOST_AUTO_TEST_CASE(ipis_between_two_apics) {
  Rig r(2);
  r.enable(0);
  r.enable(1);
  auto icr = [&](unsigned from, uint32_t high, uint32_t low) {
    r.a(from).mmio_write(0x310, high);
    r.a(from).mmio_write(0x300, low);
  };
  icr(0, 1u << 24, 0x61);  // physical, to ID 1
  BOOST_TEST(r.intr(1));
  BOOST_TEST(!r.intr(0));
  BOOST_TEST(r.a(1).acknowledge() == 0x61);
  r.a(1).mmio_write(0xb0, 0);
  // Logical flat: LDR bits 31:24; destination 0x2 names APIC 1 only.
  r.a(0).mmio_write(0xd0, 0x01000000);
  r.a(1).mmio_write(0xd0, 0x02000000);
  icr(0, 0x02u << 24, 0x800 | 0x62);
  BOOST_TEST(r.a(1).acknowledge() == 0x62);
  r.a(1).mmio_write(0xb0, 0);
  BOOST_TEST(!r.intr(0));
  // All excluding self.
  icr(1, 0, (3u << 18) | 0x63);
  BOOST_TEST(r.intr(0));
  BOOST_TEST(r.a(0).acknowledge() == 0x63);
  r.a(0).mmio_write(0xb0, 0);
  BOOST_TEST(!r.intr(1));
  // NMI to APIC 0.
  icr(1, 0, 0x400);
  BOOST_TEST(r.cpu[0]->pins.rising_edges(core::kCpuPinNmi) == 1u);
  // INIT (assert), the INIT level de-assert (ignored), then SIPI vector 0x9a.
  icr(0, 1u << 24, 0x4500);
  icr(0, 1u << 24, 0x8500);
  icr(0, 1u << 24, 0x069a);
  BOOST_REQUIRE(r.startups.size() == 2u);
  BOOST_TEST(r.startups[0].index == 1u);
  BOOST_TEST(r.startups[0].init);
  BOOST_TEST(!r.startups[1].init);
  BOOST_TEST(r.startups[1].vector == 0x9a);
  // Lowest priority to both: the APIC with the lower TPR takes it.
  r.a(0).mmio_write(0x80, 0x20);
  icr(1, 0x03u << 24, 0x900 | 0x64);
  BOOST_TEST(r.intr(1));
  BOOST_TEST(!r.intr(0));
}

BOOST_AUTO_TEST_CASE(ioapic_edge_and_level_pins) {
  Rig r;
  r.enable();
  IoApic io(r.bus);
  auto reg = [&](uint8_t index) {
    io.write(0x00, index, 4);
    return uint32_t(io.read(0x10, 4));
  };
  auto set = [&](uint8_t index, uint32_t value) {
    io.write(0x00, index, 4);
    io.write(0x10, value, 4);
  };
  BOOST_TEST(reg(0x01) == 0x00170020u);  // 24 pins, version 0x20
  BOOST_TEST(reg(0x10 + 2 * 5) == 0x10000u);  // masked after reset
  // Pin 2, edge, vector 0x30, physical destination 0.
  set(0x10 + 2 * 2, 0x30);
  set(0x11 + 2 * 2, 0);
  io.set_irq(2, true);
  BOOST_TEST(r.intr());
  BOOST_TEST(r.a().acknowledge() == 0x30);
  r.a().mmio_write(0xb0, 0);
  io.set_irq(2, true);  // no new edge
  BOOST_TEST(!r.intr());
  io.set_irq(2, false);
  // Pin 9, level: remote IRR until the EOI, then again while still asserted.
  set(0x10 + 2 * 9, 0x8000 | 0x39);
  io.set_irq(9, true);
  BOOST_TEST((reg(0x10 + 2 * 9) & 0x4000) != 0u);
  BOOST_TEST(r.a().acknowledge() == 0x39);
  BOOST_TEST(!r.intr());
  r.a().mmio_write(0xb0, 0);  // TMR set: the EOI reaches the I/O APIC
  BOOST_TEST(r.intr());       // still asserted: sent again
  BOOST_TEST(r.a().acknowledge() == 0x39);
  io.set_irq(9, false);
  r.a().mmio_write(0xb0, 0);
  BOOST_TEST((reg(0x10 + 2 * 9) & 0x4000) == 0u);
  BOOST_TEST(!r.intr());
  // Masked pins send nothing; unmasking an asserted level pin sends.
  set(0x10 + 2 * 10, 0x18000 | 0x3a);
  io.set_irq(10, true);
  BOOST_TEST(!r.intr());
  set(0x10 + 2 * 10, 0x8000 | 0x3a);
  BOOST_TEST(r.intr());
}

BOOST_AUTO_TEST_CASE(a_checkpoint_keeps_a_running_timer_and_pending_vectors) {
  Rig original;
  original.enable();
  original.a().mmio_write(0x3e0, 0xb);
  original.a().mmio_write(0x320, 0x20045);
  original.a().mmio_write(0x380, 700);
  original.fixed(0, 0x90);
  original.time.advance(1234);
  core::StateWriter out;
  original.a().save_state(out);

  Rig restored;
  restored.time.icount = original.time.icount;
  core::StateReader in(out.data().data(), out.data().size(), "lapic@0");
  restored.a().load_state(in);
  in.expect_end();
  for (Rig* rig : {&original, &restored}) {
    BOOST_TEST(rig->a().mmio_read(0x390) == 700u - 1234u % 700u);
    BOOST_TEST(rig->a().mmio_read(0x200 + 0x10 * (0x90 / 32)) == 1u << (0x90 % 32));  // IRR
    BOOST_TEST(rig->time.timers.next_deadline_ns() == 1400u);
  }
  // A state for another vCPU's APIC is refused.
  Rig two(2);
  core::StateReader wrong(out.data().data(), out.data().size(), "lapic@1");
  BOOST_CHECK_THROW(two.a(1).load_state(wrong), core::SnapshotError);
}
