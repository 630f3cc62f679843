// Checkpoint state of the PC devices. Each test drives a device (or a whole
// board) into a busy state through its ports, saves it, loads the state into a
// second one built from scratch, then drives both the same way and requires
// every observable to match: port reads, IRQ line changes with their virtual
// times, and timer deadlines. A restore must not signal any IRQ line, and
// malformed state must be refused with a SnapshotError naming the device.
#define BOOST_TEST_MODULE hw_snapshot
#include <boost/test/unit_test.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/machine.h"
#include "core/memory.h"
#include "hw/pc_board.h"
#include "tests/unit/test_hw_fakes.h"

using namespace rwd;
using boost::test_tools::per_element;

namespace {

// Everything a test observed, in order; two runs match when these are equal.
using Trace = std::vector<uint64_t>;

// Records every set_irq call with its virtual time: comparing two of these
// compares the IRQ lines over time, and an unchanged one proves a restore
// signalled nothing.
class RecordingSink : public core::IrqSink {
 public:
  // `now_ns`: the virtual time (the tests' clocks are 1 ns per instruction).
  explicit RecordingSink(const uint64_t* now_ns) : now_ns_(now_ns) {}
  void set_irq(unsigned pin, bool level) override {
    events.insert(events.end(), {*now_ns_, pin, level ? 1u : 0u});
    levels[pin] = level;
  }
  Trace events;  // (ns, pin, level) triples
  std::map<unsigned, bool> levels;

 private:
  const uint64_t* now_ns_;
};

std::vector<uint8_t> save(const core::Snapshottable& device) {
  core::StateWriter out;
  device.save_state(out);
  return out.take();
}

void load(core::Snapshottable& device, const std::vector<uint8_t>& state, const std::string& name) {
  core::StateReader in(state.data(), state.size(), name);
  device.load_state(in);
  in.expect_end();
}

// What core::Machine restores of its own before the devices: virtual time and
// the timer queue's arm order.
void restore_time(const hw::test::TestClock& from, hw::test::TestClock& to) {
  to.icount = from.icount;
  core::StateWriter out;
  from.timers.save(out);
  core::StateReader in(out.data().data(), out.data().size(), "timers");
  to.timers.load(in);
}

// The common shape of a device rig: a clock, a recording IRQ sink, an I/O
// space whose reads land in `trace`.
struct RigBase {
  RigBase() { rules.impl_max = 1; }
  uint8_t in(uint16_t port) {
    auto value = static_cast<uint8_t>(io.read(port, 1));
    trace.push_back(value);
    return value;
  }
  void out(uint16_t port, uint8_t value) { io.write(port, value, 1); }
  // Advance virtual time, then note where it is and the next timer deadline.
  void step(uint64_t ns) {
    time.advance(ns);
    trace.push_back(time.now());
    trace.push_back(time.timers.next_deadline_ns());
  }

