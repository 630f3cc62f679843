// Boots one guest from tests/guests/ under `rewind run`, as a user would, and
// compares what the user sees (the serial console and the exit status) with
// what the guest's source says. CTest runs it once per guest; the guest comes
// in as arguments after `--`:
//   NAME IMAGE EXPECTED_FILE EXIT_STATUS MEMORY APPEND MODULES SERIAL_INPUT
// (MODULES comma-separated, empty strings for none).
#define BOOST_TEST_MODULE guest_boot
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>

#include "tests/integration/guest_spec.h"
#include "tests/integration/subprocess.h"

using rwd::testing::GuestSpec;
using rwd::testing::ProcessResult;
using rwd::testing::read_file;
using rwd::testing::spec_from_arguments;
using rwd::testing::rewind_binary;
using rwd::testing::run_process;

namespace {

// The first line where two outputs differ, for a readable failure.
std::string first_difference(const std::string& want, const std::string& got) {
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  size_t line_start = want.rfind('\n', i == 0 ? 0 : i - 1);
  line_start = line_start == std::string::npos ? 0 : line_start + 1;
  auto line_of = [&](const std::string& s) {
    size_t end = s.find('\n', line_start);
    return line_start >= s.size() ? std::string("<end of output>") : s.substr(line_start, end - line_start);
  };
  return "at byte " + std::to_string(i) + ":\n  expected: " + line_of(want) + "\n  got:      " + line_of(got);
}

}  // namespace

BOOST_AUTO_TEST_CASE(boots_and_prints_what_its_source_says) {
  GuestSpec g = spec_from_arguments();
  std::vector<std::string> argv = {rewind_binary(), "run", "-kernel", g.image, "-m", g.memory, "-serial", "stdio",
                                   "-no-reboot"};
  if (!g.append.empty()) argv.insert(argv.end(), {"-append", g.append});
  if (!g.modules.empty()) argv.insert(argv.end(), {"-initrd", g.modules});
  // Serial input arrives through a pipe on stdin, as typed input would.
  std::string input = g.serial_input.empty() ? std::string() : read_file(g.serial_input);
  ProcessResult r = run_process(argv, input, 300);
  BOOST_TEST_MESSAGE(g.name << ": " << r.seconds << " s");
  BOOST_TEST(!r.timed_out, g.name << " did not finish");
  std::string expected = read_file(g.expected_file);
  BOOST_TEST(r.out == expected, g.name << " serial output differs " << first_difference(expected, r.out));
  BOOST_TEST(r.exit_status == g.exit_status, g.name << " exit status " << r.exit_status << ", stderr: " << r.err);
  BOOST_TEST(r.err.find("warning") == std::string::npos, g.name << " warned: " << r.err);
}
