// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every
// trace frame. Chosen over CRC-32 because x86 computes it in one instruction
// (SSE4.2), so checking a multi-megabyte checkpoint costs almost nothing.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rwd::traces {

// Extends `crc` (0 for a fresh checksum) over data[0, len). Chaining calls
// over consecutive pieces gives the checksum of their concatenation.
uint32_t crc32c(uint32_t crc, const void* data, size_t len);
// The table-driven path crc32c() takes on hosts without SSE4.2; exposed so a
// test can hold both paths to the same answers.
uint32_t crc32c_portable(uint32_t crc, const void* data, size_t len);

}  // namespace rwd::traces
