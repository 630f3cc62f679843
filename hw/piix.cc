#include "hw/piix.h"

namespace rwd::hw {

Piix3Isa::Piix3Isa() : PciFunction(0x8086, 0x7000, 0x00, 0x060100, kMultiFunction) {
  set_byte(0x4c, 0x4d, 0x7f);  // IORT: ISA I/O recovery
  set_word(0x4e, 0x0003, 0x07ff);  // XBCS: X-bus chip selects
  for (uint8_t i = 0; i < 4; ++i) set_byte(uint8_t(kPirqRoute + i), 0x80, 0x8f);  // disabled
  set_byte(0x69, 0x02, 0xfe);  // TOM: top of memory
  set_byte(0x70, 0x80, 0xef);  // MBIRQ0
  set_byte(0x76, 0x0c, 0x8f);  // MBDMA
  set_byte(0x77, 0x0c, 0x8f);
  set_byte(0x80, 0x00, 0x7f);  // APICBASE
  set_byte(0x82, 0x00, 0x0f);  // DLC
  set_byte(0xa0, 0x08, 0x1b);  // SMICNTL
  set_word(0xa2, 0x0000, 0xffff);  // SMIEN
  set_dword(0xa4, 0x00000000, 0xffffffff);  // SEE
  set_byte(0xa8, 0x0f, 0xff);  // FTMR
  set_word(0xaa, 0x0000, 0xffff);  // SMIREQ
  set_byte(0xac, 0x00, 0xff);  // CTLTMR
  set_byte(0xae, 0x00, 0xff);  // CTHTMR
}

Piix4Pm::Piix4Pm(Placement place)
    : PciFunction(0x8086, 0x7113, 0x03, 0x068000, 0), place_(std::move(place)) {
  set_byte(kInterruptPin, 0x01);  // INTA#
  set_dword(kPmBase, 0x00000001, 0x0000ffc0);  // bit 0: I/O space indicator
  set_dword(kDevActB, 0x02000000);  // APMC_EN: SMM already set up (there is none)
  set_byte(kPmRegMisc, 0x00, 0x01);
  set_dword(kSmbBase, 0x00000001, 0x0000fff0);
  set_byte(kSmbHstCfg, 0x00, 0x0f);
}

void Piix4Pm::program_as_firmware(uint16_t base, uint8_t sci) {
  write_config(kInterruptLine, sci, 1);
  write_config(kPmBase, base | 1u, 4);
  write_config(kPmRegMisc, 0x01, 1);
}

void Piix4Pm::config_written(uint8_t, unsigned) {
  std::optional<uint16_t> want;
  if (byte(kPmRegMisc) & 1) want = uint16_t(dword(kPmBase) & 0xffc0);
  if (placed_once_ && want == placed_) return;
  placed_ = want;
  placed_once_ = true;
  place_(want);
}

}  // namespace rwd::hw
