// What every guest-image loader does with bytes: little-endian fields in a
// buffer, pieces of an image file, and copies into guest memory a chunk at a
// time (so a 1 GiB initrd needs no second GiB of host memory).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/memory.h"
#include "hw/pc_memory_layout.h"
#include "replay/image_file.h"

namespace rwd::hw::image_io {

using Bytes = std::vector<uint8_t>;

inline uint16_t le16(const Bytes& b, uint64_t off) { return static_cast<uint16_t>(b[off] | b[off + 1] << 8); }
inline uint32_t le32(const Bytes& b, uint64_t off) {
  return b[off] | b[off + 1] << 8 | b[off + 2] << 16 | static_cast<uint32_t>(b[off + 3]) << 24;
}
inline uint64_t le64(const Bytes& b, uint64_t off) { return le32(b, off) | static_cast<uint64_t>(le32(b, off + 4)) << 32; }
inline void put32(Bytes& b, uint64_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void put64(Bytes& b, uint64_t off, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

std::string hex(uint64_t value);  // "0x1f"

// Why [addr, addr + size) cannot hold an image or a loader's structure
// because the board's firmware area (the ACPI tables) lies there: "overlaps
// the ACPI tables at ...", or empty.
std::string firmware_area_problem(const PcMemoryLayout& layout, uint64_t addr, uint64_t size);

// The first min(size, max) bytes of a file.
Bytes read_head(replay::ImageFile& file, uint64_t max);
// Opens `path` for `role` through `open`, refusing files larger than
// `max_size`; every failure is a LoadError with the opener's one-line message.
std::unique_ptr<replay::ImageFile> open_image(const replay::ImageOpener& open, const std::string& role,
                                              const std::string& path, uint64_t max_size);
// Exactly `len` bytes at `offset`.
Bytes read_at(replay::ImageFile& file, uint64_t offset, size_t len);

// Streams `len` bytes of `file` from `offset` into guest memory at `addr`.
void copy_to_guest(core::AddressSpace& memory, replay::ImageFile& file, uint64_t offset, uint64_t addr, uint64_t len);
void zero_guest(core::AddressSpace& memory, uint64_t addr, uint64_t size);

}  // namespace rwd::hw::image_io
