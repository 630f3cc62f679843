// SHA-256 (FIPS 180-4), used to fingerprint the guest images a recording
// loaded, in the trace header (`rewind trace info` shows them).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace rwd::traces {

using Sha256Digest = std::array<uint8_t, 32>;

// Incremental hasher: update() any number of times, then finish() once.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t len);
  Sha256Digest finish();

 private:
  void compress(const uint8_t* block);

  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> block_{};
  size_t block_len_ = 0;
  uint64_t total_len_ = 0;  // bytes
  bool finished_ = false;
};

Sha256Digest sha256(const void* data, size_t len);
// Lower-case hex, two digits per byte (also used for any digest bytes).
std::string to_hex(const uint8_t* data, size_t len);
inline std::string to_hex(const Sha256Digest& d) { return to_hex(d.data(), d.size()); }

}  // namespace rwd::traces
