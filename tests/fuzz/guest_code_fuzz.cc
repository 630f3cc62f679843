// The guest-code fuzzer: random bytes run as 16-, 32- and 64-bit code inside
// the fuzz_harness guest (tests/guests/fuzz_harness.c), each variant
// recorded and then replayed by the real `rewind` binary. Every variant must
//  - end with a status below 124 other than 6 (no crash, no hang, no
//    internal error), the backstop signal included;
//  - stay within the memory bound (guest RAM + 256 MiB, docs/architecture.md);
//  - replay its own recording to the same status and console output, with
//    no divergence.
// It prints the outcomes by kind and exits 1 if any variant broke a rule;
// failing variants are kept (code, command, stderr) under --keep.
//
//   guest_code_fuzz --rewind BIN --harness ELF [--seed N] [--variants N]
//                   [--modes 16,32,64] [--keep DIR] [--backstop SECONDS]
//
// The test suite runs a bounded slice per mode; scripts/fuzz.sh runs long
// campaigns.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/mini_kernel.h"
#include "tests/integration/subprocess.h"

namespace fs = std::filesystem;
using rwd::testing::ProcessOptions;
using rwd::testing::ProcessResult;
using rwd::testing::run_process;

namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGuestRam = 32 * kMiB;
constexpr uint64_t kFixedAllowance = rwd::testing::kHostMemoryAllowance;

struct Options {
  std::string rewind;
  std::string harness;
  uint64_t seed = 1;
  unsigned variants = 30;
  std::vector<unsigned> modes = {16, 32, 64};
  std::string keep;
  double backstop = 2.0;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "guest_code_fuzz: " << why
            << "\nusage: guest_code_fuzz --rewind BIN --harness ELF [--seed N] [--variants N] [--modes 16,32,64]"
               " [--keep DIR] [--backstop SECONDS]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + ": missing value");
      return argv[++i];
    };
    if (a == "--rewind") o.rewind = value();
    else if (a == "--harness") o.harness = value();
    else if (a == "--seed") o.seed = std::strtoull(value().c_str(), nullptr, 0);
    else if (a == "--variants") o.variants = unsigned(std::strtoul(value().c_str(), nullptr, 0));
    else if (a == "--keep") o.keep = value();
    else if (a == "--backstop") o.backstop = std::strtod(value().c_str(), nullptr);
    else if (a == "--modes") {
      o.modes.clear();
      std::stringstream in(value());
      for (std::string m; std::getline(in, m, ',');) {
        unsigned mode = unsigned(std::strtoul(m.c_str(), nullptr, 10));
        if (mode != 16 && mode != 32 && mode != 64) usage("--modes: 16, 32 or 64, not " + m);
        o.modes.push_back(mode);
      }
    } else {
      usage("unknown option " + a);
    }
  }
  if (o.rewind.empty() || o.harness.empty()) usage("--rewind and --harness are required");
  if (o.modes.empty()) usage("--modes: none given");
  return o;
}

