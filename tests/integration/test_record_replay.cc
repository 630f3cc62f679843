// Records guests with `rewind record` while their serial input arrives at
// random host times, then replays each recording and checks that the user
// sees the same run again; and damages recordings in the ways real files get
// damaged, checking that replay says what is wrong instead of crashing,
// hanging or running on silently.
//
// CTest runs this executable once per guest (suite `guest`) and once per kind
// of damage (suite `damage`, on the serial_echo guest); the guest comes in as
// arguments after `--`, exactly as for test_guest_boot:
//   NAME IMAGE EXPECTED_FILE EXIT_STATUS MEMORY APPEND MODULES SERIAL_INPUT
//
// The jitter of the input feeder is seeded; each test prints its seed, and
// REWIND_RR_SEED=N in the environment repeats a run's gaps.
#define BOOST_TEST_MODULE record_replay
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <random>

#include "tests/integration/jittered_feed.h"
#include "tests/integration/guest_spec.h"
#include "tests/integration/test_files.h"
#include "tests/integration/subprocess.h"
#include "tests/integration/trace_contents.h"
#include "traces/trace_format.h"
#include "traces/trace_reader.h"
#include "traces/trace_writer.h"

namespace fs = std::filesystem;
namespace tr = rwd::traces;
using rwd::testing::JitterOptions;
using rwd::testing::GuestSpec;
using rwd::testing::TempDir;
using rwd::testing::TraceContents;
using rwd::testing::load_trace;
using rwd::testing::write_trace;
using rwd::testing::write_file;
using rwd::testing::ProcessResult;
using rwd::testing::read_file;
using rwd::testing::spec_from_arguments;
using rwd::testing::rewind_binary;
using rwd::testing::run_process;
using rwd::testing::run_process_jittered;

