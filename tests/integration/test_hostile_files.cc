// Files a user gets wrong: an output that is one of the inputs (by name,
// symbolic or hard link), FIFOs, devices and directories where a kernel,
// initrd or trace belongs, a huge sparse "kernel", a console that cannot be
// written (a full disk) or whose reader went away (`| head`), module
// arguments, images larger than a trace frame, and a recording replayed
// from another directory. Each gets one line and loses nothing; nothing
// hangs.
#define BOOST_TEST_MODULE hostile_files
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "tests/integration/hostile_guests.h"
#include "tests/integration/subprocess.h"
#include "tests/integration/test_files.h"
#include "tests/integration/trace_contents.h"

namespace fs = std::filesystem;
namespace hostile = rwd::testing::hostile;
using rwd::testing::build_mini_kernel;
using rwd::testing::guest_path;
using rwd::testing::MiniKernel;
using rwd::testing::ProcessOptions;
using rwd::testing::ProcessResult;
using rwd::testing::read_file;
using rwd::testing::rewind_binary;
using rwd::testing::run_process;
using rwd::testing::TempDir;
using rwd::testing::write_file;

namespace {

// Every command here is quick; this only turns a hang into a failure.
constexpr double kTimeout = 20;

ProcessResult rewind(std::vector<std::string> args, const std::string& cwd = {}) {
  ProcessOptions o;
  o.argv = std::move(args);
  o.argv.insert(o.argv.begin(), rewind_binary());
  o.timeout_seconds = kTimeout;
  o.working_directory = cwd;
  return run_process(o);
}

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// Bad input: status 2, one line starting "rewind: " and containing `needle`.
void expect_refused(const std::string& what, const ProcessResult& r, const std::string& needle) {
  BOOST_TEST(!r.timed_out, what << ": hung");
  BOOST_TEST(r.exit_status == 2, what << ": status " << r.exit_status << ", stderr: " << r.err);
  BOOST_TEST(r.err.rfind("rewind: ", 0) == 0u, what << ": " << r.err);
  BOOST_TEST(count(r.err, "\n") == 1u, what << ": not one line: " << r.err);
  BOOST_TEST(r.err.find(needle) != std::string::npos, what << ": '" << needle << "' not in: " << r.err);
}

std::string hello_copy(const TempDir& dir, const std::string& name = "k.elf") {
  std::string path = dir.file(name);
  fs::copy_file(guest_path("hello"), path, fs::copy_options::overwrite_existing);
  return path;
}


}  // namespace

BOOST_AUTO_TEST_CASE(an_output_that_is_an_input_is_refused_before_anything_is_written) {
  TempDir dir("outputs");
  std::string kernel = hello_copy(dir);
  const std::string original = read_file(kernel);
  fs::create_symlink(kernel, dir.file("link.elf"));
  fs::create_hard_link(kernel, dir.file("hard.elf"));
  std::string trace = dir.file("t.rwt");
  BOOST_TEST_REQUIRE(rewind({"record", "-o", trace, "-kernel", kernel, "-serial", "none"}).exit_status == 1);
  const std::string recorded = read_file(trace);

  struct Case {
    std::string what;
    std::vector<std::string> args;
    std::string needle;
  };
  std::vector<Case> cases = {
      {"record -o over the kernel", {"record", "-o", kernel, "-kernel", kernel}, "refusing to overwrite"},
      {"record -o over the kernel through a symlink", {"record", "-o", dir.file("link.elf"), "-kernel", kernel},
       "same file"},
      {"record -o over the kernel through a hard link", {"record", "-o", dir.file("hard.elf"), "-kernel", kernel},
       "same file"},
      {"record -o over an initrd", {"record", "-o", dir.file("hard.elf"), "-kernel", guest_path("hello"), "-initrd",
                                    kernel + " args"}, "same file"},
      {"record -serial file: over the kernel",
       {"record", "-o", dir.file("new.rwt"), "-kernel", kernel, "-serial", "file:" + dir.file("link.elf")}, "same file"},
      {"run -serial file: over the kernel", {"run", "-kernel", dir.file("hard.elf"), "-serial", "file:" + kernel},
       "same file"},
      {"run -serial file: over its own input",
       {"run", "-kernel", guest_path("hello"), "-serial", "file:" + kernel + ",input=" + dir.file("link.elf")},
       "same file"},
      {"replay -serial file: over the trace", {"replay", trace, "-serial", "file:" + trace}, "same file"},
      {"record with the trace and the console in one file",
       {"record", "-o", dir.file("both"), "-kernel", kernel, "-serial", "file:" + dir.file("./both")},
       "are the same file"},
  };
  for (const Case& c : cases) {
    ProcessResult r = rewind(c.args);
    expect_refused(c.what, r, c.needle);
    BOOST_TEST(read_file(kernel) == original, c.what << ": the kernel was changed");
    BOOST_TEST(read_file(trace) == recorded, c.what << ": the trace was changed");
  }
  BOOST_TEST(!fs::exists(dir.file("new.rwt")), "a refused record created its trace");
  BOOST_TEST(!fs::exists(dir.file("both")), "a refused record created its trace");
}