  hw::test::TestClock time;
  RecordingSink sink{&time.icount};
  core::AddressSpace io{"io", 0x10000};
  core::AccessRules rules;
  Trace trace;
};

// ICW1-4 as a PC kernel programs the pair: vectors 0x20 and 0x28, the slave
// on master input 2.
template <class Rig>
void init_pics(Rig& r) {
  for (uint16_t base : {0x20, 0xa0}) {
    r.out(base, 0x11);
    r.out(base + 1, base == 0x20 ? 0x20 : 0x28);
    r.out(base + 1, base == 0x20 ? 0x04 : 0x02);
    r.out(base + 1, 0x01);
  }
}

// Drives `original` with `drive`, restores its state into a fresh rig, then
// runs `forward` on both (and on a fresh rig that was not restored, which must
// differ, or the test would prove nothing).
template <class Rig>
void check_restore(const std::function<void(Rig&)>& drive, const std::function<void(Rig&)>& forward) {
  Rig original;
  drive(original);
  std::vector<uint8_t> state = save(original.device());

  Rig restored;
  Trace events_before = restored.sink.events;
  restore_time(original.time, restored.time);
  load(restored.device(), state, original.name());
  BOOST_TEST(restored.sink.events == events_before, per_element());  // no line was signalled
  BOOST_TEST(save(restored.device()) == state, per_element());
  BOOST_TEST(restored.time.timers.next_deadline_ns() == original.time.timers.next_deadline_ns());

  // The other end of each line (the PIC) restores its own view of the levels.
  restored.sink.levels = original.sink.levels;
  original.sink.events.clear();
  restored.sink.events.clear();
  original.trace.clear();
  restored.trace.clear();
  forward(original);
  forward(restored);
  BOOST_TEST(original.trace.size() > 10u);
  BOOST_TEST(restored.trace == original.trace, per_element());
  BOOST_TEST(restored.sink.events == original.sink.events, per_element());
  BOOST_TEST((restored.sink.levels == original.sink.levels));

  Rig fresh;
  restore_time(original.time, fresh.time);
  fresh.trace.clear();
  forward(fresh);
  BOOST_TEST((fresh.trace != original.trace || fresh.sink.events != original.sink.events));
}

// Loads `state` with byte `offset` replaced by `value` into a fresh rig and
// returns the SnapshotError message ("" if it loaded).
template <class Rig>
std::string load_error(std::vector<uint8_t> state, size_t offset, uint8_t value) {
  Rig rig;
  state.at(offset) = value;
  std::vector<uint8_t> before = save(rig.device());
  try {
    load(rig.device(), state, rig.name());
  } catch (const core::SnapshotError& e) {
    BOOST_TEST(save(rig.device()) == before, per_element());  // refused before anything changed
    return e.what();
  }
  return "";
}

// Every byte of a valid state replaced by awkward values: each either loads
// and the device keeps working, or is refused with a message naming it.
template <class Rig>
void sweep_corruptions(const std::vector<uint8_t>& state, const std::function<void(Rig&)>& exercise) {
  unsigned refused = 0;
  for (size_t offset = 0; offset < state.size(); ++offset) {
    for (uint8_t value : {0x00, 0x01, 0x07, 0x80, 0xff}) {
      std::vector<uint8_t> corrupt = state;
      corrupt[offset] = value;
      Rig rig;
      try {
        load(rig.device(), corrupt, rig.name());
      } catch (const core::SnapshotError& e) {
        ++refused;
        BOOST_TEST(std::string(e.what()).starts_with(std::string(rig.name()) + ": "));
        continue;
      }
      exercise(rig);
    }
  }
  BOOST_TEST(refused > 0u);
}

// 16550A UART

constexpr uint16_t kCom1 = 0x3f8;
constexpr uint16_t kRbr = kCom1, kIer = kCom1 + 1, kIir = kCom1 + 2, kLcr = kCom1 + 3, kMcr = kCom1 + 4,
                   kLsr = kCom1 + 5, kMsr = kCom1 + 6, kScr = kCom1 + 7;

struct UartRig : RigBase {
  UartRig() {
    io.add_io("com1", kCom1, 8, &uart, rules);
    inputs.attach_console(0, &uart);
  }
  core::Snapshottable& device() { return uart; }
  const char* name() const { return "com1"; }

