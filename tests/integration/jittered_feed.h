// Running a process whose stdin receives its data the way typed input does:
// one byte at a time, with a random host-time gap before each byte, so the
// moment each byte lands in the guest differs from run to run. The gaps come
// from a seeded generator: a failing run can be repeated with its seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/integration/subprocess.h"

namespace rwd::testing {

struct JitterOptions {
  uint64_t seed = 1;
  unsigned max_gap_us = 3000;  // each gap is uniform in [0, max_gap_us]
  // With probability 1/pause_one_in (0: never), a gap is lengthened by a pause
  // uniform in [pause_min_us, pause_max_us]: an emulator faster than the
  // typist otherwise always finds the next byte waiting, and every run looks
  // alike to the guest.
  unsigned pause_one_in = 0;
  unsigned pause_min_us = 0;
  unsigned pause_max_us = 0;
};

// Like run_process(), but stdin is fed byte by byte with jittered gaps by a
// helper thread; stdin is closed after the last byte. An empty `input` closes
// stdin at once.
ProcessResult run_process_jittered(const std::vector<std::string>& argv, const std::string& input,
                                   const JitterOptions& jitter, double timeout_seconds);

}  // namespace rwd::testing