// Code for one variant: uniform bytes half the time, otherwise bytes drawn
// mostly from prefixes and opcodes that lead somewhere (0F maps, operand and
// address size, REX, REP, LOCK, segment overrides, ModRM-heavy opcodes).
std::vector<uint8_t> make_code(std::mt19937_64& rng, unsigned mode) {
  static const uint8_t kInteresting[] = {0x0f, 0x0f, 0x0f, 0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e,
                                         0x64, 0x65, 0x8b, 0x89, 0x01, 0x31, 0x81, 0x83, 0xc7, 0xf7, 0xff, 0xd3,
                                         0xa4, 0xa5, 0xaa, 0xab, 0xac, 0xae, 0x38, 0xba, 0xc8, 0xcd, 0x9c, 0x9d};
  std::uniform_int_distribution<unsigned> len(8, 192);
  std::vector<uint8_t> code(len(rng));
  bool uniform = rng() & 1;
  for (uint8_t& b : code) {
    if (uniform || rng() % 3 == 0) {
      b = uint8_t(rng());
    } else if (mode == 64 && rng() % 4 == 0) {
      b = uint8_t(0x40 + rng() % 16);  // REX
    } else {
      b = kInteresting[rng() % sizeof kInteresting];
    }
  }
  return code;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// What a status says about how a run ended.
std::string outcome_of(int status) {
  if (status == 1) return "harness report";
  if (status == 0) return "stopped by the backstop signal";
  if (status == 4) return "guest crashed (triple fault or halted forever)";
  if (status & 1) return "the code wrote to isa-debug-exit";
  return "status " + std::to_string(status);
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  fs::path work = fs::temp_directory_path() / ("rewind_guest_fuzz_" + std::to_string(getpid()));
  fs::create_directories(work);
  // A copy of the binary and the harness: a rebuild during a long campaign
  // must not change (or briefly remove) what it runs.
  fs::copy_file(o.rewind, work / "rewind", fs::copy_options::overwrite_existing);
  fs::copy_file(o.harness, work / "fuzz_harness.elf", fs::copy_options::overwrite_existing);
  o.rewind = (work / "rewind").string();
  o.harness = (work / "fuzz_harness.elf").string();
  std::map<std::string, unsigned> outcomes;
  std::map<std::string, unsigned> failures;
  std::set<std::string> warnings;
  uint64_t peak = 0;
  double slowest_signal = 0;

  for (unsigned v = 0; v < o.variants; ++v) {
    unsigned mode = o.modes[v % o.modes.size()];
    std::mt19937_64 rng(o.seed * 0x9e3779b97f4a7c15ull + v);
    std::vector<uint8_t> code = make_code(rng, mode);
    std::string code_path = (work / "code.bin").string();
    std::ofstream(code_path, std::ios::binary).write(reinterpret_cast<const char*>(code.data()), std::streamsize(code.size()));
    std::string trace = (work / "v.rwt").string();
    std::string rec_out = (work / "record.out").string(), rep_out = (work / "replay.out").string();
    fs::remove(rec_out);
    fs::remove(rep_out);

    ProcessOptions rec;
    // The harness exits through port 0x501, where `out imm8` cannot reach.
    rec.argv = {o.rewind, "record", "-o", trace, "-kernel", o.harness, "-initrd", code_path, "-append",
                "mode=" + std::to_string(mode) + " exit=1281", "-m", "32M", "-device",
                "isa-debug-exit,iobase=0x501,iosize=2", "-serial", "file:" + rec_out};
    rec.signal = SIGTERM;
    rec.signal_after_seconds = o.backstop;
    rec.timeout_seconds = o.backstop + 60;
    ProcessResult r = run_process(rec);

    std::vector<std::string> broken;
    if (r.timed_out) broken.push_back("record hung");
    // Odd statuses are the guest's own (isa-debug-exit); rewind's are even.
    if (r.signaled) broken.push_back("record died of signal " + std::to_string(r.exit_status - 128));
    else if (r.exit_status >= 124 && !(r.exit_status & 1))
      broken.push_back("record ended with status " + std::to_string(r.exit_status));
    if (r.exit_status == 6) broken.push_back("record: internal error");
    if (r.exit_status == 2) broken.push_back("record refused its own input");
    if (r.peak_rss_bytes > kGuestRam + kFixedAllowance)
      broken.push_back("record used " + std::to_string(r.peak_rss_bytes / kMiB) + " MiB");
    peak = std::max(peak, r.peak_rss_bytes);
    if (r.signal_sent) slowest_signal = std::max(slowest_signal, r.signal_to_exit_seconds);
    for (size_t at = r.err.find("no semantics for "); at != std::string::npos; at = r.err.find("no semantics for ", at + 1))
      warnings.insert(r.err.substr(at + 17, r.err.find_first_of(" :\n", at + 17) - (at + 17)));

    if (broken.empty()) {
      ProcessOptions rep;
      rep.argv = {o.rewind, "replay", trace, "-serial", "file:" + rep_out};
      rep.timeout_seconds = 120;
      ProcessResult p = run_process(rep);
      if (p.timed_out) broken.push_back("replay hung");
      if (p.signaled) broken.push_back("replay died of signal " + std::to_string(p.exit_status - 128));
      if (p.err.find("diverged") != std::string::npos) broken.push_back("replay diverged: " + p.err);
      if (p.exit_status != r.exit_status)
        broken.push_back("replay status " + std::to_string(p.exit_status) + ", recorded " +
                         std::to_string(r.exit_status) + ": " + p.err);
      if (p.peak_rss_bytes > kGuestRam + kFixedAllowance)
        broken.push_back("replay used " + std::to_string(p.peak_rss_bytes / kMiB) + " MiB");
      peak = std::max(peak, p.peak_rss_bytes);
      if (slurp(rec_out) != slurp(rep_out)) broken.push_back("replay printed something else");
    }

    std::string what = "mode " + std::to_string(mode) + ": " + outcome_of(r.exit_status);
    ++outcomes[what];
    if (!broken.empty()) {
      for (const std::string& b : broken) ++failures[b.substr(0, b.find(':'))];
      std::cerr << "variant " << v << " (seed " << o.seed << ", mode " << mode << "): " << broken.front() << "\n";
      if (!o.keep.empty()) {
        fs::path keep = fs::path(o.keep) / ("variant_" + std::to_string(o.seed) + "_" + std::to_string(v));
        fs::create_directories(keep);
        fs::copy_file(code_path, keep / "code.bin", fs::copy_options::overwrite_existing);
        std::ofstream(keep / "stderr.txt") << r.err;
        std::ofstream(keep / "command.txt") << "rewind record -o v.rwt -kernel build/guests/fuzz_harness.elf"
                                            << " -initrd code.bin -append 'mode=" << mode << " exit=1281' -m 32M"
                                            << " -device isa-debug-exit,iobase=0x501,iosize=2\n";
      }
    }
  }
  fs::remove_all(work);

  std::cout << "guest_code_fuzz: " << o.variants << " variants (seed " << o.seed << "), outcomes:\n";
  for (const auto& [what, n] : outcomes) std::cout << "  " << n << "  " << what << "\n";
  std::cout << "peak memory " << peak / kMiB << " MiB (guest RAM " << kGuestRam / kMiB << " MiB); slowest exit after the "
            << "backstop signal " << slowest_signal * 1000 << " ms\n";
  if (!warnings.empty()) {
    std::cout << "forms met without semantics (" << warnings.size() << "):";
    for (const std::string& w : warnings) std::cout << " " << w;
    std::cout << "\n";
  }
  if (failures.empty()) {
    std::cout << "every variant ended cleanly and replayed identically\n";
    return 0;
  }
  std::cout << "FAILURES:\n";
  for (const auto& [what, n] : failures) std::cout << "  " << n << "  " << what << "\n";
  return 1;
}
