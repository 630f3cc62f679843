// Quit signals as a user sends them: Ctrl-C on the terminal, `kill`, a
// closed session. SIGINT, SIGTERM and SIGHUP must stop `rewind run`,
// `record` and `replay` promptly whatever the guest is doing (spinning,
// idle with a timer, halted waiting for input, one huge REP instruction,
// touching nothing but unassigned memory) and whatever the console is
// (stdin closed, -serial none, a terminal), and a recording ended so must
// replay to its end. The time from the signal to the exit is printed; the
// test only bounds it loosely (these machines are noisy).
#define BOOST_TEST_MODULE signals
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <iostream>
#include <string>
#include <vector>

#include "tests/integration/hostile_guests.h"
#include "tests/integration/mini_kernel.h"
#include "tests/integration/subprocess.h"
#include "tests/integration/test_files.h"
#include "tests/integration/trace_contents.h"

namespace hostile = rwd::testing::hostile;
namespace tr = rwd::traces;
using rwd::testing::build_mini_kernel;
using rwd::testing::MiniKernel;
using rwd::testing::ProcessOptions;
using rwd::testing::ProcessResult;
using rwd::testing::rewind_binary;
using rwd::testing::run_process;
using rwd::testing::TempDir;

namespace {

// Loose: the aim is ~100 ms; this only turns "ignored" into a failure.
constexpr double kMaxSignalToExitSeconds = 3.0;

struct Guest {
  const char* name;
  MiniKernel kernel;
};

std::vector<Guest> guests() {
  return {{"spin", hostile::spin()},
          {"idle_timer", hostile::idle_timer()},
          {"wait_for_input", hostile::wait_for_input()},
          {"rep_stos", hostile::rep_stos()},
          {"ram_eater", hostile::ram_eater()}};
}

const char* signal_name(int sig) { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP"; }

std::string write_kernel(const TempDir& dir, const Guest& g) {
  return rwd::testing::write_mini_kernel(dir.file(std::string(g.name) + ".elf"), g.kernel);
}

// Starts `argv`, sends `sig` once the guest has run for a while, and checks
// the command ended because of it, promptly and cleanly.
ProcessResult interrupt(const std::string& what, std::vector<std::string> argv, int sig, bool keep_stdin_open,
                        bool use_pty = false) {
  ProcessOptions o;
  o.argv = std::move(argv);
  o.signal = sig;
  o.signal_after_seconds = 0.4;
  o.keep_stdin_open = keep_stdin_open;
  o.use_pty = use_pty;
  o.timeout_seconds = 30;
  ProcessResult r = run_process(o);
  BOOST_TEST(!r.timed_out, what << ": did not stop after " << signal_name(sig) << "; stderr: " << r.err);
  BOOST_TEST(r.signal_sent, what << ": ended before the signal was sent (status " << r.exit_status << ", stderr: "
                                 << r.err << ")");
  BOOST_TEST(r.signal_to_exit_seconds < kMaxSignalToExitSeconds,
             what << ": " << r.signal_to_exit_seconds << " s from " << signal_name(sig) << " to exit");
  std::cout << what << ": " << signal_name(sig) << " to exit " << r.signal_to_exit_seconds * 1000 << " ms\n";
  return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(run_stops_on_every_quit_signal_whatever_the_guest_does) {
  TempDir dir("signals_run");
  for (const Guest& g : guests()) {
    std::string kernel = write_kernel(dir, g);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      // stdin closed (the guest's input has ended) and -serial none: the two
      // consoles on which signals used to be ignored. A guest waiting for
      // input has its stdin open (with none it ends at once: nothing can
      // wake it).
      bool waits = std::string(g.name) == "wait_for_input";
      for (bool serial_none : {false, true}) {
        if (waits && serial_none) continue;
        std::string what = std::string("run ") + g.name +
                           (serial_none ? " -serial none" : waits ? " <open pipe" : " </dev/null");
        std::vector<std::string> argv = {rewind_binary(), "run", "-kernel", kernel, "-serial",
                                         serial_none ? "none" : "stdio"};
        ProcessResult r = interrupt(what, argv, sig, waits);
        BOOST_TEST(r.exit_status == 0, what << ": status " << r.exit_status << ", stderr: " << r.err);
        BOOST_TEST(r.err.empty(), what << ": stderr: " << r.err);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_recording_ended_by_a_signal_is_complete_and_replays_to_its_end) {
  TempDir dir("signals_record");
  for (const Guest& g : guests()) {
    std::string kernel = write_kernel(dir, g);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      std::string what = std::string("record ") + g.name;
      std::string trace = dir.file(std::string(g.name) + "_" + signal_name(sig) + ".rwt");
      // wait_for_input keeps its stdin open: the guest waits for input that
      // never comes, and only the signal can end the wait.
      bool open_stdin = std::string(g.name) == "wait_for_input";
      ProcessResult r = interrupt(what, {rewind_binary(), "record", "-o", trace, "-kernel", kernel, "-serial", "stdio"},
                                  sig, open_stdin);
      BOOST_TEST(r.exit_status == 0, what << ": status " << r.exit_status << ", stderr: " << r.err);
      BOOST_TEST(r.err.empty(), what << ": stderr: " << r.err);

      rwd::testing::TraceContents t = rwd::testing::load_trace(trace);
      BOOST_TEST(!t.truncated, what << ": the trace was not finished");
      BOOST_TEST_REQUIRE(!t.events.empty(), what << ": the trace has no events");
      const auto* end = std::get_if<tr::RunEnd>(&t.events.back().data);
      BOOST_TEST_REQUIRE(end != nullptr, what << ": the last event is not run_end");
      BOOST_TEST(bool(end->reason == tr::StopReason::kUserQuit), what << ": the recording ended for reason "
                                                                << tr::stop_reason_name(end->reason));

      ProcessResult replay = run_process({rewind_binary(), "replay", trace, "-serial", "none"}, {}, 60);
      BOOST_TEST(!replay.timed_out, what << ": replay did not finish");
      BOOST_TEST(replay.exit_status == 0, what << ": replay status " << replay.exit_status << ", stderr: " << replay.err);
      BOOST_TEST(replay.err.empty(), what << ": replay said: " << replay.err);
    }
  }
}

BOOST_AUTO_TEST_CASE(replay_stops_on_a_quit_signal_and_says_where) {
  TempDir dir("signals_replay");
  Guest g{"spin", hostile::spin()};
  std::string kernel = write_kernel(dir, g);
  std::string trace = dir.file("spin.rwt");
  // A long recording (a few hundred million instructions) to interrupt.
  ProcessOptions rec;
  rec.argv = {rewind_binary(), "record", "-o", trace, "-kernel", kernel, "-serial", "none"};
  rec.signal = SIGINT;
  rec.signal_after_seconds = 2.0;
  rec.timeout_seconds = 30;
  ProcessResult r = run_process(rec);
  BOOST_TEST_REQUIRE(r.exit_status == 0, "record: status " << r.exit_status << ", stderr: " << r.err);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    ProcessOptions o;
    o.argv = {rewind_binary(), "replay", trace, "-serial", "none"};
    o.signal = sig;
    o.signal_after_seconds = 0.2;
    o.timeout_seconds = 30;
    ProcessResult p = run_process(o);
    if (!p.signal_sent) {
      BOOST_TEST_MESSAGE("the replay ended before the signal: nothing to interrupt on this machine");
      continue;
    }
    std::string what = std::string("replay, ") + signal_name(sig);
    BOOST_TEST(!p.timed_out, what);
    BOOST_TEST(p.exit_status == 128 + sig, what << ": status " << p.exit_status << ", stderr: " << p.err);
    BOOST_TEST(p.err.find("rewind: replay interrupted at icount ") == 0u, what << ": " << p.err);
    BOOST_TEST(p.signal_to_exit_seconds < kMaxSignalToExitSeconds, what << ": " << p.signal_to_exit_seconds << " s");
    std::cout << what << ": to exit " << p.signal_to_exit_seconds * 1000 << " ms\n";
  }
}

BOOST_AUTO_TEST_CASE(the_terminal_is_restored_after_a_signal_and_after_an_error) {
  TempDir dir("signals_tty");
  std::string kernel = write_kernel(dir, Guest{"idle_timer", hostile::idle_timer()});
  // -serial stdio on a terminal: rewind makes it raw while the guest runs.
  for (const char* command : {"run", "record"}) {
    std::vector<std::string> argv = {rewind_binary(), command, "-kernel", kernel, "-serial", "stdio"};
    if (std::string(command) == "record") argv.insert(argv.begin() + 2, {"-o", dir.file("tty.rwt")});
    ProcessResult r = interrupt(std::string(command) + " on a terminal", argv, SIGTERM, false, true);
    BOOST_TEST(r.exit_status == 0, command << ": status " << r.exit_status << ", stderr: " << r.err);
    BOOST_TEST(r.terminal_restored, command << ": the terminal was left in raw mode");
  }
  // An error after the terminal went raw: guest RAM that the address-space
  // limit does not allow.
  ProcessOptions o;
  o.argv = {rewind_binary(), "record", "-o", dir.file("err.rwt"), "-kernel", kernel, "-serial", "stdio", "-m", "8G"};
  o.use_pty = true;
  o.address_space_limit = 4ull << 30;
  o.timeout_seconds = 30;
  ProcessResult r = run_process(o);
  BOOST_TEST(!r.timed_out);
  BOOST_TEST((r.exit_status == 2 || r.exit_status == 6), "status " << r.exit_status << ", stderr: " << r.err);
  BOOST_TEST(r.err.rfind("rewind: ", 0) == 0u, r.err);
  BOOST_TEST(r.terminal_restored, "the terminal was left in raw mode after: " << r.err);

  // Out of host memory in the middle of the run (std::bad_alloc, which used
  // to abort and leave the terminal raw): one line, status 6, the terminal
  // restored, and the trace finished with an `error` end that replays.
  std::string eater = write_kernel(dir, Guest{"ram_eater", hostile::ram_eater()});
  std::string trace = dir.file("oom.rwt");
  o.argv = {rewind_binary(), "record", "-o", trace, "-kernel", eater, "-serial", "stdio", "-m", "128M"};
  // Guest RAM and a little: the block cache cannot grow. How little depends
  // on the binary and its libraries, so the limit climbs until rewind starts.
  for (uint64_t extra = 8; extra <= 64; extra += 8) {
    o.address_space_limit = (128 + extra) << 20;
    r = run_process(o);
    if (r.exit_status != 2) break;  // 2: guest RAM could not even be reserved
  }
  BOOST_TEST(!r.timed_out);
  BOOST_TEST(r.exit_status == 6, "status " << r.exit_status << ", stderr: " << r.err);
  BOOST_TEST(r.err == "rewind: internal error: out of host memory\n", r.err);
  BOOST_TEST(r.terminal_restored, "the terminal was left in raw mode after running out of memory");
  rwd::testing::TraceContents t = rwd::testing::load_trace(trace);
  BOOST_TEST(!t.truncated, "the trace was not finished");
  BOOST_TEST_REQUIRE(!t.events.empty());
  const auto* end = std::get_if<tr::RunEnd>(&t.events.back().data);
  BOOST_TEST_REQUIRE(end != nullptr);
  BOOST_TEST(bool(end->reason == tr::StopReason::kError));
  ProcessResult replay = run_process({rewind_binary(), "replay", trace, "-serial", "none"}, {}, 60);
  BOOST_TEST(replay.exit_status == 6, replay.err);
  BOOST_TEST(replay.err.find("internal error") != std::string::npos, replay.err);
  BOOST_TEST(replay.err.find("diverged") == std::string::npos, replay.err);
}

// Typed input reaches the trace file while the guest idles, not only at the
// next checkpoint: a recorder killed (SIGKILL: no chance to finish the
// trace) while its guest waits keeps the bytes the guest had taken.
BOOST_AUTO_TEST_CASE(input_typed_while_the_guest_idles_survives_a_kill) {
  TempDir dir("signals_kill");
  Guest g{"wait_for_input", hostile::wait_for_input()};
  std::string kernel = write_kernel(dir, g);
  std::string trace = dir.file("killed.rwt");
  ProcessOptions o;
  o.argv = {rewind_binary(), "record", "-o", trace, "-kernel", kernel, "-serial", "stdio"};
  o.stdin_data = "x";
  o.keep_stdin_open = true;  // more input could come: the guest waits on
  o.signal = SIGKILL;
  o.signal_after_seconds = 1.5;
  o.timeout_seconds = 30;
  ProcessResult r = run_process(o);
  BOOST_TEST_REQUIRE(r.signal_sent, "the recorder ended before the kill: status " << r.exit_status << ", " << r.err);

  rwd::testing::TraceContents t = rwd::testing::load_trace(trace);
  BOOST_TEST(t.truncated);  // killed: no footer
  bool typed = false;
  for (const tr::Event& e : t.events)
    if (const auto* in = std::get_if<tr::ConsoleInput>(&e.data)) typed |= in->byte == 'x';
  BOOST_TEST(typed, "the byte typed before the kill is not in the trace (" << t.events.size() << " events)");
}
