// `rewind replay --to N`: a seek (restore the nearest checkpoint at or before
// N, replay forward) must stop in exactly the state a straight replay from the
// start (`--no-seek`) reaches, for every checkpoint of a recording, between
// checkpoints and at the very end; bad targets give one-line errors. And a
// trace cut short replays up to the last readable event or checkpoint,
// whichever is later, and says where it ends.
//
// Two recordings are shared by the cases (made on first use): the checksum
// guest (no input, long) and serial_echo with its input fed at jittered host
// times and a small checkpoint interval, so that several checkpoints fall
// between input events. The jitter is seeded; REWIND_SEEK_SEED=N repeats it.
#define BOOST_TEST_MODULE replay_seek
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tests/integration/jittered_feed.h"
#include "tests/integration/subprocess.h"
#include "tests/integration/test_files.h"
#include "traces/trace_reader.h"

namespace fs = std::filesystem;
namespace tr = rwd::traces;
using rwd::testing::guest_path;
using rwd::testing::read_file;
using rwd::testing::TempDir;
using rwd::testing::write_file;
using rwd::testing::JitterOptions;
using rwd::testing::ProcessResult;
using rwd::testing::rewind_binary;
using rwd::testing::run_process;
using rwd::testing::run_process_jittered;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitBadInput = 2;  // also the status of a usage error

// Each process here takes well under a second; the timeouts only turn a hang
// into a failure.
constexpr double kRecordTimeout = 20;
constexpr double kReplayTimeout = 15;

const char kChecksumAppend[] = "rounds=200";  // ~7.4 million instructions
constexpr uint64_t kChecksumInterval = 500000;
// serial_echo delivers input at poll points; with gaps of 0-0.5 ms between
// bytes and now and then a pause of 15-25 ms, most bytes arrive in bursts and,
// on a quiet machine, several checkpoints fall in each pause (~10 million
// instructions, ~40 checkpoints). On a loaded one the input may all be
// waiting before the guest reads it: then every byte lands at a poll point.
constexpr uint64_t kEchoInterval = 250000;
constexpr uint64_t kBetweenOffset = 12345;

