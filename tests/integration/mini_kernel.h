// Builds tiny Multiboot v1 ELF32 kernels in a test, byte by byte, for cases the
// guests in tests/guests/ cannot show: a segment placed beyond RAM, code that
// triple-faults on purpose. Layout: ELF header, one program header, then the
// segment: the Multiboot header followed by the code, loaded at load_address.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rwd::testing {

struct MiniKernel {
  uint32_t load_address = 0x100000;
  uint32_t bss_size = 0;                // extra zeroed memory after the file image
  std::vector<uint8_t> code;            // starts right after the 12-byte Multiboot header
};

std::vector<uint8_t> build_mini_kernel(const MiniKernel& kernel);
// Writes bytes to a fresh file in the test's temp directory and returns its path.
std::string write_temp_file(const std::string& name, const std::vector<uint8_t>& bytes);
// Builds `kernel` into the file `path` and returns the path.
std::string write_mini_kernel(const std::string& path, const MiniKernel& kernel);

// What the tests allow rewind beyond guest RAM (docs/architecture.md,
// "Memory is bounded").
inline constexpr uint64_t kHostMemoryAllowance = 256ull << 20;

}  // namespace rwd::testing