BOOST_AUTO_TEST_CASE(fifos_devices_and_directories_are_not_images_or_traces) {
  TempDir dir("special");
  std::string fifo = dir.file("fifo");
  BOOST_TEST_REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  std::string kernel = guest_path("hello");
  for (const std::string& special : {fifo, std::string("/dev/zero"), std::string("/dev/urandom"), dir.file("")}) {
    expect_refused("kernel " + special, rewind({"run", "-kernel", special}), "not a file");
    expect_refused("initrd " + special, rewind({"run", "-kernel", kernel, "-initrd", special}), "not a file");
    expect_refused("record's kernel " + special, rewind({"record", "-o", dir.file("x.rwt"), "-kernel", special}),
                   "not a file");
    expect_refused("trace " + special, rewind({"replay", special}), "not a");
    expect_refused("trace info " + special, rewind({"trace", "info", special}), "not a");
  }
}

BOOST_AUTO_TEST_CASE(a_huge_sparse_kernel_is_refused_from_its_size) {
  TempDir dir("sparse");
  std::string sparse = dir.file("sparse.bin");
  {
    std::ofstream(sparse).put('\0');
  }
  fs::resize_file(sparse, 4ull << 30);
  ProcessResult r = rewind({"run", "-kernel", sparse});
  expect_refused("a 4 GiB sparse kernel", r, "more than the");
  BOOST_TEST(r.seconds < 5.0, "took " << r.seconds << " s to refuse");
  r = rewind({"record", "-o", dir.file("s.rwt"), "-kernel", sparse});
  expect_refused("a 4 GiB sparse kernel under record", r, "more than the");
  BOOST_TEST(r.seconds < 5.0, "record took " << r.seconds << " s to refuse");
}

BOOST_AUTO_TEST_CASE(a_console_that_cannot_be_written_is_reported_once_and_fails_the_command) {
  TempDir dir("full");
  std::string trace = dir.file("h.rwt");
  for (std::vector<std::string> args :
       {std::vector<std::string>{"run", "-kernel", guest_path("hello"), "-serial", "file:/dev/full"},
        std::vector<std::string>{"record", "-o", trace, "-kernel", guest_path("hello"), "-serial", "file:/dev/full"},
        std::vector<std::string>{"replay", trace, "-serial", "file:/dev/full"}}) {
    ProcessResult r = rewind(args);
    std::string what = args[0] + " -serial file:/dev/full";
    BOOST_TEST(!r.timed_out, what);
    BOOST_TEST(r.exit_status == 2, what << ": status " << r.exit_status << ", stderr: " << r.err);
    BOOST_TEST(count(r.err, "No space left on device") == 1u, what << ": " << r.err);
  }
}

BOOST_AUTO_TEST_CASE(a_reader_that_goes_away_ends_the_run_quietly) {
  TempDir dir("pipe");
  std::string kernel = rwd::testing::write_mini_kernel(dir.file("printer.elf"), hostile::printer());
  std::string trace = dir.file("printer.rwt");
  ProcessOptions rec;
  rec.argv = {rewind_binary(), "record", "-o", trace, "-kernel", kernel, "-serial", "none"};
  rec.signal = SIGTERM;
  rec.signal_after_seconds = 0.5;
  rec.timeout_seconds = kTimeout;
  BOOST_TEST_REQUIRE(run_process(rec).exit_status == 0);
  for (std::vector<std::string> args : {std::vector<std::string>{"run", "-kernel", kernel},
                                        std::vector<std::string>{"record", "-o", dir.file("p2.rwt"), "-kernel", kernel},
                                        std::vector<std::string>{"replay", trace}}) {
    ProcessOptions o;
    o.argv = args;
    o.argv.insert(o.argv.begin(), rewind_binary());
    o.close_stdout_after = 100;  // `| head -c 100`
    o.timeout_seconds = kTimeout;
    ProcessResult r = run_process(o);
    std::string what = args[0] + " | head -c 100";
    BOOST_TEST(!r.timed_out, what << ": did not end");
    BOOST_TEST(r.exit_status == 0, what << ": status " << r.exit_status << ", stderr: " << r.err);
    BOOST_TEST(r.err.empty(), what << ": " << r.err);
  }
  // The recording ended that way replays to its end.
  ProcessResult again = rewind({"replay", dir.file("p2.rwt"), "-serial", "none"});
  BOOST_TEST(again.exit_status == 0, again.err);
  BOOST_TEST(again.err.empty(), again.err);
}