size_t line_count(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n + (!s.empty() && s.back() != '\n');
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

struct Recording {
  std::string name;
  std::string trace;
  ProcessResult run;
  uint64_t end_icount = 0;             // the run_end event's icount
  std::vector<uint64_t> checkpoints;   // icounts, the initial one included
  std::vector<uint64_t> input_icounts; // console input events
};

Recording record(const std::string& name, const std::string& trace, uint64_t interval, const std::string& append,
                 const std::string& input, const JitterOptions& jitter) {
  std::vector<std::string> argv = {rewind_binary(), "record", "-o", trace, "--checkpoint-interval",
                                   std::to_string(interval), "-kernel", guest_path(name), "-m", "128M",
                                   "-serial", "stdio", "-no-reboot"};
  if (!append.empty()) argv.insert(argv.end(), {"-append", append});
  Recording r;
  r.name = name;
  r.trace = trace;
  r.run = run_process_jittered(argv, input, jitter, kRecordTimeout);
  BOOST_TEST_REQUIRE(!r.run.timed_out, name << ": rewind record did not finish; stderr: " << r.run.err);
  BOOST_TEST_REQUIRE(r.run.exit_status == 1, name << ": record exit status " << r.run.exit_status << ": " << r.run.err);
  std::unique_ptr<tr::TraceReader> reader = tr::TraceReader::open(trace);
  BOOST_TEST_REQUIRE(!reader->truncated(), name << ": the recording is not complete");
  for (const tr::CheckpointRef& c : reader->checkpoints()) r.checkpoints.push_back(c.icount);
  std::optional<tr::Event> last;
  while (std::optional<tr::Event> e = reader->next()) {
    if (e->kind() == tr::EventKind::kConsoleInput) r.input_icounts.push_back(e->icount);
    last = std::move(e);
  }
  BOOST_TEST_REQUIRE((last && last->kind() == tr::EventKind::kRunEnd), name << ": the trace does not end with run_end");
  r.end_icount = last->icount;
  return r;
}

// The shared recordings, made once for the whole run.
struct Recordings {
  TempDir dir{"seek"};
  uint64_t seed = rwd::testing::seed_from_env_or_random("REWIND_SEEK_SEED");
  std::string echo_input = read_file(std::string(REWIND_SOURCE_DIR) + "/tests/guests/serial_echo.input");
  std::optional<Recording> checksum_rec, echo_rec;

  const Recording& checksum() {
    if (!checksum_rec)
      checksum_rec = record("checksum", dir.file("checksum.rwt"), kChecksumInterval, kChecksumAppend, {}, {});
    return *checksum_rec;
  }
  const Recording& echo() {
    if (!echo_rec) {
      std::cout << "serial_echo: input jitter seed " << seed << " (REWIND_SEEK_SEED=" << seed << " repeats it)\n";
      JitterOptions jitter;
      jitter.seed = seed;
      jitter.max_gap_us = 500;
      jitter.pause_one_in = 10;
      jitter.pause_min_us = 15000;
      jitter.pause_max_us = 25000;
      echo_rec = record("serial_echo", dir.file("serial_echo.rwt"), kEchoInterval, {}, echo_input, jitter);
    }
    return *echo_rec;
  }
};

Recordings& recordings() {
  static Recordings r;
  return r;
}

ProcessResult replay_to(const std::string& trace, uint64_t to, bool seek) {
  std::vector<std::string> argv = {rewind_binary(), "replay", trace, "-serial", "none", "--to", std::to_string(to)};
  if (!seek) argv.push_back("--no-seek");
  return run_process(argv, {}, kReplayTimeout);
}

// Seeks to `to` and replays to it from the start; both must stop there in the
// same state. Returns the pair's timings (seek, no-seek).
std::pair<double, double> check_seek(const Recording& rec, uint64_t to, const std::string& what) {
  const std::string ctx = rec.name + ", --to " + std::to_string(to) + " (" + what + ")";
  ProcessResult seek = replay_to(rec.trace, to, true);
  ProcessResult straight = replay_to(rec.trace, to, false);
  const std::string want = "rewind: at icount " + std::to_string(to) + ": digest ";
  for (const ProcessResult* r : {&seek, &straight}) {
    const char* how = r == &seek ? "seek" : "no-seek";
    BOOST_TEST(!r->timed_out, ctx << ", " << how << ": did not finish");
    BOOST_TEST(r->exit_status == kExitOk, ctx << ", " << how << ": status " << r->exit_status << ": " << r->err);
    BOOST_TEST(r->err.rfind(want, 0) == 0, ctx << ", " << how << ": expected '" << want << "...', got: " << first_line(r->err));
    BOOST_TEST(r->err.find("icount=" + std::to_string(to)) != std::string::npos,
               ctx << ", " << how << ": the registers do not show icount=" << to << ": " << r->err);
  }
  BOOST_TEST(first_line(seek.err) == first_line(straight.err),
             ctx << ": the digests differ\n  seek:    " << first_line(seek.err) << "\n  no-seek: " << first_line(straight.err));
  BOOST_TEST(seek.err == straight.err, ctx << ": the registers differ\n--- seek:\n" << seek.err << "--- no-seek:\n" << straight.err);
  return {seek.seconds, straight.seconds};
}

// --to every checkpoint after the initial one, 12345 past each (when that is
// still inside the run), and the run's last icount.
void check_every_checkpoint(const Recording& rec) {
  BOOST_TEST_REQUIRE(rec.checkpoints.size() >= 3u, rec.name << ": only " << rec.checkpoints.size() << " checkpoints");
  std::cout << rec.name << ": " << rec.end_icount << " instructions, " << rec.checkpoints.size() << " checkpoints, "
            << rec.input_icounts.size() << " input bytes\n";
  for (size_t k = 1; k < rec.checkpoints.size(); ++k) {
    uint64_t c = rec.checkpoints[k];
    check_seek(rec, c, "checkpoint " + std::to_string(k));
    if (c + kBetweenOffset < rec.end_icount) check_seek(rec, c + kBetweenOffset, "after checkpoint " + std::to_string(k));
  }
  auto [seek_s, straight_s] = check_seek(rec, rec.end_icount, "the last icount");
  std::cout << rec.name << ": --to " << rec.end_icount << " (the end): seek " << seek_s << " s, no-seek " << straight_s
            << " s\n";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(seek)

BOOST_AUTO_TEST_CASE(checksum_every_checkpoint) { check_every_checkpoint(recordings().checksum()); }

BOOST_AUTO_TEST_CASE(serial_echo_every_checkpoint) {
  const Recording& rec = recordings().echo();
  BOOST_TEST_REQUIRE(!rec.input_icounts.empty(), "serial_echo: no input was recorded");
  // The point of a small interval: checkpoints between input events, so that
  // seeks restore states that later input still has to reach.
  size_t most_between = 0;
  for (size_t i = 1; i < rec.input_icounts.size(); ++i) {
    size_t n = size_t(std::count_if(rec.checkpoints.begin(), rec.checkpoints.end(), [&](uint64_t c) {
      return c > rec.input_icounts[i - 1] && c < rec.input_icounts[i];
    }));
    most_between = std::max(most_between, n);
  }
  // What the seeks need, whatever the host timing did to the input: restore
  // points that later input still has to reach.
  size_t before_last_input = size_t(std::count_if(rec.checkpoints.begin(), rec.checkpoints.end(), [&](uint64_t c) {
    return c > 0 && c < rec.input_icounts.back();
  }));
  BOOST_TEST(before_last_input >= 2u, "serial_echo: only " << before_last_input << " checkpoint(s) before the last input");
  std::cout << "serial_echo: up to " << most_between << " checkpoints between two input events, " << before_last_input
            << " before the last one\n";
  check_every_checkpoint(rec);
}

// The paging guest's page-table walks set accessed and dirty bits: those
// writes are guest memory writes like any other, so a checkpoint taken after
// one holds it, and a seek reaches the state of a straight replay. A
// checkpoint every 500 instructions puts ~30 of them among the walks.
BOOST_AUTO_TEST_CASE(paging_accessed_and_dirty_bits_every_checkpoint) {
  TempDir dir{"seek-paging"};
  check_every_checkpoint(record("paging", dir.file("paging.rwt"), 500, {}, {}, {}));
}

BOOST_AUTO_TEST_CASE(to_beyond_the_end) {
  const Recording& rec = recordings().checksum();
  for (uint64_t to : {rec.end_icount + 1, rec.end_icount + 10000000}) {
    for (bool seek : {true, false}) {
      const std::string ctx = "--to " + std::to_string(to) + (seek ? "" : " --no-seek") + ", the run ends at " +
                              std::to_string(rec.end_icount);
      ProcessResult r = replay_to(rec.trace, to, seek);
      BOOST_TEST(!r.timed_out, ctx << ": did not finish");
      BOOST_TEST((r.exit_status != 0 && r.exit_status < 124), ctx << ": status " << r.exit_status << ": " << r.err);
      BOOST_TEST(r.err.rfind("rewind: ", 0) == 0, ctx << ": " << r.err);
      BOOST_TEST(line_count(r.err) == 1u, ctx << ": expected a one-line message, got: " << r.err);
      BOOST_TEST(r.err.find(std::to_string(rec.end_icount)) != std::string::npos,
                 ctx << ": the message does not say where the recording ends: " << r.err);
    }
  }
}

BOOST_AUTO_TEST_CASE(to_garbage_is_a_usage_error) {
  const Recording& rec = recordings().checksum();
  for (const std::string& v : {std::string("abc"), std::string("12x"), std::string("-5"), std::string(""),
                               std::string(" 5"), std::string("99999999999999999999999")}) {
    ProcessResult r = run_process({rewind_binary(), "replay", rec.trace, "-serial", "none", "--to", v}, {}, kReplayTimeout);
    const std::string ctx = "--to '" + v + "'";
    BOOST_TEST(!r.timed_out, ctx << ": did not finish");
    BOOST_TEST(r.exit_status == kExitBadInput, ctx << ": status " << r.exit_status << ": " << r.err);
    BOOST_TEST(r.err.find("--to") != std::string::npos, ctx << ": the message does not name --to: " << r.err);
    BOOST_TEST(r.err.find("at icount") == std::string::npos, ctx << ": it replayed: " << r.err);
  }
  ProcessResult r = run_process({rewind_binary(), "replay", rec.trace, "--to"}, {}, kReplayTimeout);
  BOOST_TEST(r.exit_status == kExitBadInput, "--to without a value: status " << r.exit_status << ": " << r.err);
}

BOOST_AUTO_TEST_CASE(replay_to_the_end_matches_the_recording) {
  for (const Recording* rec : {&recordings().checksum(), &recordings().echo()}) {
    ProcessResult r = run_process({rewind_binary(), "replay", rec->trace, "-serial", "stdio"}, {}, kReplayTimeout);
    BOOST_TEST(!r.timed_out, rec->name << ": replay did not finish");
    BOOST_TEST(r.exit_status == rec->run.exit_status,
               rec->name << ": status " << r.exit_status << ", recorded " << rec->run.exit_status << ": " << r.err);
    BOOST_TEST(r.out == rec->run.out, rec->name << ": console output differs from the recording's");
    BOOST_TEST(r.err.find("diverged") == std::string::npos, rec->name << ": " << r.err);
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ---- a trace cut short ------------------------------------------------------

BOOST_AUTO_TEST_SUITE(cut_short)

BOOST_AUTO_TEST_CASE(replays_to_the_last_readable_event_or_checkpoint) {
  const Recording& rec = recordings().echo();
  const std::string whole = read_file(rec.trace);
  TempDir dir{"seek"};
  // Cuts at fixed fractions of the file, and one just past a checkpoint frame
  // that follows another checkpoint frame after some event frame, so that at
  // least one cut surely leaves whole checkpoints after the last readable
  // event (which replay must run on to and verify).
  std::vector<size_t> cuts;
  for (unsigned percent : {30u, 50u, 60u, 75u, 90u, 95u}) cuts.push_back(whole.size() * percent / 100);
  {
    std::unique_ptr<tr::TraceReader> reader = tr::TraceReader::open(rec.trace);
    const std::vector<tr::FrameRef>& frames = reader->frames();
    bool seen_events = false;
    for (size_t j = 1; j + 1 < frames.size(); ++j) {
      seen_events |= frames[j - 1].kind == tr::FrameKind::kEvents;
      if (seen_events && frames[j - 1].kind == tr::FrameKind::kCheckpoint &&
          frames[j].kind == tr::FrameKind::kCheckpoint && frames[j].first_icount > frames[j - 1].first_icount) {
        cuts.push_back(frames[j + 1].offset + 1);
        break;
      }
    }
  }
  size_t checkpoint_later = 0;  // cuts where a checkpoint follows the last readable event
  for (size_t cut : cuts) {
    const std::string what = "serial_echo cut to " + std::to_string(cut) + " of " + std::to_string(whole.size()) +
                             " bytes (" + std::to_string(cut * 100 / whole.size()) + "%)";
    std::string damaged = dir.file("cut_" + std::to_string(cut) + ".rwt");
    write_file(damaged, whole.substr(0, cut));

    std::unique_ptr<tr::TraceReader> reader = tr::TraceReader::open(damaged);
    BOOST_TEST(reader->truncated(), what << ": the reader did not notice the cut");
    uint64_t last_event = 0, last_checkpoint = 0;
    while (std::optional<tr::Event> e = reader->next()) last_event = e->icount;
    if (!reader->checkpoints().empty()) last_checkpoint = reader->checkpoints().back().icount;
    const uint64_t expected_end = std::max(last_event, last_checkpoint);
    checkpoint_later += last_checkpoint > last_event;

    ProcessResult r = run_process({rewind_binary(), "replay", damaged, "-serial", "stdio"}, {}, kReplayTimeout);
    BOOST_TEST(!r.timed_out, what << ": replay did not finish");
    BOOST_TEST(r.exit_status == kExitOk, what << ": status " << r.exit_status << ": " << r.err);
    BOOST_TEST(line_count(r.err) == 1u, what << ": expected a one-line message, got: " << r.err);
    BOOST_TEST(r.err.find("diverged") == std::string::npos, what << ": " << r.err);
    BOOST_TEST(r.err.find("cut short") != std::string::npos, what << ": " << r.err);
    const std::string key = "rewind: the trace ends at icount ";
    BOOST_TEST(r.err.rfind(key, 0) == 0, what << ": replay did not say where the trace ends: " << r.err);
    if (r.err.rfind(key, 0) == 0) {
      uint64_t icount = std::strtoull(r.err.c_str() + key.size(), nullptr, 10);
      BOOST_TEST(icount == expected_end, what << ": replay ended at " << icount << ", expected " << expected_end
                                              << " (last readable event " << last_event << ", last readable checkpoint "
                                              << last_checkpoint << ")");
    }
    BOOST_TEST(rec.run.out.compare(0, r.out.size(), r.out) == 0,
               what << ": console output is not a prefix of the recording's");

    // A seek to that end agrees with a straight replay to it.
    if (expected_end > 0) check_seek(Recording{"serial_echo cut to " + std::to_string(cut), damaged, {}, 0, {}, {}},
                                     expected_end, "the end of the readable part");
    std::cout << what << ": last event " << last_event << ", last checkpoint " << last_checkpoint << "; " << r.err;
  }
  // Whether some cut left a whole checkpoint after the last readable event
  // depends on how the host timing spread the input; the exact end point is
  // checked for every cut above either way.
  std::cout << "cuts that left a whole checkpoint after the last readable event: " << checkpoint_later << "\n";
}

BOOST_AUTO_TEST_SUITE_END()
