#include "hw/loaders/image_io.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "hw/loaders/load_error.h"

namespace rwd::hw::image_io {

std::string hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

std::string firmware_area_problem(const PcMemoryLayout& layout, uint64_t addr, uint64_t size) {
  if (!layout.overlaps_firmware_area(addr, size)) return {};
  return "overlaps the ACPI tables at " + hex(layout.firmware_area_base()) + "-" + hex(layout.below_4g - 1);
}

std::unique_ptr<replay::ImageFile> open_image(const replay::ImageOpener& open, const std::string& role,
                                              const std::string& path, uint64_t max_size) {
  if (!open) throw LoadError(role + " '" + path + "': no way to open image files was given");
  try {
    return open(role, path, max_size);
  } catch (const LoadError&) {
    throw;
  } catch (const std::runtime_error& e) {
    throw LoadError(e.what());
  }
}

Bytes read_head(replay::ImageFile& file, uint64_t max) {
  Bytes b(std::min(file.size(), max));
  if (!b.empty()) file.read(0, b.data(), b.size());
  return b;
}

Bytes read_at(replay::ImageFile& file, uint64_t offset, size_t len) {
  Bytes b(len);
  file.read(offset, b.data(), len);
  return b;
}

void copy_to_guest(core::AddressSpace& memory, replay::ImageFile& file, uint64_t offset, uint64_t addr, uint64_t len) {
  constexpr uint64_t kChunk = 1u << 20;
  Bytes chunk(std::min(len, kChunk));
  for (uint64_t done = 0; done < len;) {
    uint64_t n = std::min(kChunk, len - done);
    file.read(offset + done, chunk.data(), n);
    memory.write_bytes(addr + done, chunk.data(), n);
    done += n;
  }
}

void zero_guest(core::AddressSpace& memory, uint64_t addr, uint64_t size) {
  if (uint8_t* host = memory.ram_pointer(addr, size)) {
    std::memset(host, 0, size);
    return;
  }
  static const uint8_t kZeros[4096] = {};
  for (uint64_t done = 0; done < size;) {
    uint64_t n = std::min<uint64_t>(sizeof kZeros, size - done);
    memory.write_bytes(addr + done, kZeros, n);
    done += n;
  }
}

}  // namespace rwd::hw::image_io