BOOST_AUTO_TEST_CASE(module_arguments_work_alike_in_run_and_record) {
  TempDir dir("modargs");
  std::string module = dir.file("mod.txt");
  write_file(module, "first module: alpha\n");
  std::string entry = module + " arg=1 other";
  ProcessResult run = rewind({"run", "-kernel", guest_path("hello"), "-initrd", entry, "-serial", "stdio"});
  BOOST_TEST(run.exit_status == 1, run.err);
  std::string trace = dir.file("m.rwt");
  ProcessResult rec = rewind({"record", "-o", trace, "-kernel", guest_path("hello"), "-initrd", entry});
  BOOST_TEST(rec.exit_status == 1, rec.err);
  BOOST_TEST(rec.out == run.out);
  rwd::testing::TraceContents t = rwd::testing::load_trace(trace);
  BOOST_TEST_REQUIRE(t.header.images.size() == 2u);
  BOOST_TEST(t.header.images[1].path == module);
  BOOST_TEST(t.header.machine.initrd.at(0) == entry);
  ProcessResult rep = rewind({"replay", trace});
  BOOST_TEST(rep.exit_status == 1, rep.err);
  BOOST_TEST(rep.out == run.out);
}

BOOST_AUTO_TEST_CASE(an_initrd_larger_than_a_trace_frame_records_and_replays) {
  TempDir dir("bigimage");
  // 40 MiB of noise: the initial checkpoint needs three page frames.
  std::string module = dir.file("big.img");
  {
    std::mt19937_64 rng(42);
    std::string bytes(40u << 20, '\0');
    for (size_t i = 0; i < bytes.size(); i += 8) {
      uint64_t v = rng();
      std::memcpy(&bytes[i], &v, 8);
    }
    write_file(module, bytes);
  }
  std::string trace = dir.file("big.rwt");
  ProcessResult rec = rewind({"record", "-o", trace, "-kernel", guest_path("hello"), "-initrd", module});
  BOOST_TEST_REQUIRE(rec.exit_status == 1, rec.err);
  auto reader = rwd::traces::TraceReader::open(trace);
  size_t page_frames = 0;
  for (const auto& f : reader->frames()) page_frames += f.kind == rwd::traces::FrameKind::kCheckpointPages;
  BOOST_TEST(page_frames >= 2u);
  ProcessResult rep = rewind({"replay", trace});
  BOOST_TEST(rep.exit_status == 1, rep.err);
  BOOST_TEST(rep.out == rec.out);
  BOOST_TEST(rep.err.empty(), rep.err);
}

BOOST_AUTO_TEST_CASE(a_recording_with_relative_paths_replays_from_another_directory) {
  TempDir dir("relative");
  fs::create_directories(dir.file("a"));
  fs::create_directories(dir.file("b"));
  hello_copy(dir, "a/k.elf");
  write_file(dir.file("a/mod.txt"), "first module: alpha\n");
  ProcessResult rec = rewind({"record", "-o", "t.rwt", "-kernel", "k.elf", "-initrd", "mod.txt"}, dir.file("a"));
  BOOST_TEST_REQUIRE(rec.exit_status == 1, rec.err);
  // From another directory, with the images gone: the trace holds what was loaded.
  fs::remove(dir.file("a/k.elf"));
  ProcessResult rep = rewind({"replay", "../a/t.rwt"}, dir.file("b"));
  BOOST_TEST(rep.exit_status == 1, rep.err);
  BOOST_TEST(rep.out == rec.out);
  BOOST_TEST(rep.err.empty(), rep.err);
}
