// Virtual time. Under tcg-llvm time is instructions: the clock is a pure
// function of the instructions retired by all vCPUs together plus the time
// skipped while every vCPU was halted (itself decided by guest state: the
// next timer deadline). No host clock is ever read here.
#pragma once

#include <cstdint>

namespace rwd::core {

class VirtualClock {
 public:
  // One guest instruction lasts kNsPerInsn nanoseconds of virtual time.
  static constexpr uint64_t kNsPerInsn = 1;

  explicit VirtualClock(const uint64_t* icount) : icount_(icount) {}
  // Time follows this counter plus `offset` (the running vCPU's retired-
  // instruction count, offset to the machine's count: modular arithmetic).
  void bind_icount(const uint64_t* icount, uint64_t offset = 0) {
    icount_ = icount;
    offset_ = offset;
  }
  // The machine's instruction count.
  uint64_t icount() const { return *icount_ + offset_; }

  uint64_t now_ns() const { return icount() * kNsPerInsn + idle_ns_; }
  // Instructions still to run before virtual time reaches deadline_ns (0 if past).
  uint64_t insns_until(uint64_t deadline_ns) const {
    uint64_t now = now_ns();
    return deadline_ns <= now ? 0 : (deadline_ns - now + kNsPerInsn - 1) / kNsPerInsn;
  }
  // All vCPUs are halted: jump virtual time forward to deadline_ns.
  void skip_idle_to(uint64_t deadline_ns) {
    uint64_t now = now_ns();
    if (deadline_ns > now) idle_ns_ += deadline_ns - now;
  }
  uint64_t idle_ns() const { return idle_ns_; }
  void set_idle_ns(uint64_t ns) { idle_ns_ = ns; }  // snapshot restore

 private:
  const uint64_t* icount_;
  uint64_t offset_ = 0;
  uint64_t idle_ns_ = 0;
};

}  // namespace rwd::core
