// Where a machine's randomness comes from (RDRAND, entropy devices): the
// replay layer's Inputs, so every value is recorded and replayed.
#pragma once

#include <cstdint>

namespace rwd::core {

class EntropySource {
 public:
  virtual ~EntropySource() = default;
  virtual uint64_t random_u64() = 0;
};

}  // namespace rwd::core
