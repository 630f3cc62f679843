// Parsing the QEMU-style machine flags shared by `rewind run` (and later
// `record`) into a core::MachineConfig.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "core/machine_config.h"

namespace rwd::tools {

// A one-line message for the user; the command exits with kExitBadInput.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RunOptions {
  core::MachineConfig machine;
  bool stats = false;  // print icount, host time and speed at exit
};

// Throws UsageError naming the flag and the problem.
RunOptions parse_run_options(const std::vector<std::string>& args);

// "128", "128M", "2G", "4096k" (QEMU's -m: a bare number is MiB); at least 2M.
uint64_t parse_memory_size(const std::string& text);
// A size in bytes with an optional K, M (the default), G or T suffix.
uint64_t parse_byte_size(const std::string& flag, const std::string& text);

// A count given to `flag`: decimal digits only (no sign, no spaces), within
// uint64_t; at least `min`. Throws UsageError naming the flag.
uint64_t parse_count(const std::string& flag, const std::string& text, uint64_t min = 0);

extern const char kRunFlagsHelp[];

}  // namespace rwd::tools
