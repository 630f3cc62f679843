// Traces and flags that are wrong on purpose or by accident, with every
// checksum valid: a header whose guest RAM is absurd, whose initrd is
// /dev/zero, whose machine has thousands of devices, whose strings are
// arbitrary bytes; checkpoints whose state was changed (with and without a
// matching digest); numbers that are negative, huge or not numbers; seeks
// past the end of complete and cut traces. Each ends in one line and a
// status below 124, fast; none hangs, aborts or replays something else.
#define BOOST_TEST_MODULE hostile_traces
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "core/machine.h"
#include "core/x86_cpu_state_io.h"
#include "replay/state_digest.h"
#include "tests/integration/hostile_guests.h"
#include "tests/integration/json_check.h"
#include "tests/integration/subprocess.h"
#include "tests/integration/test_files.h"
#include "tests/integration/trace_contents.h"
#include "traces/trace_info.h"

namespace fs = std::filesystem;
namespace tr = rwd::traces;
namespace core = rwd::core;
using rwd::testing::guest_path;
using rwd::testing::load_trace;
using rwd::testing::ProcessOptions;
using rwd::testing::ProcessResult;
using rwd::testing::read_file;
using rwd::testing::rewind_binary;
using rwd::testing::run_process;
using rwd::testing::TempDir;
using rwd::testing::TraceContents;
using rwd::testing::write_file;
using rwd::testing::write_trace;