namespace {

// rewind's own statuses (tools/exit_status.h).
constexpr int kExitOk = 0;
constexpr int kExitBadInput = 2;
constexpr int kExitDiverged = 8;

// Per-process timeouts: every guest here records or replays in well under a
// second; these only turn a hang into a failure.
constexpr double kRecordTimeout = 20;
constexpr double kReplayTimeout = 20;

// Instructions between checkpoints. Guests shorter than a few intervals are
// recorded again with an interval that gives them several checkpoints.
constexpr uint64_t kCheckpointInterval = 200000;
constexpr size_t kWantCheckpoints = 4;  // the initial one included

// The checksum guest's default work (~200 million instructions) is more than
// a test suite should record; this keeps it at ~2 million.
const char kChecksumAppend[] = "rounds=50";

uint64_t announce_seed(const std::string& what) {
  uint64_t seed = rwd::testing::seed_from_env_or_random("REWIND_RR_SEED");
  // On stdout so that ctest --output-on-failure shows it next to the failure.
  std::cout << what << ": input jitter seed " << seed << " (REWIND_RR_SEED=" << seed << " repeats it)\n";
  return seed;
}

// The first line where two outputs differ, for a readable failure.
std::string first_difference(const std::string& want, const std::string& got) {
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  if (i == want.size() && i == got.size()) return "(identical)";
  size_t line_start = i == 0 ? 0 : want.rfind('\n', i - 1);
  line_start = line_start == std::string::npos ? 0 : line_start + 1;
  auto line_of = [&](const std::string& s) {
    if (line_start >= s.size()) return std::string("<end of output>");
    size_t end = s.find('\n', line_start);
    return s.substr(line_start, end == std::string::npos ? std::string::npos : end - line_start);
  };
  return "at byte " + std::to_string(i) + ":\n  expected: " + line_of(want) + "\n  got:      " + line_of(got);
}

size_t line_count(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n + (!s.empty() && s.back() != '\n');
}

// ---- recording and replaying -----------------------------------------------

struct Recording {
  std::string trace;
  uint64_t interval = 0;
  ProcessResult run;
};

std::vector<std::string> record_argv(const GuestSpec& g, const std::string& image, const std::string& trace,
                                     uint64_t interval) {
  std::vector<std::string> argv = {rewind_binary(), "record", "-o", trace, "--checkpoint-interval",
                                   std::to_string(interval), "-kernel", image, "-m", g.memory, "-serial", "stdio",
                                   "-no-reboot"};
  if (!g.append.empty()) argv.insert(argv.end(), {"-append", g.append});
  if (!g.modules.empty()) argv.insert(argv.end(), {"-initrd", g.modules});
  return argv;
}

Recording record(const GuestSpec& g, const std::string& image, const std::string& trace, uint64_t interval,
                 const std::string& input, uint64_t seed) {
  Recording r;
  r.trace = trace;
  r.interval = interval;
  // Gaps of 0-3 ms, and now and then a pause of several poll intervals (a
  // poll every 200000 instructions is a few ms of host time), so that bytes
  // reach the guest at different points from run to run.
  JitterOptions jitter;
  jitter.seed = seed;
  jitter.max_gap_us = 3000;
  jitter.pause_one_in = 8;
  jitter.pause_min_us = 4000;
  jitter.pause_max_us = 15000;
  r.run = run_process_jittered(record_argv(g, image, trace, interval), input, jitter, kRecordTimeout);
  BOOST_TEST_REQUIRE(!r.run.timed_out, g.name << ": rewind record did not finish in " << kRecordTimeout
                                              << " s; stderr: " << r.run.err);
  return r;
}

ProcessResult replay(const std::string& trace) {
  // stdin is closed at once: the replay must need nothing from the host.
  return run_process({rewind_binary(), "replay", trace, "-serial", "stdio"}, {}, kReplayTimeout);
}

std::string console_input_bytes(const TraceContents& t) {
  std::string s;
  for (const tr::Event& e : t.events)
    if (const auto* in = std::get_if<tr::ConsoleInput>(&e.data)) s += char(in->byte);
  return s;
}

// The expected console output of the guest as this test runs it.
std::optional<std::string> expected_output(const GuestSpec& g) {
  if (g.name == "checksum" && g.append == kChecksumAppend) {
    // The build's host twin of the guest prints what it prints for any rounds=.
    std::string tool = (fs::path(g.expected_file).parent_path() / "checksum_expected").string();
    if (access(tool.c_str(), X_OK) != 0) return std::nullopt;
    ProcessResult r = run_process({tool, g.append}, {}, 20);
    BOOST_TEST_REQUIRE((!r.timed_out && r.exit_status == 0), tool << " failed: " << r.err);
    return r.out;
  }
  return read_file(g.expected_file);
}

// Checks one replay against the recording it replays.
void check_clean_replay(const std::string& what, const ProcessResult& recorded, const ProcessResult& replayed) {
  BOOST_TEST(!replayed.timed_out, what << ": replay did not finish");
  BOOST_TEST(replayed.err.find("diverged") == std::string::npos, what << ": " << replayed.err);
  BOOST_TEST(replayed.err.find("rewind:") == std::string::npos,
             what << ": a clean replay should have nothing to say, but said: " << replayed.err);
  BOOST_TEST(replayed.out == recorded.out,
             what << ": console output differs from the recording's " << first_difference(recorded.out, replayed.out));
  BOOST_TEST(replayed.exit_status == recorded.exit_status,
             what << ": exit status " << replayed.exit_status << ", recorded " << recorded.exit_status
                  << "; stderr: " << replayed.err);
}

// The first `rewind:` line of stderr must be the only line: one-line errors.
void check_one_line(const std::string& what, const std::string& err) {
  BOOST_TEST(err.rfind("rewind: ", 0) == 0, what << ": stderr should start with 'rewind: ': " << err);
  BOOST_TEST(line_count(err) == 1u, what << ": expected a one-line message, got: " << err);
}

}  // namespace

// ---- one guest: record with jittered input, replay three times ------------

BOOST_AUTO_TEST_SUITE(guest)

