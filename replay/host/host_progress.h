// A one-line progress meter on stderr for long replays and seeks. It shows
// only when stderr is a terminal (so logs and pipes stay clean) and redraws at
// most a few times a second of host time. Lives in replay/host/ because it
// reads the host clock and asks whether stderr is a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace rwd::replay {

class HostProgress {
 public:
  explicit HostProgress(std::string what);
  ~HostProgress();

  void update(uint64_t done, uint64_t total);
  // Clears the line (before the run prints its own messages).
  void finish();

 private:
  std::string what_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace rwd::replay