namespace {

constexpr double kTimeout = 30;

ProcessResult rewind(std::vector<std::string> args, const std::string& stdin_data = {}) {
  args.insert(args.begin(), rewind_binary());
  return run_process(args, stdin_data, kTimeout);
}

size_t lines(const std::string& s) { return size_t(std::count(s.begin(), s.end(), '\n')); }

void expect_status(const std::string& what, const ProcessResult& r, int status, const std::string& needle) {
  BOOST_TEST(!r.timed_out, what << ": hung");
  BOOST_TEST(r.exit_status == status, what << ": status " << r.exit_status << ", stderr: " << r.err);
  BOOST_TEST(r.err.rfind("rewind: ", 0) == 0u, what << ": " << r.err);
  BOOST_TEST(lines(r.err) == 1u, what << ": not one line: " << r.err);
  BOOST_TEST(r.err.find(needle) != std::string::npos, what << ": '" << needle << "' not in: " << r.err);
}

// serial_echo recorded with its input and checkpoints every 20000
// instructions, so a trace with many checkpoints and events.
struct EchoTrace {
  TempDir dir{"hostile_traces"};
  std::string trace = dir.file("echo.rwt");
  ProcessResult recorded;
  EchoTrace() {
    std::string input = read_file(std::string(REWIND_SOURCE_DIR) + "/tests/guests/serial_echo.input");
    recorded = rewind({"record", "-o", trace, "--checkpoint-interval", "20000", "-kernel", guest_path("serial_echo"),
                       "-serial", "stdio"},
                      input);
    BOOST_TEST_REQUIRE(recorded.exit_status == 1, "record: " << recorded.err);
  }
  std::string variant(const std::string& name, const TraceContents& t) const {
    std::string path = dir.file(name + ".rwt");
    write_trace(path, t);
    return path;
  }
};

// The registers part of a state digest (the pages part depends on RAM, which
// a changed CPU state does not touch).
tr::Bytes registers_digest(const core::X86CpuState& cpu) {
  core::Machine scratch(2u << 20);
  return rwd::replay::compute_digest(cpu, scratch).registers;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(header, EchoTrace)

BOOST_AUTO_TEST_CASE(an_absurd_guest_ram_size_is_refused) {
  for (uint64_t ram : {uint64_t(0), uint64_t(4096), uint64_t(1) << 47, (uint64_t(1) << 47) + 4096,
                       uint64_t(1) << 63, ~uint64_t(0), (uint64_t(128) << 20) + 1}) {
    TraceContents t = load_trace(trace);
    t.header.machine.ram_size = ram;
    std::string path = variant("ram", t);
    expect_status("ramSize " + std::to_string(ram), rewind({"replay", path}), 2, "guest RAM");
    expect_status("ramSize " + std::to_string(ram) + ", --to", rewind({"replay", path, "--to", "100"}), 2, "guest RAM");
  }
}

BOOST_AUTO_TEST_CASE(header_paths_are_never_read_by_replay) {
  // The initial checkpoint holds what was loaded: a kernel and initrd that
  // are devices (or nothing) cannot make replay read them.
  TraceContents t = load_trace(trace);
  t.header.machine.kernel = "/dev/zero";
  t.header.machine.initrd = {"/dev/zero", "/dev/urandom args"};
  t.header.machine.serial.input_path = "/dev/zero";
  ProcessResult r = rewind({"replay", variant("paths", t)});
  BOOST_TEST(!r.timed_out);
  BOOST_TEST(r.exit_status == 1, r.err);
  BOOST_TEST(r.out == recorded.out);
  BOOST_TEST(r.err.empty(), r.err);
}

BOOST_AUTO_TEST_CASE(an_unknown_accelerator_or_digest_algorithm_is_refused) {
  TraceContents t = load_trace(trace);
  t.header.machine.accel = "hvf";
  expect_status("accel hvf", rewind({"replay", variant("accel", t)}), 2, "accelerator");
  t = load_trace(trace);
  t.header.digest_algorithm = "md5";
  expect_status("digest md5", rewind({"replay", variant("digest", t)}), 2, "md5");
}

BOOST_AUTO_TEST_CASE(thousands_of_devices_build_in_no_time) {
  // A machine with 2000 debug-exit devices, recorded and replayed for real.
  std::vector<std::string> args = {"record", "-o", dir.file("many.rwt"), "-kernel", guest_path("hello"),
                                   "-serial", "none"};
  for (int i = 0; i < 2000; ++i) {
    char device[64];
    std::snprintf(device, sizeof device, "isa-debug-exit,iobase=0x%x,iosize=1", 0x1000 + i);
    args.insert(args.end(), {"-device", device});
  }
  ProcessResult rec = rewind(args);
  BOOST_TEST(!rec.timed_out);
  BOOST_TEST(rec.seconds < 10.0, "record took " << rec.seconds << " s");
  ProcessResult rep = rewind({"replay", dir.file("many.rwt"), "-serial", "none"});
  BOOST_TEST(!rep.timed_out);
  BOOST_TEST(rep.exit_status == rec.exit_status, rep.err);
  BOOST_TEST(rep.seconds < 10.0, "replay took " << rep.seconds << " s");
  std::cout << "2000 devices: record " << rec.seconds << " s, replay " << rep.seconds << " s\n";
}

BOOST_AUTO_TEST_CASE(arbitrary_bytes_in_header_strings_are_shown_safely) {
  TraceContents t = load_trace(trace);
  std::string all;
  for (int i = 0; i < 256; ++i) all += char(i);
  all += "\xe2\x82\xac \xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf";  // a euro sign; a surrogate, > U+10FFFF, overlong
  t.header.machine.kernel = all;
  t.header.machine.append = all;
  t.header.machine.initrd = {all};
  t.header.command_line = {all, "\x1b[2J\x1b[31m"};
  t.header.rewind_version = all;
  t.header.images.at(0).path = all;
  t.header.machine.devices = {{all, {{all, all}}}};
  std::string path = variant("bytes", t);

  ProcessResult text = rewind({"trace", "info", path});
  BOOST_TEST(text.exit_status == 0, text.err);
  bool controls = std::any_of(text.out.begin(), text.out.end(), [](char c) {
    return (uint8_t(c) < 0x20 && c != '\n') || uint8_t(c) == 0x7f;
  });
  BOOST_TEST(!controls, "trace info printed control characters");
  BOOST_TEST(text.out.find("\\x1b[2J") != std::string::npos);
  BOOST_TEST(text.out.find("instructions:") != std::string::npos, "the output was cut short");

  ProcessResult json = rewind({"trace", "info", path, "--json"});
  BOOST_TEST(json.exit_status == 0, json.err);
  BOOST_TEST(rwd::testing::json_problem(json.out) == "", "invalid JSON: " << rwd::testing::json_problem(json.out));
  ProcessResult dump = rewind({"trace", "dump", path, "--json"});
  BOOST_TEST(dump.exit_status == 0, dump.err);
  size_t start = 0;
  for (size_t end; (end = dump.out.find('\n', start)) != std::string::npos; start = end + 1) {
    std::string line = dump.out.substr(start, end - start);
    BOOST_TEST(rwd::testing::json_problem(line) == "", "invalid JSON line: " << line);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(checkpoints, EchoTrace)

BOOST_AUTO_TEST_CASE(a_halted_state_that_cannot_reach_the_next_event_is_a_divergence) {
  // Checkpoint 1 is in the polled phase (no interrupt enabled, no timer): a
  // vCPU halted there with interrupts on can never wake. The digest is made
  // to match, so only the replay itself can notice.
  TraceContents t = load_trace(trace);
  BOOST_TEST_REQUIRE(t.checkpoints.size() >= 3u);
  tr::Checkpoint& cp = t.checkpoints[1];
  core::StateReader in(cp.cpu_state.data(), cp.cpu_state.size(), "cpu");
  core::X86CpuState cpu = core::load_cpu_state(in);
  cpu.halted = true;
  cpu.rflags |= core::rflags::kIf;
  core::StateWriter out;
  core::save_cpu_state(cpu, out);
  cp.cpu_state = out.take();
  cp.digest.registers = registers_digest(cpu);
  std::string path = variant("halted", t);
  uint64_t to = cp.icount + 1;
  ProcessResult r = rewind({"replay", path, "--to", std::to_string(to), "-serial", "none"});
  expect_status("replay --to past a halted checkpoint", r, 8, "nothing can wake the guest");
}

BOOST_AUTO_TEST_CASE(an_answer_due_while_the_guest_is_halted_is_a_divergence) {
  // serial_echo's second phase halts waiting for each byte: an answer
  // (wall clock) in place of the last byte is due at a point where no
  // instruction can run to ask for it. (Found by fuzz_trace_replay: replay
  // spun there forever.)
  TraceContents t = load_trace(trace);
  auto last_input = std::find_if(t.events.rbegin(), t.events.rend(),
                                 [](const tr::Event& e) { return e.kind() == tr::EventKind::kConsoleInput; });
  BOOST_TEST_REQUIRE((last_input != t.events.rend()));
  last_input->data = tr::WallClock{12345};
  ProcessResult r = rewind({"replay", variant("answer", t), "-serial", "none"});
  expect_status("an answer due in a halt", r, 8, "nothing can wake the guest");
}

BOOST_AUTO_TEST_CASE(an_end_the_replay_runs_past_is_a_divergence) {
  // A guest exit recorded where the guest does not exit (the replay used to
  // run on, polling nothing, until killed). Found by fuzz_trace_replay.
  TraceContents t = load_trace(trace);
  size_t digest = 0;
  while (digest < t.events.size() && t.events[digest].kind() != tr::EventKind::kStateDigest) ++digest;
  BOOST_TEST_REQUIRE(digest < t.events.size());
  t.events[digest].data = tr::RunEnd{tr::StopReason::kGuestExit, 1, {}};
  ProcessResult r = rewind({"replay", variant("early_end", t), "-serial", "none"});
  expect_status("an end the guest does not reach", r, 8, "without reaching it");
}

BOOST_AUTO_TEST_CASE(a_checkpoint_that_does_not_match_its_digest_is_damage) {
  TraceContents t = load_trace(trace);
  BOOST_TEST_REQUIRE(t.checkpoints.size() >= 3u);
  tr::Checkpoint& cp = t.checkpoints[2];
  core::StateReader in(cp.cpu_state.data(), cp.cpu_state.size(), "cpu");
  core::X86CpuState cpu = core::load_cpu_state(in);
  cpu.gpr[core::kRcx] ^= 1;
  core::StateWriter out;
  core::save_cpu_state(cpu, out);
  cp.cpu_state = out.take();
  ProcessResult r = rewind({"replay", variant("rcx", t), "--to", std::to_string(cp.icount + 10), "-serial", "none"});
  expect_status("replay --to from a checkpoint changed behind its digest", r, 2, "register rcx");
}

BOOST_AUTO_TEST_CASE(a_checkpoint_in_an_unknown_cpu_layout_is_refused_and_older_labels_restore) {
  TraceContents t = load_trace(trace);
  BOOST_TEST_REQUIRE(t.checkpoints.size() >= 3u);
  tr::Checkpoint& cp = t.checkpoints[2];
  BOOST_TEST(cp.cpu_state_version == core::kCpuStateVersion);
  const std::string to = std::to_string(cp.icount + 10);

  cp.cpu_state_version = core::kCpuStateVersion + 1;
  ProcessResult newer = rewind({"replay", variant("newer_layout", t), "--to", to, "-serial", "none"});
  expect_status("replay --to from a checkpoint in a newer CPU layout", newer, 2,
                "CPU state version " + std::to_string(core::kCpuStateVersion + 1));

  // Traces written before layout 3 label every layout 1; the bytes say which.
  cp.cpu_state_version = 1;
  ProcessResult old_label = rewind({"replay", variant("old_label", t), "--to", to, "-serial", "none"});
  BOOST_TEST(old_label.exit_status == 0, old_label.err);
}

BOOST_AUTO_TEST_CASE(a_seek_past_the_end_fails_alike_for_complete_and_cut_traces) {
  TraceContents t = load_trace(trace);
  uint64_t end = t.events.back().icount;
  std::string past = std::to_string(end + 1000);
  ProcessResult complete = rewind({"replay", trace, "--to", past, "-serial", "none"});
  expect_status("--to past the end of a complete trace", complete, 2, "the recording ends at icount");
  std::string whole = read_file(trace);
  std::string cut = dir.file("cut.rwt");
  write_file(cut, whole.substr(0, whole.size() * 3 / 4));
  ProcessResult cut_short = rewind({"replay", cut, "--to", past, "-serial", "none"});
  expect_status("--to past the end of a cut trace", cut_short, 2, "the recording ends at icount");
  BOOST_TEST(cut_short.err.find("cut short") != std::string::npos, cut_short.err);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(a_guest_that_only_reads_the_rtc_replays) {
  // The guest of the report: out 0x70, in 0x71, exit. The wall clock is an
  // answer its third instruction asks for; replay used to stop before that
  // instruction with "expected a device to ask for wall_clock".
  TempDir dir("rtc_read");
  std::string kernel = rwd::testing::write_mini_kernel(dir.file("rtc.elf"), rwd::testing::hostile::rtc_read());
  std::string trace = dir.file("rtc.rwt");
  ProcessResult rec = rewind({"record", "-o", trace, "-kernel", kernel, "-serial", "none"});
  BOOST_TEST_REQUIRE(rec.exit_status == 1, rec.err);
  TraceContents t = load_trace(trace);
  BOOST_TEST_REQUIRE(t.events.size() >= 1u);
  BOOST_TEST(bool(t.events[0].kind() == tr::EventKind::kWallClock));
  BOOST_TEST(t.events[0].icount == 2u);  // asked by the third instruction
  for (std::vector<std::string> args : {std::vector<std::string>{"replay", trace},
                                        std::vector<std::string>{"replay", trace, "--to", "2"},
                                        std::vector<std::string>{"replay", trace, "--to", "3"}}) {
    ProcessResult r = rewind(args);
    BOOST_TEST(r.err.find("diverged") == std::string::npos, r.err);
    BOOST_TEST((r.exit_status == 1 || args.size() > 2), r.err);
  }
}

BOOST_AUTO_TEST_CASE(rdrand_values_are_recorded_and_replayed) {
  // RDRAND takes its values from the recorded entropy source: a replay prints
  // what the recording printed, and two recordings print different values.
  TempDir dir("rdrand");
  std::string kernel = rwd::testing::write_mini_kernel(dir.file("rdrand.elf"), rwd::testing::hostile::rdrand_printer());
  std::string trace = dir.file("r.rwt"), trace2 = dir.file("r2.rwt");
  std::string out = dir.file("rec.out"), out2 = dir.file("rec2.out"), replayed = dir.file("replay.out");
  ProcessResult rec = rewind({"record", "-o", trace, "-kernel", kernel, "-serial", "file:" + out});
  BOOST_TEST_REQUIRE(rec.exit_status == 1, rec.err);
  BOOST_TEST_REQUIRE(rewind({"record", "-o", trace2, "-kernel", kernel, "-serial", "file:" + out2}).exit_status == 1);
  TraceContents t = load_trace(trace);
  size_t randoms = 0;
  for (const auto& e : t.events) randoms += e.kind() == tr::EventKind::kRandom;
  BOOST_TEST(randoms == 8u);
  ProcessResult rep = rewind({"replay", trace, "-serial", "file:" + replayed});
  BOOST_TEST(rep.exit_status == 1, rep.err);
  std::string a = read_file(out), b = read_file(replayed), c = read_file(out2);
  BOOST_TEST(a.size() == 16u);
  BOOST_TEST(a == b);
  BOOST_TEST(a != c);
}

BOOST_AUTO_TEST_CASE(numbers_that_are_not_counts_are_refused) {
  TempDir dir("numbers");
  std::string trace = dir.file("h.rwt");
  BOOST_TEST_REQUIRE(rewind({"record", "-o", trace, "-kernel", guest_path("hello"), "-serial", "none"}).exit_status == 1);
  for (const char* bad : {"-5", "0", "abc", "1e5", " 10", "10 ", "0x10", "99999999999999999999999", ""}) {
    ProcessResult r = rewind({"record", "-o", dir.file("x.rwt"), "--checkpoint-interval", bad, "-kernel",
                              guest_path("hello")});
    expect_status(std::string("--checkpoint-interval '") + bad + "'", r, 2, "--checkpoint-interval");
    BOOST_TEST(!fs::exists(dir.file("x.rwt")));
  }
  for (const char* bad : {"-1", "abc", "1e5", "18446744073709551616", "+3", ""}) {
    ProcessResult r = rewind({"replay", trace, "--to", bad});
    expect_status(std::string("--to '") + bad + "'", r, 2, "--to");
  }
  // An I/O range that wraps around 2^64 is refused, in one number base.
  ProcessResult r = rewind({"run", "-kernel", guest_path("hello"), "-device",
                            "isa-debug-exit,iobase=2,iosize=18446744073709551615"});
  expect_status("iobase + iosize past 2^64", r, 2, "iosize=0xffffffffffffffff");
  BOOST_TEST(r.err.find("iobase 0x2") != std::string::npos, r.err);
}
