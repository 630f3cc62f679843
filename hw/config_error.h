// The error a board raises for a machine it cannot build: an unknown -device
// driver, a bad property value. The message is one line, fit to print as is;
// the command line prints it and exits non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace rwd::hw {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace rwd::hw