BOOST_AUTO_TEST_CASE(record_then_replay_three_times) {
  GuestSpec g = spec_from_arguments();
  if (g.name == "checksum" && g.append.empty()) g.append = kChecksumAppend;
  const std::string input = g.serial_input.empty() ? std::string() : read_file(g.serial_input);
  const std::optional<std::string> expected = expected_output(g);
  const uint64_t seed = announce_seed(g.name);
  TempDir dir(g.name);

  Recording rec = record(g, g.image, dir.file(g.name + ".rwt"), kCheckpointInterval, input, seed);
  TraceContents t = load_trace(rec.trace);
  if (t.checkpoints.size() < kWantCheckpoints && !t.events.empty()) {
    // A short guest: record it again with checkpoints a few thousand
    // instructions apart, so replay passes several of them.
    uint64_t length = t.events.back().icount;
    uint64_t interval = std::max<uint64_t>(500, length / (kWantCheckpoints + 1));
    std::cout << g.name << ": " << length << " instructions, " << t.checkpoints.size()
              << " checkpoint(s) at interval " << kCheckpointInterval << "; recording again at interval " << interval
              << "\n";
    rec = record(g, g.image, dir.file(g.name + "_short.rwt"), interval, input, seed + 1);
    t = load_trace(rec.trace);
  }
  const std::string ctx = g.name + " (seed " + std::to_string(seed) + ", interval " + std::to_string(rec.interval) + ")";

  // What the user saw while recording is what `rewind run` shows.
  if (expected)
    BOOST_TEST(rec.run.out == *expected, ctx << ": recorded console output " << first_difference(*expected, rec.run.out));
  BOOST_TEST(rec.run.exit_status == g.exit_status,
             ctx << ": record exit status " << rec.run.exit_status << ", stderr: " << rec.run.err);
  BOOST_TEST(rec.run.err.find("warning") == std::string::npos, ctx << ": record warned: " << rec.run.err);

  // The trace: complete, several checkpoints, every input byte in order, and
  // the recorded end.
  BOOST_TEST(!t.truncated, ctx << ": the trace is not complete");
  BOOST_TEST(t.checkpoints.size() >= kWantCheckpoints, ctx << ": only " << t.checkpoints.size() << " checkpoints");
  BOOST_TEST_REQUIRE(!t.events.empty(), ctx << ": the trace has no events");
  for (size_t i = 1; i < t.checkpoints.size(); ++i)
    BOOST_TEST(t.checkpoints[i].icount > t.checkpoints[i - 1].icount, ctx << ": checkpoint " << i << " out of order");
  std::string logged = console_input_bytes(t);
  BOOST_TEST(input.compare(0, logged.size(), logged) == 0,
             ctx << ": the logged input bytes are not the bytes fed, in order " << first_difference(input, logged));
  if (!input.empty()) BOOST_TEST(!logged.empty(), ctx << ": no console input was logged");
  const auto* end = std::get_if<tr::RunEnd>(&t.events.back().data);
  BOOST_TEST_REQUIRE(end != nullptr, ctx << ": the last event is " << tr::event_kind_name(t.events.back().kind())
                                         << ", not run_end");
  BOOST_TEST(end->exit_status == g.exit_status, ctx << ": run_end records status " << end->exit_status);
  std::cout << ctx << ": " << t.events.back().icount << " instructions, " << t.events.size() << " events ("
            << logged.size() << " input bytes), " << t.checkpoints.size() << " checkpoints, record "
            << rec.run.seconds << " s\n";

  for (int i = 1; i <= 3; ++i) {
    ProcessResult r = replay(rec.trace);
    check_clean_replay(ctx + ", replay " + std::to_string(i), rec.run, r);
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ---- damaged recordings of serial_echo -------------------------------------

namespace {

// Each damage test starts from a fresh recording of the guest given on the
// command line (serial_echo, with its input).
struct EchoRecording {
  GuestSpec g;
  std::string input;
  uint64_t seed = 0;
  std::unique_ptr<TempDir> dir;
  Recording rec;

  EchoRecording() {
    g = spec_from_arguments();
    input = g.serial_input.empty() ? std::string() : read_file(g.serial_input);
    auto& unit = boost::unit_test::framework::current_test_case();
    seed = announce_seed(unit.p_name.get());
    dir = std::make_unique<TempDir>(unit.p_name.get());
    rec = record(g, g.image, dir->file("original.rwt"), kCheckpointInterval, input, seed);
    BOOST_TEST_REQUIRE(rec.run.exit_status == g.exit_status,
                       "record exit status " << rec.run.exit_status << ", stderr: " << rec.run.err);
  }

  std::string ctx() const { return g.name + " (seed " + std::to_string(seed) + ")"; }

  // Index in t.events of the first console input, which must exist.
  static size_t first_input(const TraceContents& t) {
    for (size_t i = 0; i < t.events.size(); ++i)
      if (t.events[i].kind() == tr::EventKind::kConsoleInput) return i;
    BOOST_TEST_REQUIRE(false, "the recording has no console input: the damage tests need a guest with input");
    return 0;
  }

  // A replay that must stop with a divergence at or after `earliest`.
  void check_diverged(const std::string& what, const ProcessResult& r, uint64_t earliest) {
    BOOST_TEST(!r.timed_out, what << ": replay did not finish");
    BOOST_TEST(r.exit_status == kExitDiverged, what << ": exit status " << r.exit_status << ", stderr: " << r.err);
    const std::string key = "rewind: diverged at icount ";
    size_t at = r.err.find(key);
    BOOST_TEST_REQUIRE(at != std::string::npos, what << ": no '" << key << "' in stderr: " << r.err);
    check_one_line(what, r.err);
    uint64_t icount = std::strtoull(r.err.c_str() + at + key.size(), nullptr, 10);
    BOOST_TEST(icount >= earliest, what << ": diverged at " << icount << ", before the damage at " << earliest);
    std::cout << what << ": " << r.err;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(damage)

// The control for the rewriting tests below: a trace read and written back
// unchanged replays as cleanly as the original, so what they see comes from
// their damage and not from the rewriting.
BOOST_FIXTURE_TEST_CASE(rewritten_unchanged_replays_cleanly, EchoRecording) {
  TraceContents t = load_trace(rec.trace);
  std::string copy = dir->file("rewritten.rwt");
  write_trace(copy, t);
  TraceContents back = load_trace(copy);
  BOOST_TEST(bool(back.events == t.events), ctx() << ": events differ after a rewrite");
  BOOST_TEST(bool(back.checkpoints == t.checkpoints), ctx() << ": checkpoints differ after a rewrite");
  BOOST_TEST(bool(back.header.machine == t.header.machine), ctx() << ": the machine differs after a rewrite");
  BOOST_TEST(bool(back.header.images == t.header.images), ctx() << ": the images differ after a rewrite");
  BOOST_TEST(bool(back.header.initial_digest == t.header.initial_digest), ctx() << ": the initial digest differs");
  check_clean_replay(ctx() + ", original", rec.run, replay(rec.trace));
  check_clean_replay(ctx() + ", rewritten", rec.run, replay(copy));
}

BOOST_FIXTURE_TEST_CASE(one_input_byte_changed, EchoRecording) {
  TraceContents t = load_trace(rec.trace);
  size_t i = first_input(t);
  auto& in = std::get<tr::ConsoleInput>(t.events[i].data);
  // Another letter, so the echoed byte (upper-cased) differs too.
  uint8_t was = in.byte;
  in.byte = was == 'Q' ? 'R' : 'Q';
  std::string damaged = dir->file("byte_changed.rwt");
  write_trace(damaged, t);
  ProcessResult r = replay(damaged);
  check_diverged(ctx() + ", input byte at icount " + std::to_string(t.events[i].icount) + " changed from " +
                     std::to_string(was) + " to " + std::to_string(in.byte),
                 r, t.events[i].icount);
}

BOOST_FIXTURE_TEST_CASE(one_input_event_removed, EchoRecording) {
  TraceContents t = load_trace(rec.trace);
  size_t i = first_input(t);
  uint64_t icount = t.events[i].icount;
  t.events.erase(t.events.begin() + std::ptrdiff_t(i));
  std::string damaged = dir->file("event_removed.rwt");
  write_trace(damaged, t);
  ProcessResult r = replay(damaged);
  check_diverged(ctx() + ", input event at icount " + std::to_string(icount) + " removed", r, icount);
}

BOOST_FIXTURE_TEST_CASE(file_cut_short, EchoRecording) {
  const std::string whole = read_file(rec.trace);
  uint64_t recorded_end = load_trace(rec.trace).events.back().icount;
  // 60% and 90% cut through the frames of the run's later part.
  for (size_t cut : {whole.size() * 6 / 10, whole.size() * 9 / 10}) {
    const std::string what = ctx() + ", cut to " + std::to_string(cut) + " of " + std::to_string(whole.size()) + " bytes";
    std::string damaged = dir->file("cut_" + std::to_string(cut) + ".rwt");
    write_file(damaged, whole.substr(0, cut));
    std::unique_ptr<tr::TraceReader> reader = tr::TraceReader::open(damaged);
    BOOST_TEST(reader->truncated(), what << ": the reader did not notice the cut");
    BOOST_TEST(reader->readable_end() <= cut, what);
    uint64_t last_event = 0;
    while (std::optional<tr::Event> e = reader->next()) last_event = e->icount;
    ProcessResult r = replay(damaged);
    BOOST_TEST(!r.timed_out, what << ": replay did not finish");
    BOOST_TEST(r.exit_status < 128, what << ": replay died of signal " << r.exit_status - 128);
    BOOST_TEST(r.exit_status == kExitOk, what << ": exit status " << r.exit_status << ", stderr: " << r.err);
    const std::string key = "rewind: the trace ends at icount ";
    size_t at = r.err.find(key);
    BOOST_TEST(at != std::string::npos, what << ": replay did not say where the trace ends: " << r.err);
    BOOST_TEST(r.err.find("cut short") != std::string::npos, what << ": " << r.err);
    BOOST_TEST(r.err.find("diverged") == std::string::npos, what << ": " << r.err);
    check_one_line(what, r.err);
    if (at != std::string::npos) {
      uint64_t icount = std::strtoull(r.err.c_str() + at + key.size(), nullptr, 10);
      BOOST_TEST(icount <= recorded_end, what << ": ends at " << icount << ", past the recording's end " << recorded_end);
      // Replay runs at least to the last readable event (and on to the last
      // readable checkpoint; test_replay_seek checks that exact point).
      BOOST_TEST(icount >= last_event, what << ": stopped at " << icount << " before the last readable event at "
                                            << last_event);
      BOOST_TEST(icount <= reader->last_icount(), what << ": ran to " << icount << ", past the readable part's end "
                                                       << reader->last_icount());
    }
    BOOST_TEST(r.err.find("byte " + std::to_string(reader->readable_end())) != std::string::npos,
               what << ": the message does not name the end of the readable part (" << reader->readable_end()
                    << "): " << r.err);
    // What it printed is the beginning of what the recording printed.
    BOOST_TEST(rec.run.out.compare(0, r.out.size(), r.out) == 0,
               what << ": output is not a prefix of the recording's " << first_difference(rec.run.out, r.out));
    std::cout << what << ": " << r.err;
  }
  // Without its last byte the trailer is gone but every frame is whole, the
  // run's end included: the whole run replays.
  std::string damaged = dir->file("no_trailer.rwt");
  write_file(damaged, whole.substr(0, whole.size() - 1));
  BOOST_TEST(tr::TraceReader::open(damaged)->truncated(), ctx() << ": the reader did not notice the missing trailer");
  check_clean_replay(ctx() + ", trailer cut", rec.run, replay(damaged));
}

BOOST_FIXTURE_TEST_CASE(frame_payload_corrupted, EchoRecording) {
  std::vector<tr::FrameRef> frames;
  std::vector<tr::TraceReader::FrameSizes> sizes;
  {
    std::unique_ptr<tr::TraceReader> reader = tr::TraceReader::open(rec.trace);
    frames = reader->frames();
    for (size_t i = 0; i < frames.size(); ++i) sizes.push_back(reader->frame_sizes(i));
  }
  BOOST_TEST_REQUIRE(frames.size() >= 3u);
  const std::string whole = read_file(rec.trace);
  // One frame of each kind, each in the middle of the file's frames of that kind.
  for (tr::FrameKind kind : {tr::FrameKind::kEvents, tr::FrameKind::kCheckpoint}) {
    std::vector<size_t> of_kind;
    for (size_t i = 0; i < frames.size(); ++i)
      if (frames[i].kind == kind) of_kind.push_back(i);
    BOOST_TEST_REQUIRE(!of_kind.empty());
    size_t f = of_kind[of_kind.size() / 2];
    uint64_t at = frames[f].offset + tr::kFrameHeaderSize + sizes[f].compressed / 2;
    const std::string what = ctx() + ", byte " + std::to_string(at) + " flipped in the payload of the " +
                             (kind == tr::FrameKind::kEvents ? "event" : "checkpoint") + " frame at " +
                             std::to_string(frames[f].offset);
    std::string bytes = whole;
    bytes[at] = char(uint8_t(bytes[at]) ^ 0x10);
    std::string damaged = dir->file("flipped_" + std::to_string(at) + ".rwt");
    write_file(damaged, bytes);
    ProcessResult r = replay(damaged);
    BOOST_TEST(!r.timed_out, what << ": replay did not finish");
    BOOST_TEST(r.exit_status == kExitBadInput, what << ": exit status " << r.exit_status << ", stderr: " << r.err);
    BOOST_TEST(r.err.find("checksum") != std::string::npos, what << ": no 'checksum' in: " << r.err);
    BOOST_TEST(r.err.find(std::to_string(frames[f].offset)) != std::string::npos,
               what << ": the message does not name the frame's offset: " << r.err);
    check_one_line(what, r.err);
    std::cout << what << ": " << r.err;
  }
}

// A trace is self-contained: its initial checkpoint holds every page the
// loader wrote, so replay never reads the image files again (as rr copies
// what it recorded). Changing or removing them after recording changes
// nothing; the header still names what was loaded, with its SHA-256.
BOOST_AUTO_TEST_CASE(guest_image_changed_or_removed_after_recording) {
  GuestSpec g = spec_from_arguments();
  std::string input = g.serial_input.empty() ? std::string() : read_file(g.serial_input);
  uint64_t seed = announce_seed("guest_image_changed_or_removed_after_recording");
  TempDir dir("image");
  std::string image = dir.file(g.name + "_copy.elf");
  fs::copy_file(g.image, image);
  Recording rec = record(g, image, dir.file("image.rwt"), kCheckpointInterval, input, seed);
  BOOST_TEST_REQUIRE(rec.run.exit_status == g.exit_status, "record: " << rec.run.err);
  check_clean_replay(g.name + ", image untouched", rec.run, replay(rec.trace));

  TraceContents t = load_trace(rec.trace);
  BOOST_TEST_REQUIRE(t.header.images.size() >= 1u);
  BOOST_TEST(t.header.images[0].path == image);
  BOOST_TEST(t.header.images[0].size == fs::file_size(image));

  std::string bytes = read_file(image);
  bytes[bytes.size() / 2] = char(uint8_t(bytes[bytes.size() / 2]) ^ 0x01);
  write_file(image, bytes);
  check_clean_replay(g.name + ", one byte of the image changed", rec.run, replay(rec.trace));
  fs::remove(image);
  check_clean_replay(g.name + ", the image removed", rec.run, replay(rec.trace));
}

BOOST_AUTO_TEST_SUITE_END()
