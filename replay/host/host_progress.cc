#include "replay/host/host_progress.h"

#include <unistd.h>

#include <cstdio>

namespace rwd::replay {

HostProgress::HostProgress(std::string what)
    : what_(std::move(what)), enabled_(isatty(STDERR_FILENO) == 1), last_(std::chrono::steady_clock::now()) {}

HostProgress::~HostProgress() { finish(); }

void HostProgress::update(uint64_t done, uint64_t total) {
  if (!enabled_ || total == 0) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  double pct = 100.0 * double(done > total ? total : done) / double(total);
  std::fprintf(stderr, "\r\033[K%s: %5.1f%% (icount %llu of %llu)", what_.c_str(), pct, (unsigned long long)done,
               (unsigned long long)total);
  std::fflush(stderr);
  drawn_ = true;
}

void HostProgress::finish() {
  if (drawn_) std::fputs("\r\033[K", stderr);
  drawn_ = false;
}

}  // namespace rwd::replay
