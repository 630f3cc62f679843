#include "hw/i440fx.h"

#include <cstdio>
#include <cstring>

namespace rwd::hw {

namespace {

constexpr unsigned kPieces = 13;

struct Piece {
  uint64_t base;
  uint64_t size;
};

Piece piece(unsigned i) {
  if (i == 0) return {0xf0000, 0x10000};
  return {I440fx::kPamBase + 0x4000 * (i - 1), 0x4000};
}

std::string piece_name(unsigned i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "pam@0x%llx", static_cast<unsigned long long>(piece(i).base));
  return buf;
}

}  // namespace

I440fx::I440fx(core::AddressSpace& memory, uint8_t* ram, core::DirtyLog* dirty_log, const uint8_t* isa_rom,
               uint64_t isa_rom_size)
    : PciFunction(0x8086, 0x1237, 0x02, 0x060000, 0),
      memory_(memory),
      ram_(ram),
      dirty_log_(dirty_log),
      isa_rom_(isa_rom),
      isa_rom_size_(isa_rom ? isa_rom_size : 0) {
  set_word(kSubsystemVendorId, 0x1af4);
  set_word(kSubsystemId, 0x1100);
  set_byte(kPam0, 0x00, 0x30);
  for (uint8_t r = kPam0 + 1; r <= kPam0 + 6; ++r) set_byte(r, 0x00, 0x33);
  set_byte(kSmram, 0x02, 0x78);  // C_BASE_SEG = 010 (0xa0000) is fixed
}

unsigned I440fx::pam_mode(unsigned i) const {
  if (i == 0) return (byte(kPam0) >> 4) & 3;
  unsigned reg = kPam0 + 1 + (i - 1) / 2;
  return (byte(uint8_t(reg)) >> ((i - 1) % 2 ? 4 : 0)) & 3;
}

void I440fx::config_written(uint8_t offset, unsigned size) {
  if (offset <= kSmram && offset + size > kPam0) map_window();  // a PAM register or SMRAM: remap if changed
}

void I440fx::map_window() {
  uint8_t pam[7];
  for (unsigned r = 0; r < 7; ++r) pam[r] = byte(uint8_t(kPam0 + r));
  int smram_open = (byte(kSmram) & kSmramDOpen) ? 1 : 0;
  if (mapped_ && std::memcmp(pam, mapped_pam_, 7) == 0 && smram_open == mapped_smram_) return;  // nothing changed

  core::AddressSpace::Batch batch(memory_);
  unmap();
  // Priority 1: above RAM (which leaves this window unmapped anyway) and
  // anything else the board puts at priority 0.
  if (smram_open) memory_.add_ram("smram-open", kSmramBase, kSmramSize, ram_ + kSmramBase, 1, dirty_log_);
  const uint64_t isa_rom_base = 0x100000 - isa_rom_size_;
  for (unsigned i = 0; i < kPieces; ++i) {
    const Piece p = piece(i);
    switch (pam_mode(i)) {
      case 0:
        // PCI: the firmware's image where it reaches, nothing elsewhere.
        if (isa_rom_size_ && p.base >= isa_rom_base)
          memory_.add_rom(piece_name(i), p.base, p.size, isa_rom_ + (p.base - isa_rom_base), 1);
        break;
      case 1:
        memory_.add_rom(piece_name(i), p.base, p.size, ram_ + p.base, 1);
        break;
      default:
        memory_.add_ram(piece_name(i), p.base, p.size, ram_ + p.base, 1, dirty_log_);
        break;
    }
  }
  std::memcpy(mapped_pam_, pam, 7);
  mapped_smram_ = smram_open;
  mapped_ = true;
}

void I440fx::unmap() {
  if (!mapped_) return;
  core::AddressSpace::Batch batch(memory_);
  memory_.remove("smram-open");
  for (unsigned i = 0; i < kPieces; ++i) memory_.remove(piece_name(i));
  mapped_ = false;
}

}  // namespace rwd::hw
