// Host memory is bounded whatever the guest does: peak resident memory stays
// under guest RAM plus a fixed amount (docs/architecture.md, "Memory is
// bounded") for guests that attack it: one that runs through memory where
// every instruction touches unassigned addresses (each used to start a new
// cached block: ~0.7 GB/s until std::bad_alloc), one that rewrites all of its
// RAM between checkpoints, under run, record and replay.
#define BOOST_TEST_MODULE memory_bound
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <iostream>
#include <string>
#include <vector>

#include "tests/integration/hostile_guests.h"
#include "tests/integration/subprocess.h"
#include "tests/integration/test_files.h"

namespace hostile = rwd::testing::hostile;
using rwd::testing::build_mini_kernel;
using rwd::testing::MiniKernel;
using rwd::testing::ProcessOptions;
using rwd::testing::ProcessResult;
using rwd::testing::rewind_binary;
using rwd::testing::run_process;
using rwd::testing::TempDir;

namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGuestRam = 128 * kMiB;
constexpr uint64_t kFixedAllowance = rwd::testing::kHostMemoryAllowance;


// Runs argv for up to `seconds` (then SIGTERM) and checks its peak memory.
ProcessResult run_bounded(const std::string& what, std::vector<std::string> argv, double seconds) {
  ProcessOptions o;
  o.argv = std::move(argv);
  o.signal = SIGTERM;
  o.signal_after_seconds = seconds;
  o.timeout_seconds = seconds + 60;
  ProcessResult r = run_process(o);
  BOOST_TEST(!r.timed_out, what << ": did not finish");
  BOOST_TEST(r.exit_status < 124, what << ": status " << r.exit_status << ", stderr: " << r.err);
  BOOST_TEST(r.exit_status != 6, what << ": internal error: " << r.err);
  BOOST_TEST(r.peak_rss_bytes <= kGuestRam + kFixedAllowance,
             what << ": peak memory " << r.peak_rss_bytes / kMiB << " MiB, more than guest RAM ("
                  << kGuestRam / kMiB << " MiB) + " << kFixedAllowance / kMiB << " MiB");
  std::cout << what << ": peak memory " << r.peak_rss_bytes / kMiB << " MiB (guest RAM " << kGuestRam / kMiB
            << " MiB), status " << r.exit_status << "\n";
  return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_guest_touching_only_unassigned_memory_costs_bounded_memory) {
  TempDir dir("mem_eater");
  std::string kernel = rwd::testing::write_mini_kernel(dir.file("ram_eater"), hostile::ram_eater());
  std::string trace = dir.file("eater.rwt");
  run_bounded("run ram_eater", {rewind_binary(), "run", "-kernel", kernel, "-serial", "none", "-m", "128M"}, 4);
  run_bounded("record ram_eater",
              {rewind_binary(), "record", "-o", trace, "-kernel", kernel, "-serial", "none", "-m", "128M"}, 4);
  ProcessResult r = run_bounded("replay ram_eater", {rewind_binary(), "replay", trace, "-serial", "none"}, 60);
  BOOST_TEST(r.err.find("diverged") == std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(a_guest_rewriting_all_its_ram_costs_bounded_memory_under_record_and_replay) {
  TempDir dir("mem_dirtier");
  std::string kernel = rwd::testing::write_mini_kernel(dir.file("ram_dirtier"), hostile::ram_dirtier());
  std::string trace = dir.file("dirtier.rwt");
  run_bounded("record ram_dirtier",
              {rewind_binary(), "record", "-o", trace, "-kernel", kernel, "-serial", "none", "-m", "128M"}, 3);
  ProcessResult r = run_bounded("replay ram_dirtier", {rewind_binary(), "replay", trace, "-serial", "none"}, 60);
  BOOST_TEST(r.exit_status == 0, r.err);
  BOOST_TEST(r.err.empty(), r.err);
  // Halfway into the recording, however far 3 s of host time took it (a
  // loaded machine records fewer instructions): past several checkpoints.
  ProcessResult info = run_process({rewind_binary(), "trace", "info", trace}, {}, 60);
  const size_t at = info.out.find("instructions:");
  BOOST_TEST_REQUIRE(at != std::string::npos, info.out);
  const uint64_t recorded = std::stoull(info.out.substr(at + 13));
  BOOST_TEST_REQUIRE(recorded >= 30000000u, "only " << recorded << " instructions recorded in 3 s");
  const std::string target = std::to_string(recorded / 2);
  ProcessResult seek =
      run_bounded("seek in ram_dirtier", {rewind_binary(), "replay", trace, "-serial", "none", "--to", target}, 60);
  BOOST_TEST(seek.err.find("at icount " + target) != std::string::npos, seek.err);
}
