// Seeking in place (replay/checkpoints: SeekIndex, seek_to_checkpoint, and
// Replayer::reposition): a replaying machine goes back or forward to a
// checkpoint without being rebuilt, then replays on. Wherever it came from,
// it must reach exactly the state a straight replay from the start reaches
// at the same point: every vCPU's registers, every device's state, and all
// of RAM and ROM byte for byte (page-table accessed and dirty bits
// included) -- not only the digest.
//
// Recordings: the paging guest (page tables, A/D bits), the checksum guest
// (long, no input), and SeaBIOS on two vCPUs (firmware ROM, PAM remaps,
// the chipset's state, two vCPUs' turns). The same holds for the checkpoints
// a debugging session adds in memory, and the recorder's footprints of each
// interval must cover what a replay of it does.
#define BOOST_TEST_MODULE inplace_seek
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/x86_cpu_state_io.h"
#include "replay/checkpoints.h"
#include "replay/machine_spec.h"
#include "replay/replayer.h"
#include "replay/session_checkpoints.h"
#include "replay/state_digest.h"
#include "tests/integration/subprocess.h"
#include "tests/integration/test_files.h"
#include "tools/machine_builder.h"
#include "traces/trace_reader.h"

using namespace rwd;
using rwd::testing::guest_path;
using rwd::testing::ProcessOptions;
using rwd::testing::ProcessResult;
using rwd::testing::rewind_binary;
using rwd::testing::run_process;
using rwd::testing::TempDir;

namespace {

class NullSink final : public replay::ByteSink {
 public:
  void write(const uint8_t*, size_t) override {}
};

// A replay in this process, as `rewind replay` sets one up.
struct Session {
  explicit Session(const std::string& trace) : reader(traces::TraceReader::open(trace)) {
    core::MachineConfig config = replay::from_spec(reader->header().machine);
    config.serial.kind = core::SerialConfig::Kind::kNone;
    replayer = std::make_unique<replay::Replayer>(*reader, sink);
    built = tools::build_machine(config, *replayer);
    replay::restore_checkpoint(machine(), *reader, 0);
    reader->position_after_checkpoint(0);
    replayer->attach(machine(), 0);
  }
  core::Machine& machine() { return *built.machine; }
  // Replays on to exactly `icount`.
  void run_to(uint64_t icount) {
    BOOST_TEST_REQUIRE(machine().icount() <= icount);
    if (machine().icount() == icount) return;
    replayer->stop_at(icount);
    machine().run_control().clear();
    machine().run();
    BOOST_TEST_REQUIRE(replayer->divergence().empty(), replayer->divergence());
    BOOST_TEST_REQUIRE(replayer->damage().empty(), replayer->damage());
    BOOST_TEST_REQUIRE(machine().icount() == icount);
  }
  void seek(const replay::SeekIndex& index, size_t checkpoint) {
    replay::seek_to_checkpoint(machine(), *reader, index, replayer->last_checkpoint(), checkpoint);
    replayer->reposition(checkpoint);
    BOOST_TEST_REQUIRE(machine().icount() == reader->checkpoints()[checkpoint].icount);
  }

