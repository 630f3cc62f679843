// Which guest RAM pages were written since the log was last cleared: the
// checkpoint writer stores just those pages, and divergence digests hash them.
// Indexed by page of the machine's RAM block (not by guest-physical address:
// the board may map the block in several pieces).
#pragma once

#include <cstdint>
#include <algorithm>
#include <vector>

namespace rwd::core {

class DirtyLog {
 public:
  static constexpr unsigned kPageShift = 12;
  static constexpr uint64_t kPageSize = 1ull << kPageShift;

  DirtyLog(const uint8_t* ram, uint64_t ram_size)
      : ram_(ram), ram_size_(ram_size), bits_((ram_size / kPageSize + 63) / 64, 0) {}

  // Mark [host, host+len) written; pointers outside the RAM block are ignored.
  void mark(const uint8_t* host, uint64_t len) {
    if (len == 0 || host < ram_ || host >= ram_ + ram_size_) return;
    uint64_t first = uint64_t(host - ram_) >> kPageShift;
    uint64_t last = (uint64_t(host - ram_) + len - 1) >> kPageShift;
    if (last >= page_count()) last = page_count() - 1;
    for (uint64_t p = first; p <= last; ++p) bits_[p >> 6] |= 1ull << (p & 63);
  }
  bool is_dirty(uint64_t page) const { return (bits_[page >> 6] >> (page & 63)) & 1; }
  void clear() { std::fill(bits_.begin(), bits_.end(), 0); }
  uint64_t page_count() const { return ram_size_ / kPageSize; }

  // Calls f(page) for each dirty page in increasing order.
  template <class F> void for_each_dirty(F&& f) const {
    for (uint64_t w = 0; w < bits_.size(); ++w)
      for (uint64_t word = bits_[w]; word; word &= word - 1) f(w * 64 + __builtin_ctzll(word));
  }

 private:
  const uint8_t* ram_;
  uint64_t ram_size_;
  std::vector<uint64_t> bits_;
};

}  // namespace rwd::core