  hw::test::FakeInputs inputs;
  hw::Uart16550 uart{"com1", time.clock, time.timers, core::IrqLine(&sink, 4), &inputs};
};

void drive_uart(UartRig& r) {
  r.out(kLcr, 0x80);
  r.out(kRbr, 0x01);  // divisor 1: 115200 baud
  r.out(kIer, 0x00);
  r.out(kLcr, 0x03);  // 8N1
  r.out(0x3fa, 0x81); // FIFO on, trigger level 8
  r.out(kMcr, 0x0b);  // DTR, RTS, OUT2
  r.out(kScr, 0x5a);
  r.out(kIer, 0x0f);  // every source: THRE pending too, below RX data
  r.inputs.type("ABCDEFGH");  // half the FIFO: at the trigger level
  r.step(10'000);             // the character timeout is armed, not yet due
}

void forward_uart(UartRig& r) {
  r.in(kIir);
  r.in(kLsr);
  for (int i = 0; i < 3; ++i) r.in(kRbr);
  r.in(kIir);  // below the trigger level: THRE now, and reading acknowledges it
  r.in(kIir);
  r.step(400'000);  // four character times pass: the timeout indication
  r.in(kIir);
  for (int i = 0; i < 16 && r.uart.rx_count() > 0; ++i) r.in(kRbr);
  r.in(kLsr);
  r.in(kMsr);
  r.inputs.type("xyz");
  r.step(1'000'000);
  r.in(kIir);
  r.in(kRbr);
  r.out(kRbr, 'k');
  r.trace.push_back(r.inputs.output.size());
  r.in(kIir);
  r.in(kScr);
  r.in(kLcr);
  r.step(1'000'000);
}

}  // namespace

BOOST_AUTO_TEST_CASE(uart_restores_fifo_and_pending_interrupt) {
  check_restore<UartRig>(drive_uart, forward_uart);
}

BOOST_AUTO_TEST_CASE(uart_refuses_bad_fifo_indexes) {
  UartRig r;
  drive_uart(r);
  std::vector<uint8_t> state = save(r.uart);
  // Layout: version (4), 7 register bytes, divisor (2), 3 flags, FIFO (16), head, count.
  BOOST_TEST(load_error<UartRig>(state, 32, 16) == "com1: corrupt state: RX FIFO head 16 is beyond the FIFO");
  BOOST_TEST(load_error<UartRig>(state, 33, 17) ==
             "com1: corrupt state: RX FIFO holds 17 bytes, more than its 16");
  sweep_corruptions<UartRig>(state, [](UartRig& rig) {
    forward_uart(rig);
    rig.inputs.type("0123456789abcdefghij");
  });
}

namespace {

// i8259 pair

struct PicRig : RigBase {
  PicRig() {
    pic.connect_output(core::IrqLine(&sink, 0));
    io.add_io("pic-master", 0x20, 2, &pic.master_ops(), rules);
    io.add_io("pic-slave", 0xa0, 2, &pic.slave_ops(), rules);
    io.add_io("pic-elcr", 0x4d0, 2, &pic.elcr_ops(), rules);
  }
  core::Snapshottable& device() { return pic; }
  const char* name() const { return "pic"; }
  // The CPU's side: INTA while INT is up, noting each vector.
  void intack() {
    trace.push_back(pic.output());
    if (pic.output()) trace.push_back(pic.acknowledge());
  }
  void note_registers() {
    for (int chip = 0; chip < 2; ++chip) {
      trace.insert(trace.end(), {pic.irr(chip), pic.isr(chip), pic.imr(chip), pic.pins(chip)});
    }
  }

  hw::I8259Pair pic;
};

void drive_pic(PicRig& r) {
  init_pics(r);
  r.out(0x4d1, 0x04);  // IRQ10 level-triggered
  r.out(0x21, 0x10);   // IRQ4 masked
  r.out(0xa1, 0x02);   // IRQ9 masked
  r.pic.set_irq(1, true);
  r.intack();  // IRQ1 in service
  r.pic.set_irq(1, false);
  r.pic.set_irq(8, true);  // pending through the cascade, below IRQ1
  r.pic.set_irq(4, true);  // pending but masked
  r.pic.set_irq(9, true);  // pending but masked, on the slave
  r.pic.set_irq(10, true);
  r.pic.set_irq(0, true);
  r.intack();  // IRQ0 nests above IRQ1
  r.pic.set_irq(0, false);
  r.out(0x20, 0x0b);  // master port 0 reads ISR
}

void forward_pic(PicRig& r) {
  for (uint16_t port : {0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1}) r.in(port);
  r.note_registers();
  r.intack();
  r.out(0x20, 0x20);  // EOI IRQ0: IRQ1 still blocks the cascade
  r.intack();
  r.out(0x20, 0x20);  // EOI IRQ1
  r.intack();         // IRQ8 through the slave
  r.note_registers();
  r.out(0xa0, 0x20);
  r.out(0x20, 0x20);
  r.intack();  // IRQ10, level
  r.out(0x21, 0x00);  // unmask IRQ4: still below the cascade in service
  r.intack();
  r.out(0xa0, 0x20);
  r.out(0x20, 0x20);
  r.intack();  // IRQ10 again: its line is still up
  r.pic.set_irq(10, false);
  r.out(0xa0, 0x20);
  r.out(0x20, 0x20);
  r.intack();  // IRQ4
  r.out(0x20, 0x64);  // specific EOI IRQ4
  r.out(0xa0, 0x0c);  // poll the slave
  r.in(0xa0);
  r.out(0xa1, 0x00);
  r.out(0xa0, 0x0c);
  r.in(0xa0);  // IRQ9 was pending behind its mask
  r.out(0x20, 0x0a);
  r.in(0x20);
  r.note_registers();
  r.intack();
}

}  // namespace

BOOST_AUTO_TEST_CASE(pic_restores_masked_in_service_and_cascaded_requests) {
  check_restore<PicRig>(drive_pic, forward_pic);
}

BOOST_AUTO_TEST_CASE(pic_refuses_impossible_values) {
  PicRig r;
  drive_pic(r);
  std::vector<uint8_t> state = save(r.pic);
  // Layout: version (4), output, then per chip irr isr imr pins elcr vector_base lowest init_step ...
  BOOST_TEST(load_error<PicRig>(state, 12, 5) == "pic: corrupt state: master initialisation step 5 does not exist");
  BOOST_TEST(load_error<PicRig>(state, 11, 8) ==
             "pic: corrupt state: master lowest-priority input 8 is not 0-7");
  sweep_corruptions<PicRig>(state, forward_pic);
}

namespace {

// i8254 PIT and port B

struct PitRig : RigBase {
  PitRig() {
    io.add_io("pit", 0x40, 4, &pit, rules);
    io.add_io("port-b", 0x61, 1, &pit.port_b_ops(), rules);
  }
  core::Snapshottable& device() { return pit; }
  const char* name() const { return "pit"; }
  void program(unsigned channel, uint8_t mode, uint16_t count) {
    out(0x43, static_cast<uint8_t>(channel << 6 | 0x30 | mode << 1));
    out(static_cast<uint16_t>(0x40 + channel), count & 0xff);
    out(static_cast<uint16_t>(0x40 + channel), count >> 8);
  }
  void read_latched(unsigned channel) {
    out(0x43, static_cast<uint8_t>(channel << 6));
    in(static_cast<uint16_t>(0x40 + channel));
    in(static_cast<uint16_t>(0x40 + channel));
  }

  hw::I8254Pit pit{time.clock, time.timers, core::IrqLine(&sink, 0)};
};

uint64_t ticks(uint64_t n) { return hw::I8254Pit::ticks_to_ns(n); }

void drive_pit(PitRig& r) {
  r.program(0, 2, 1000);  // rate generator: IRQ0 every 1000 ticks
  r.program(2, 3, 500);   // square wave for the speaker
  r.out(0x61, 0x03);      // channel 2 gated on, speaker data on
  r.program(1, 0, 0x4000);
  r.step(ticks(1200));
  r.out(0x61, 0x02);  // gate off: channel 2 holds, then starts over on the next rising gate
  r.step(ticks(300));
  r.out(0x61, 0x03);
  r.pit.set_gate(1, false);  // channel 1 suspended mid-count
  r.step(ticks(1000) + 357);  // mid-count of channel 0's third period
  r.out(0x43, 0x40);
  r.in(0x41);         // half of a latched count read: the high byte is still owed
  r.in(0x40);         // half of an unlatched read: the flip-flop points at the high byte
  r.out(0x43, 0xe8);  // read-back: status of channel 2
}

void forward_pit(PitRig& r) {
  r.in(0x40);
  r.in(0x41);
  r.in(0x42);  // the status
  r.in(0x42);
  r.in(0x42);
  r.in(0x61);
  for (int i = 0; i < 12; ++i) {
    r.step(97'000);
    r.in(0x61);
    r.read_latched(0);
    r.read_latched(2);
  }
  r.pit.set_gate(1, true);
  r.read_latched(1);
  r.out(0x61, 0x00);
  r.step(50'000);
  r.in(0x61);
  r.read_latched(2);
  r.program(0, 2, 100);
  r.step(1'000'000);
  r.read_latched(0);
  r.trace.push_back(r.pit.irq0_level());
}

}  // namespace

BOOST_AUTO_TEST_CASE(pit_restores_counting_channels_latches_and_port_b) {
  check_restore<PitRig>(drive_pit, forward_pit);
}

BOOST_AUTO_TEST_CASE(pit_refuses_bad_mode_and_count) {
  PitRig r;
  drive_pit(r);
  std::vector<uint8_t> state = save(r.pit);
  // Layout: version (4), then channel 0: mode, access, bcd, gate, count (4 bytes) ...
  BOOST_TEST(load_error<PitRig>(state, 4, 6) == "pit: corrupt state: channel 0 mode 6 is not 0-5");
  BOOST_TEST(load_error<PitRig>(state, 5, 0) == "pit: corrupt state: channel 0 access mode 0 is not 1-3");
  std::vector<uint8_t> zero_count = state;
  zero_count[8] = zero_count[9] = zero_count[10] = 0;
  BOOST_TEST(load_error<PitRig>(zero_count, 11, 0) == "pit: corrupt state: channel 0 count 0 is not 1-65536");
  sweep_corruptions<PitRig>(state, forward_pit);
}

namespace {

// MC146818 RTC

constexpr int64_t kNs = 1'000'000'000;
constexpr int64_t kWall = 1'700'000'000 * kNs;  // 2023-11-14 22:13:20 UTC

struct RtcRig : RigBase {
  explicit RtcRig(int64_t wall = kWall) : inputs(wall) { io.add_io("rtc", 0x70, 2, &rtc, rules); }
  core::Snapshottable& device() { return rtc; }
  const char* name() const { return "rtc"; }
  void set(uint8_t index, uint8_t value) {
    out(0x70, index);
    out(0x71, value);
  }
  void reg(uint8_t index) {
    out(0x70, index);
    in(0x71);
  }

  hw::test::FakeInputs inputs;
  hw::Mc146818Rtc rtc{time.clock, time.timers, core::IrqLine(&sink, 8), inputs};
};

void drive_rtc(RtcRig& r) {
  r.set(0x0a, 0x2a);  // 64 Hz periodic rate
  r.set(0x0b, 0x62);  // PIE, AIE, 24-hour BCD
  r.set(0x01, 0x22);  // alarm at second 22 of any hour and minute
  r.set(0x03, 0xc0);
  r.set(0x05, 0xc0);
  r.set(0x40, 0x5a);  // a CMOS byte
  r.reg(0x00);        // the first look at the clock reads the wall clock
  r.step(40'000'000);
  r.out(0x70, 0x8c);  // index C, NMI disabled; C not read: IRQ8 is up
}

void forward_rtc(RtcRig& r) {
  r.in(0x71);  // C: IRQF | PF
  r.in(0x71);
  for (int i = 0; i < 250; ++i) {
    r.step(10'000'000);
    if (r.rtc.irq_level()) r.reg(0x0c);
  }
  for (uint8_t index : {0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32, 0x0a, 0x0b, 0x40}) r.reg(index);
  r.trace.push_back(r.rtc.nmi_disabled());
}

}  // namespace

BOOST_AUTO_TEST_CASE(rtc_restores_periodic_alarm_cmos_and_the_clock) {
  check_restore<RtcRig>(drive_rtc, forward_rtc);
}

BOOST_AUTO_TEST_CASE(rtc_wall_clock_comes_from_the_checkpoint) {
  RtcRig original;
  drive_rtc(original);
  BOOST_TEST(original.inputs.wall_clock_reads == 1);
  RtcRig restored(0);  // a different wall clock, never to be read
  restore_time(original.time, restored.time);
  load(restored.rtc, save(original.rtc), "rtc");
  original.trace.clear();
  forward_rtc(original);
  forward_rtc(restored);
  BOOST_TEST(restored.trace == original.trace, per_element());
  BOOST_TEST(restored.inputs.wall_clock_reads == 0);
}

BOOST_AUTO_TEST_CASE(rtc_not_yet_read_reads_the_wall_clock_after_restore) {
  RtcRig original;
  original.set(0x40, 0x77);
  original.step(5'000'000);
  BOOST_TEST(original.inputs.wall_clock_reads == 0);
  RtcRig restored;
  restore_time(original.time, restored.time);
  load(restored.rtc, save(original.rtc), "rtc");
  original.trace.clear();
  restored.trace.clear();
  for (RtcRig* r : {&original, &restored}) {
    r->reg(0x40);
    r->reg(0x00);
    r->reg(0x04);
  }
  BOOST_TEST(restored.trace == original.trace, per_element());
  BOOST_TEST(restored.inputs.wall_clock_reads == 1);
}

BOOST_AUTO_TEST_CASE(rtc_refuses_index_beyond_cmos) {
  RtcRig r;
  drive_rtc(r);
  std::vector<uint8_t> state = save(r.rtc);
  // Layout: version (4), CMOS (128), index ...
  BOOST_TEST(load_error<RtcRig>(state, 132, 0x80) == "rtc: corrupt state: CMOS index 128 is beyond the 128 bytes");
  sweep_corruptions<RtcRig>(state, [](RtcRig& rig) {
    rig.reg(0x0c);
    rig.step(30'000'000);
    rig.reg(0x00);
  });
}

namespace {

// i8042 and port A

struct I8042Rig : RigBase {
  I8042Rig() {
    io.add_io("i8042-data", 0x60, 1, &kbc, rules);
    io.add_io("i8042-command", 0x64, 1, &kbc.command_ops(), rules);
    io.add_io("port-a", 0x92, 1, &kbc.port_a_ops(), rules);
  }
  core::Snapshottable& device() { return kbc; }
  const char* name() const { return "i8042"; }

  core::RunControl run_control;
  hw::I8042Controller kbc{run_control, core::IrqLine(&sink, 1), core::IrqLine(&sink, 12)};
};

void drive_i8042(I8042Rig& r) {
  r.out(0x64, 0xaa);  // self test: 0x55 waits in the output buffer, IRQ1 up
  r.out(0x60, 0xf2);  // identify: ACK, 0xab, 0x83 queue behind it
  r.out(0x64, 0xd4);
  r.out(0x60, 0xff);  // to the absent mouse: timeout, "resend" from the aux port
  r.out(0x92, 0x02);  // fast A20
  r.out(0x60, 0xf0);  // scan-code set: the keyboard waits for the argument
}

void forward_i8042(I8042Rig& r) {
  r.out(0x60, 0x00);  // "which set?": ACK and the answer, as 0xf0 is still pending
  r.out(0x64, 0x60);
  r.out(0x60, 0x47);  // command byte
  for (int i = 0; i < 9; ++i) {
    r.in(0x64);
    r.in(0x60);
  }
  r.out(0x64, 0x20);
  r.in(0x64);
  r.in(0x60);
  r.in(0x92);
  r.out(0x64, 0xd0);
  r.in(0x60);
  r.out(0x60, 0xed);  // set LEDs: the argument follows
  r.in(0x60);
  r.out(0x60, 0x07);
  r.in(0x64);
  r.in(0x60);
  r.trace.push_back(r.kbc.a20_enabled());
  r.trace.push_back(r.run_control.stop_requested());
}

}  // namespace

BOOST_AUTO_TEST_CASE(i8042_restores_output_queue_and_pending_command) {
  check_restore<I8042Rig>(drive_i8042, forward_i8042);
}

BOOST_AUTO_TEST_CASE(i8042_refuses_unknown_enums) {
  I8042Rig r;
  drive_i8042(r);
  std::vector<uint8_t> state = save(r.kbc);
  // Layout: version (4), command byte, output port, port A, 2 flags, pending, ...,
  // count (4) at 14, then (value, source) pairs.
  BOOST_TEST(load_error<I8042Rig>(state, 9, 7) == "i8042: corrupt state: pending data-port meaning 7 does not exist");
  BOOST_TEST(load_error<I8042Rig>(state, 19, 3) ==
             "i8042: corrupt state: output byte 0 has source 3, which does not exist");
  sweep_corruptions<I8042Rig>(state, forward_i8042);
}

namespace {

// The whole board through Machine::save_states / load_states

struct BoardRig {
  explicit BoardRig(int64_t wall = kWall) : inputs(wall), machine(config.ram_size), board(machine, config, inputs) {
    machine.clock().bind_icount(&icount);
  }
  uint8_t in(uint16_t port) {
    auto value = static_cast<uint8_t>(machine.io().read(port, 1));
    trace.push_back(value);
    return value;
  }
  void out(uint16_t port, uint8_t value) { machine.io().write(port, value, 1); }
  // As the main loop does: fire due timers at their deadlines.
  void advance(uint64_t ns) {
    uint64_t end = icount + ns;
    core::TimerQueue& timers = machine.timers();
    while (timers.next_deadline_ns() <= end) {
      icount = std::max(icount, timers.next_deadline_ns());
      timers.run_expired(icount);
    }
    icount = end;
    trace.push_back(timers.next_deadline_ns());
  }
  // The CPU taking every interrupt the PIC offers, with a handler per vector.
  void service() {
    hw::I8259Pair& pic = board.pic();
    for (int guard = 0; guard < 16 && pic.output(); ++guard) {
      uint8_t vector = pic.acknowledge();
      trace.push_back(vector);
      if (vector == 0x21) in(0x60);
      if (vector == 0x24) {
        in(0x3fa);
        for (int i = 0; i < 16 && board.com1().rx_count() > 0; ++i) in(0x3f8);
      }
      if (vector == 0x28) {
        out(0x70, 0x0c);
        in(0x71);
      }
      if (vector >= 0x28) out(0xa0, 0x20);
      out(0x20, 0x20);
    }
    trace.push_back(pic.output());
  }

  core::MachineConfig config{};
  hw::test::FakeInputs inputs;
  uint64_t icount = 0;
  core::Machine machine;
  hw::PcBoard board;
  Trace trace;
};

void drive_board(BoardRig& b) {
  init_pics(b);
  b.out(0x21, 0x00);
  b.out(0xa1, 0x00);
  b.out(0x43, 0x34);  // PIT channel 0: 1 kHz
  b.out(0x40, 0xa9);
  b.out(0x40, 0x04);
  b.out(0x70, 0x0a);
  b.out(0x71, 0x2a);  // RTC 64 Hz periodic
  b.out(0x70, 0x0b);
  b.out(0x71, 0x42);
  b.out(0x3f9, 0x01);  // COM1: RX data interrupts, FIFO trigger level 1, OUT2
  b.out(0x3fa, 0x01);
  b.out(0x3fc, 0x08);
  b.inputs.type("hello");
  b.out(0x64, 0xaa);
  b.out(0x61, 0x01);
  b.out(0x602, 0x01);  // ACPI PM: TMR_EN (an overflow timer armed), SLP_TYP 3 (not S5: no power-off)
  b.out(0x605, 0x0c);
  b.out(0xcf9, 0x08);  // reset control: FULL_RST chosen, no reset
  b.advance(2'500'000);
  b.service();
  b.inputs.type("world!");
  b.advance(1'234'567);  // interrupts left pending at the checkpoint
}

void forward_board(BoardRig& b) {
  for (int i = 0; i < 40; ++i) {
    b.service();
    b.in(0x61);
    b.out(0x43, 0x00);
    b.in(0x40);
    b.in(0x40);
    b.advance(700'000);
    if (i == 10) b.inputs.type("more input");
  }
  b.out(0x70, 0x00);
  b.in(0x71);
  b.in(0x92);
}

std::vector<std::string> names_of(const std::vector<core::Machine::NamedState>& states) {
  std::vector<std::string> names;
  for (const auto& [name, bytes] : states) names.push_back(name);
  return names;
}

}  // namespace

BOOST_AUTO_TEST_CASE(board_round_trip_through_the_machine) {
  BoardRig original;
  drive_board(original);
  BOOST_TEST(original.board.pic().irr(0) != 0u);  // a checkpoint with work pending
  BOOST_TEST(original.board.com1().rx_count() == 6u);
  std::vector<core::Machine::NamedState> states = original.machine.save_states();
  std::vector<std::string> expected{"machine",       "pic",    "pit",     "rtc",
                                    "com1",          "i8042",  "fpu-error", "acpi-pm",
                                    "reset-control", "ioapic", "hpet",      "fw-cfg",   "pci-host",
                                    "i440fx",        "piix3-isa", "piix4-pm", "lapic@0", "debug-exit@0xf4"};
  BOOST_TEST(names_of(states) == expected, per_element());

  BoardRig restored(0);  // another wall clock: the RTC must not ask for it
  restored.icount = original.icount;
  // Watch the PIC's INT output during the load: it must not move.
  RecordingSink intr(&restored.icount);
  restored.board.pic().connect_output(core::IrqLine(&intr, 0));
  Trace connected = intr.events;
  restored.machine.load_states(states);
  BOOST_TEST(intr.events == connected, per_element());
  restored.board.pic().connect_output(core::IrqLine(&restored.machine.cpu_pins(), core::kCpuPinIntr));

  BOOST_TEST(restored.inputs.wall_clock_reads == 0);
  BOOST_TEST(restored.board.pic().output() == original.board.pic().output());
  for (int chip = 0; chip < 2; ++chip) BOOST_TEST(restored.board.pic().pins(chip) == original.board.pic().pins(chip));
  // A device that signalled its line during the load would have changed the
  // PIC (restored before it) and so this second save.
  BOOST_TEST((restored.machine.save_states() == states));

  original.trace.clear();
  restored.trace.clear();
  forward_board(original);
  forward_board(restored);
  BOOST_TEST(original.trace.size() > 100u);
  BOOST_TEST(restored.trace == original.trace, per_element());
  BOOST_TEST((restored.machine.save_states() == original.machine.save_states()));
}

BOOST_AUTO_TEST_CASE(board_names_the_device_in_truncated_or_wrong_version_state) {
  BoardRig original;
  drive_board(original);
  const std::vector<core::Machine::NamedState> states = original.machine.save_states();
  for (size_t i = 1; i < states.size(); ++i) {  // [0] is the machine's own
    const std::string& name = states[i].first;
    BoardRig restored;
    std::vector<core::Machine::NamedState> truncated = states;
    truncated[i].second.pop_back();
    BOOST_CHECK_EXCEPTION(restored.machine.load_states(truncated), core::SnapshotError,
                          [&](const core::SnapshotError& e) { return e.what() == name + ": state is truncated"; });

    std::vector<core::Machine::NamedState> newer = states;
    newer[i].second[0] = 99;
    BOOST_CHECK_EXCEPTION(restored.machine.load_states(newer), core::SnapshotError, [&](const core::SnapshotError& e) {
      return std::string(e.what()).starts_with(name + ": state version 99 is not supported");
    });

    std::vector<core::Machine::NamedState> longer = states;
    longer[i].second.push_back(0);
    BOOST_CHECK_EXCEPTION(restored.machine.load_states(longer), core::SnapshotError, [&](const core::SnapshotError& e) {
      return std::string(e.what()).starts_with(name + ": 1 unexpected bytes");
    });
  }
}

BOOST_AUTO_TEST_CASE(board_with_other_debug_exits_refuses_the_checkpoint) {
  BoardRig original;
  const std::vector<core::Machine::NamedState> states = original.machine.save_states();
  core::MachineConfig config;
  config.devices.push_back(core::DeviceConfig{"isa-debug-exit", {}});
  hw::test::FakeInputs inputs;
  core::Machine machine(config.ram_size);
  hw::PcBoard board(machine, config, inputs);
  BOOST_CHECK_EXCEPTION(machine.load_states(states), core::SnapshotError, [](const core::SnapshotError& e) {
    return std::string(e.what()).find("debug-exit@0xf4") != std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(board_unregisters_its_state) {
  hw::test::FakeInputs inputs;
  core::MachineConfig config;
  core::Machine machine(config.ram_size);
  {
    hw::PcBoard board(machine, config, inputs);
    BOOST_TEST(machine.save_states().size() == 18u);
    // A second board cannot take the same names; its failed construction
    // leaves the first one registered and mapped.
    hw::test::FakeInputs other_inputs;
    auto build_second = [&] { hw::PcBoard second(machine, config, other_inputs); };
    BOOST_CHECK_THROW(build_second(), core::SnapshotError);
    BOOST_TEST(machine.save_states().size() == 18u);
    machine.io().write(0x70, 0x40, 1);
    machine.io().write(0x71, 0x99, 1);
    BOOST_TEST(machine.io().read(0x71, 1) == 0x99u);
  }
  BOOST_TEST(machine.save_states().size() == 1u);  // only the machine's own
  BOOST_TEST(machine.io().flat_view().empty());
}
