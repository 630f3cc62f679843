// A guest of tests/guests/ as CTest hands it to a per-guest test, in the
// arguments after `--`:
//   NAME IMAGE EXPECTED_FILE EXIT_STATUS MEMORY APPEND MODULES SERIAL_INPUT
// (MODULES comma-separated, empty strings for none). Header-only: it needs
// Boost.Test's master suite of the test that includes it.
#pragma once

#include <boost/test/unit_test.hpp>

#include <string>

#include "tests/integration/test_files.h"

namespace rwd::testing {

struct GuestSpec {
  std::string name, image, expected_file, memory, append, modules, serial_input;
  int exit_status = -1;
};

inline GuestSpec spec_from_arguments() {
  auto& suite = boost::unit_test::framework::master_test_suite();
  BOOST_TEST_REQUIRE(suite.argc == 9, "expected 8 guest arguments after --, got " << suite.argc - 1);
  GuestSpec g;
  g.name = suite.argv[1];
  g.image = suite.argv[2];
  g.expected_file = suite.argv[3];
  g.exit_status = std::stoi(suite.argv[4]);
  g.memory = suite.argv[5];
  g.append = suite.argv[6];
  g.modules = suite.argv[7];
  g.serial_input = suite.argv[8];
  return g;
}

}  // namespace rwd::testing
