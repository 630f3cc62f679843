#include "hw/fw_cfg.h"

#include <algorithm>
#include <cstring>

namespace rwd::hw {

namespace {
uint32_t load_be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
uint64_t load_be64(const uint8_t* p) { return uint64_t(load_be32(p)) << 32 | load_be32(p + 4); }
void put_be32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (24 - 8 * i));
}
uint32_t byte_swap32(uint32_t v) { return __builtin_bswap32(v); }
constexpr char kDmaSignature[] = "QEMU CFG";
constexpr size_t kFileNameSize = 56;
}  // namespace

FwCfg::FwCfg(core::AddressSpace& memory) : memory_(memory) {
  port_ops_.cfg = this;
  dma_ops_.cfg = this;
  add_item(kSignature, {'Q', 'E', 'M', 'U'});
  add_item(kId, {0x03, 0x00, 0x00, 0x00});  // traditional and DMA interfaces
  rebuild_directory();
}

void FwCfg::add_item(uint16_t key, std::vector<uint8_t> bytes) { items_[key] = std::move(bytes); }

void FwCfg::add_file(const std::string& name, std::vector<uint8_t> bytes) {
  uint16_t key = uint16_t(kFirstFile + files_.size());
  files_.emplace_back(name.substr(0, kFileNameSize - 1), key);
  items_[key] = std::move(bytes);
  rebuild_directory();
}

void FwCfg::rebuild_directory() {
  // be32 count, then per file: be32 size, be16 select, u16 reserved, name[56].
  std::vector<uint8_t> dir(4 + files_.size() * 64, 0);
  put_be32(dir.data(), uint32_t(files_.size()));
  for (size_t i = 0; i < files_.size(); ++i) {
    uint8_t* e = dir.data() + 4 + i * 64;
    const auto& [name, key] = files_[i];
    put_be32(e, uint32_t(items_[key].size()));
    e[4] = uint8_t(key >> 8);
    e[5] = uint8_t(key);
    std::memcpy(e + 8, name.data(), name.size());
  }
  items_[kFileDir] = std::move(dir);
}

const std::vector<uint8_t>* FwCfg::item(uint16_t key) const {
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : &it->second;
}

void FwCfg::select(uint16_t key) {
  selected_ = key;
  offset_ = 0;
}

uint8_t FwCfg::read_data() {
  const std::vector<uint8_t>* bytes = item(selected_);
  if (!bytes || offset_ >= bytes->size()) return 0;
  return (*bytes)[offset_++];
}

void FwCfg::write_dma_address(bool high_half, uint32_t value) {
  if (high_half) {
    dma_high_ = value;
    return;
  }
  uint64_t descriptor = uint64_t(dma_high_) << 32 | value;
  dma_high_ = 0;
  run_dma(descriptor);
}

void FwCfg::run_dma(uint64_t descriptor) {
  uint8_t access[16];
  memory_.read_bytes(descriptor, access, sizeof access);
  uint32_t control = load_be32(access);
  const uint32_t length = load_be32(access + 4);
  const uint64_t address = load_be64(access + 8);
  bool error = false;
  if (control & kDmaSelect) select(uint16_t(control >> 16));
  if (control & kDmaWrite) {
    error = true;  // items are read-only
  } else if (control & kDmaRead) {
    const std::vector<uint8_t>* bytes = item(selected_);
    std::vector<uint8_t> out(length, 0);  // past the item's end: zeros
    if (bytes && offset_ < bytes->size()) {
      size_t n = std::min<size_t>(length, bytes->size() - offset_);
      std::memcpy(out.data(), bytes->data() + offset_, n);
    }
    memory_.write_bytes(address, out.data(), out.size());
    offset_ += length;
  } else if (control & kDmaSkip) {
    offset_ += length;
  }
  uint8_t done[4];
  put_be32(done, error ? kDmaError : 0);
  memory_.write_bytes(descriptor, done, sizeof done);
}

uint64_t FwCfg::DmaOps::read(uint64_t offset, unsigned size) {
  uint64_t v = 0;
  for (unsigned i = 0; i < size && offset + i < 8; ++i) v |= uint64_t(uint8_t(kDmaSignature[offset + i])) << (8 * i);
  return v;
}

void FwCfg::DmaOps::write(uint64_t offset, uint64_t value, unsigned) {
  // The register is big-endian: the guest writes cpu_to_be32(half).
  cfg->write_dma_address(offset == 0, byte_swap32(uint32_t(value)));
}

void FwCfg::reset() {
  selected_ = 0;
  offset_ = 0;
  dma_high_ = 0;
}

void FwCfg::save_state(core::StateWriter& out) const {
  out.u32(kStateVersion);
  out.u16(selected_);
  out.u32(offset_);
  out.u32(dma_high_);
}

void FwCfg::load_state(core::StateReader& in) {
  in.version(kStateVersion);
  selected_ = in.u16();
  offset_ = in.u32();
  dma_high_ = in.u32();
}

}  // namespace rwd::hw
