#include "tests/integration/mini_kernel.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace rwd::testing {

namespace {

template <typename T>
void put(std::vector<uint8_t>& out, size_t offset, T value) {
  if (out.size() < offset + sizeof value) out.resize(offset + sizeof value);
  std::memcpy(out.data() + offset, &value, sizeof value);
}

}  // namespace

std::vector<uint8_t> build_mini_kernel(const MiniKernel& kernel) {
  constexpr uint32_t kElfHeaderSize = 52, kPhdrSize = 32, kSegmentOffset = 0x1000;
  std::vector<uint8_t> out(kSegmentOffset, 0);
  // ELF header (ELFCLASS32, little-endian, ET_EXEC, EM_386).
  const uint8_t ident[16] = {0x7f, 'E', 'L', 'F', 1, 1, 1, 0};
  std::memcpy(out.data(), ident, sizeof ident);
  put<uint16_t>(out, 16, 2);          // e_type: ET_EXEC
  put<uint16_t>(out, 18, 3);          // e_machine: EM_386
  put<uint32_t>(out, 20, 1);          // e_version
  put<uint32_t>(out, 24, kernel.load_address + 12);  // e_entry: right after the Multiboot header
  put<uint32_t>(out, 28, kElfHeaderSize);            // e_phoff
  put<uint32_t>(out, 32, 0);          // e_shoff
  put<uint32_t>(out, 36, 0);          // e_flags
  put<uint16_t>(out, 40, kElfHeaderSize);
  put<uint16_t>(out, 42, kPhdrSize);
  put<uint16_t>(out, 44, 1);          // e_phnum
  put<uint16_t>(out, 46, 40);         // e_shentsize
  put<uint16_t>(out, 48, 0);          // e_shnum
  put<uint16_t>(out, 50, 0);          // e_shstrndx
  // The segment: Multiboot header (magic, flags 0, checksum) then the code.
  std::vector<uint8_t> segment;
  put<uint32_t>(segment, 0, 0x1BADB002);
  put<uint32_t>(segment, 4, 0);
  put<uint32_t>(segment, 8, static_cast<uint32_t>(-0x1BADB002));
  segment.insert(segment.end(), kernel.code.begin(), kernel.code.end());
  // Program header: PT_LOAD, R+W+X.
  size_t ph = kElfHeaderSize;
  put<uint32_t>(out, ph + 0, 1);
  put<uint32_t>(out, ph + 4, kSegmentOffset);
  put<uint32_t>(out, ph + 8, kernel.load_address);
  put<uint32_t>(out, ph + 12, kernel.load_address);
  put<uint32_t>(out, ph + 16, static_cast<uint32_t>(segment.size()));
  put<uint32_t>(out, ph + 20, static_cast<uint32_t>(segment.size()) + kernel.bss_size);
  put<uint32_t>(out, ph + 24, 7);
  put<uint32_t>(out, ph + 28, 0x1000);
  out.insert(out.end(), segment.begin(), segment.end());
  return out;
}

std::string write_temp_file(const std::string& name, const std::vector<uint8_t>& bytes) {
  auto dir = std::filesystem::temp_directory_path() / ("rewind-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
  return path.string();
}

std::string write_mini_kernel(const std::string& path, const MiniKernel& kernel) {
  std::vector<uint8_t> image = build_mini_kernel(kernel);
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(image.data()), static_cast<std::streamsize>(image.size()));
  return path;
}

}  // namespace rwd::testing
