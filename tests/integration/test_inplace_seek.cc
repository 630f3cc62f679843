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
// the chipset's state, two vCPUs' turns).
#define BOOST_TEST_MODULE inplace_seek
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/x86_cpu_state_io.h"
#include "replay/checkpoints.h"
#include "replay/machine_spec.h"
#include "replay/replayer.h"
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
}

BOOST_AUTO_TEST_CASE(checksum_guest) {
  TempDir dir("inplace_seek");
  const std::string trace = dir.file("checksum.rwt");
  record({rewind_binary(), "record", "-o", trace, "--checkpoint-interval", "500000", "-kernel",
          guest_path("checksum"), "-append", "rounds=200", "-serial", "none"});
  seek_around(trace);
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
}