  std::unique_ptr<traces::TraceReader> reader;
  NullSink sink;
  std::unique_ptr<replay::Replayer> replayer;
  tools::BuiltMachine built;
};

// Everything a guest or a later replay could tell apart.
void expect_same_state(Session& a, Session& b) {
  core::Machine& ma = a.machine();
  core::Machine& mb = b.machine();
  BOOST_TEST(ma.icount() == mb.icount());
  for (unsigned i = 0; i < ma.cpu_count(); ++i) {
    core::StateWriter wa, wb;
    core::save_cpu_state(ma.cpu_state(i), wa);
    core::save_cpu_state(mb.cpu_state(i), wb);
    BOOST_TEST((wa.data() == wb.data()), "vCPU " << i << " registers differ");
  }
  auto sa = ma.save_states(), sb = mb.save_states();
  BOOST_TEST_REQUIRE(sa.size() == sb.size());
  for (size_t i = 0; i < sa.size(); ++i) BOOST_TEST((sa[i] == sb[i]), "state '" << sa[i].first << "' differs");
  const uint64_t bytes = ma.ram_size() + ma.rom_size();
  size_t first_diff = bytes;
  for (uint64_t i = 0; i < bytes && first_diff == bytes; i += 4096)
    if (std::memcmp(ma.ram() + i, mb.ram() + i, 4096) != 0) first_diff = i;
  BOOST_TEST(first_diff == bytes, "RAM differs from offset " << first_diff);
  BOOST_TEST((replay::compute_digest(ma) == replay::compute_digest(mb)));
}

// Jumps around the recording in place and compares each landing, a little
// past the checkpoint, with a fresh straight replay to the same point.
void seek_around(const std::string& trace) {
  Session jumper(trace);
  replay::SeekIndex index(*jumper.reader);
  const auto& checkpoints = jumper.reader->checkpoints();
  const size_t n = checkpoints.size();
  BOOST_TEST_REQUIRE(n >= 6u, "too few checkpoints: " << n);
  const uint64_t end = jumper.reader->last_icount();
  // Run to near the end first: the way back crosses most of the recording.
  jumper.run_to(end - 1);
  const size_t plan[] = {n / 2, n / 2, n - 2, 1, 0, n - 1, n / 3};
  for (size_t k : plan) {
    BOOST_TEST_CONTEXT(trace << ": to checkpoint " << k << " of " << n << " from " << jumper.replayer->last_checkpoint()) {
      jumper.seek(index, k);
      uint64_t target = std::min(end - 1, checkpoints[k].icount + 123);
      jumper.run_to(target);
      Session straight(trace);
      straight.run_to(target);
      expect_same_state(jumper, straight);
    }
  }
}

// Session checkpoints (replay/session_checkpoints): taken in passing between
// the recording's checkpoints -- mid-interval, and right on one -- then
// restored in place, in another order, from points before and after them;
// each landing, and a replay on from it, must match a straight replay.
void session_checkpoints_around(const std::string& trace) {
  Session jumper(trace);
  replay::SeekIndex index(*jumper.reader);
  replay::SessionCheckpoints session;
  const auto& checkpoints = jumper.reader->checkpoints();
  const size_t n = checkpoints.size();
  BOOST_TEST_REQUIRE(n >= 6u, "too few checkpoints: " << n);
  const uint64_t end = jumper.reader->last_icount();
  std::vector<uint64_t> points = {checkpoints[1].icount + 77, checkpoints[n / 2].icount,
                                  (checkpoints[n / 2].icount + checkpoints[n / 2 + 1].icount) / 2, end - 5};
  // Just before an event the recording delivers mid-interval, when it has
  // one: the session checkpoint must know which events are still to come.
  {
    std::unique_ptr<traces::TraceReader> events = traces::TraceReader::open(trace);
    while (std::optional<traces::Event> e = events->next()) {
      const size_t k = events->checkpoint_at_or_before(e->icount).value_or(0);
      if (e->icount > checkpoints[n / 3].icount && e->icount - 3 > checkpoints[k].icount && e->icount < points[3]) {
        points.push_back(e->icount - 3);
        break;
      }
    }
  }
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  for (uint64_t p : points) {
    jumper.run_to(p);
    session.take(jumper.machine(), *jumper.replayer);
  }
  BOOST_TEST_REQUIRE(session.count() == points.size());
  BOOST_TEST(session.bytes() > 0u);
  // Back and forth, twice to one of them, the last first.
  std::vector<size_t> plan = {2, 0, points.size() - 1, 1, 1};
  for (size_t i = 3; i < points.size(); ++i) plan.push_back(i);
  for (size_t which : plan) {
    const uint64_t p = points[which];
    BOOST_TEST_CONTEXT(trace << ": to the session checkpoint at icount " << p << " from " << jumper.machine().icount()) {
      BOOST_TEST_REQUIRE(session.latest_at_or_before(p + 1).value_or(0) == p);
      session.restore(p, jumper.machine(), *jumper.reader, index, *jumper.replayer);
      BOOST_TEST_REQUIRE(jumper.machine().icount() == p);
      {
        Session straight(trace);
        straight.run_to(p);
        expect_same_state(jumper, straight);
      }
      // And on from there, past the recording's next checkpoint (verified on the way).
      const uint64_t later = std::min(end, p + (checkpoints[1].icount - checkpoints[0].icount) + 1000);
      jumper.run_to(later);
      Session straight(trace);
      straight.run_to(later);
      expect_same_state(jumper, straight);
    }
  }
  // A budget too small for one keeps none.
  replay::SessionCheckpoints tiny(1000);
  tiny.take(jumper.machine(), *jumper.replayer);
  BOOST_TEST(tiny.count() == 0u);
}

// Footprints (SeekIndex::may_have_run / may_have_written, from what the
// recorder kept with each checkpoint) must cover all a replay of the interval
// does, and should leave out enough for reverse-continue to skip intervals.
// The truth: a replay that stops before every instruction (a breakpoint on
// every byte of the code pages, found by a first pass of steps) and after
// every write (a write watchpoint over all addresses).
void check_footprints(const std::string& trace) {
  std::set<uint64_t> code_pages;
  {
    Session stepper(trace);
    core::DebugTraps& traps = stepper.machine().debug_traps(0);
    traps.step = true;
    const uint64_t end = stepper.reader->last_icount();
    while (stepper.machine().icount() < end) {
      const core::X86CpuState& s = stepper.machine().cpu_state(0);
      code_pages.insert(s.linear_pc() >> 12);
      stepper.machine().run_control().clear();
      if (stepper.machine().run().reason != core::StopReason::kDebugTrap) break;
    }
  }
  BOOST_TEST_REQUIRE(!code_pages.empty());

  Session s(trace);
  replay::SeekIndex index(*s.reader);
  const auto& checkpoints = s.reader->checkpoints();
  // The interval an instruction run when `icount` instructions had retired
  // belongs to; its footprint is the next checkpoint's (none after the last).
  auto footprint_of = [&](uint64_t icount) -> std::optional<size_t> {
    size_t k = s.reader->checkpoint_at_or_before(icount).value_or(0);
    if (k + 1 >= checkpoints.size()) return std::nullopt;
    return k + 1;
  };
  core::DebugTraps& traps = s.machine().debug_traps(0);
  for (uint64_t page : code_pages)
    for (uint64_t a = page << 12; a < (page + 1) << 12; ++a) traps.breakpoints.push_back(a);
  traps.watches = {{0, 1ull << 47, core::DebugTraps::kWatchWrite},
                   {0xffff800000000000ull, 1ull << 47, core::DebugTraps::kWatchWrite}};
  std::set<uint64_t> ran, written;  // everywhere in the recording
  std::vector<std::pair<size_t, uint64_t>> ran_in, written_in;
  size_t code_stops = 0, write_stops = 0;
  const uint64_t end = s.reader->last_icount();
  while (s.machine().icount() < end) {
    s.machine().run_control().clear();
    if (s.machine().run().reason != core::StopReason::kDebugTrap) break;
    const uint64_t icount = s.machine().icount();
    if (traps.watch_hit) {
      // After the instruction that wrote: it ran with icount - 1 retired.
      const uint64_t address = traps.watch_hit->address;
      traps.watch_hit.reset();
      ++write_stops;
      written.insert(address >> 12);
      if (auto f = footprint_of(icount - 1)) {
        written_in.emplace_back(*f, address >> 12);
        BOOST_TEST(index.may_have_written(*f, address, 1),
                   "a write at " << std::hex << address << std::dec << " (icount " << icount
                                 << ") is not in the footprint of checkpoint " << *f);
      }
      continue;
    }
    const core::X86CpuState& cpu = s.machine().cpu_state(0);
    const uint64_t pc = cpu.linear_pc();
    ++code_stops;
    ran.insert(pc);
    if (auto f = footprint_of(icount)) {
      ran_in.emplace_back(*f, pc);
      BOOST_TEST(index.may_have_run(*f, pc), "code at " << std::hex << pc << std::dec << " (icount " << icount
                                                          << ") is not in the footprint of checkpoint " << *f);
    }
  }
  BOOST_TEST_REQUIRE(s.machine().icount() == end);
  BOOST_TEST(code_stops > end / 2, "the replay stopped before only " << code_stops << " of " << end << " instructions");
  BOOST_TEST(write_stops > 0u);
  // Useful: some interval's footprint leaves out code that ran, and a page
  // that was written, elsewhere in the recording.
  size_t code_left_out = 0, writes_left_out = 0;
  for (size_t f = 1; f < checkpoints.size(); ++f) {
    for (uint64_t pc : ran) code_left_out += !index.may_have_run(f, pc);
    for (uint64_t page : written) writes_left_out += !index.may_have_written(f, page << 12, 1);
  }
  BOOST_TEST(code_left_out > 0u);
  BOOST_TEST(writes_left_out > 0u);
  BOOST_TEST_MESSAGE(trace << ": " << checkpoints.size() << " checkpoints, " << code_stops << " instructions and "
                           << write_stops << " writes checked; (checkpoint, pc) pairs left out " << code_left_out
                           << ", (checkpoint, page) " << writes_left_out);
}

ProcessResult record(std::vector<std::string> argv, const std::string& stop_after = "") {
  ProcessOptions options;
  options.argv = std::move(argv);
  options.timeout_seconds = 120;
  if (!stop_after.empty()) {
    options.signal = SIGTERM;
    options.signal_after_output = stop_after;
  }
  ProcessResult r = run_process(options);
  BOOST_TEST_REQUIRE(!r.timed_out, r.err);
  return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(paging_guest) {
  TempDir dir("inplace_seek");
  const std::string trace = dir.file("paging.rwt");
  record({rewind_binary(), "record", "-o", trace, "--checkpoint-interval", "1000", "-kernel", guest_path("paging"),
          "-serial", "none"});
  seek_around(trace);
  session_checkpoints_around(trace);
}

BOOST_AUTO_TEST_CASE(checksum_guest) {
  TempDir dir("inplace_seek");
  const std::string trace = dir.file("checksum.rwt");
  record({rewind_binary(), "record", "-o", trace, "--checkpoint-interval", "500000", "-kernel",
          guest_path("checksum"), "-append", "rounds=200", "-serial", "none"});
  seek_around(trace);
}

BOOST_AUTO_TEST_CASE(footprints_cover_what_ran_and_what_was_written) {
  TempDir dir("inplace_seek");
  // 32-bit paging with user pages; 64-bit with a PIT interrupt every
  // millisecond and ring 3; a long flat 32-bit run.
  const std::pair<const char*, const char*> guests[] = {{"paging", "1000"}, {"usermode", "50000"}, {"checksum", "20000"}};
  for (const auto& [guest, interval] : guests) {
    const std::string trace = dir.file(std::string(guest) + ".rwt");
    record({rewind_binary(), "record", "-o", trace, "--checkpoint-interval", interval, "-kernel", guest_path(guest),
            "-append", "rounds=10", "-serial", "none"});
    BOOST_TEST_CONTEXT(guest) { check_footprints(trace); }
  }
}

// Console input and timer interrupts between checkpoints (timer_echo with its
// input): events the seeks must put back in step.
BOOST_AUTO_TEST_CASE(a_guest_with_input_and_interrupts) {
  TempDir dir("inplace_seek");
  const std::string trace = dir.file("timer_echo.rwt");
  ProcessOptions options;
  options.argv = {rewind_binary(), "record", "-o", trace, "--checkpoint-interval", "20000", "-kernel",
                  guest_path("timer_echo"), "-serial", "stdio"};
  options.stdin_data = rwd::testing::read_file(std::string(REWIND_SOURCE_DIR) + "/tests/guests/timer_echo.input");
  options.timeout_seconds = 120;
  ProcessResult r = run_process(options);
  BOOST_TEST_REQUIRE(r.out.find("30 rounds") != std::string::npos, r.out << r.err);
  seek_around(trace);
  session_checkpoints_around(trace);
}

BOOST_AUTO_TEST_CASE(seabios_on_two_vcpus) {
  TempDir dir("inplace_seek");
  const std::string trace = dir.file("seabios.rwt");
  ProcessResult r = record({rewind_binary(), "record", "-o", trace, "--checkpoint-interval", "500000", "-bios",
                            "/usr/share/seabios/bios.bin", "-smp", "2", "-serial", "stdio"},
                           "No bootable device.");
  BOOST_TEST_REQUIRE(r.out.find("No bootable device.") != std::string::npos,
                     "SeaBIOS did not get there (is Debian's seabios installed?): " << r.err);
  seek_around(trace);
  session_checkpoints_around(trace);
}
