// Host elapsed time, for reports about the host run itself (speed figures);
// it never reaches the guest. Lives here because only replay/host/ may read
// the host clock.
#pragma once

#include <chrono>

namespace rwd::replay {

class HostStopwatch {
 public:
  HostStopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace rwd::replay
