// The error a loader raises for a guest image it cannot load: a missing file,
// a malformed or unsupported image, an image that does not fit. The message is
// one line naming the file and the problem; the command line prints it and
// exits non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace rwd::hw {

class LoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace rwd::hw
