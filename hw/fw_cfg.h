// QEMU's firmware configuration device (docs/specs/fw_cfg.rst in QEMU), the
// way firmware written for QEMU (SeaBIOS) learns about the machine, at
// QEMU's x86 ports:
//   0x510  selector (16-bit write: the item; reading starts at its byte 0)
//   0x511  data (byte reads; past an item's end 0; writes ignored)
//          (one 2-byte region, as QEMU maps them)
//   0x514  DMA address, big-endian: the high half at 0x514, the low half at
//          0x518, whose write starts the transfer; a 64-bit read of 0x514
//          gives the DMA signature "QEMU CFG"
// DMA: a FWCfgDmaAccess {be32 control, be32 length, be64 address} in guest
// memory; control bits select (0x08, item in bits 31:16), read (0x02), skip
// (0x04), write (0x10, refused: error), error (0x01); the device writes the
// control word back as 0 when done, or with the error bit.
//
// Items: signature (0x0000, "QEMU"), ID (0x0001: traditional and DMA
// interfaces), RAM size (0x0003), CPU count (0x0005), boot menu (0x000e, off),
// max CPUs (0x000f), the file directory (0x0019) and files: "etc/e820"
// (QEMU's RAM entries), "etc/sercon-port" (0x3f8: SeaBIOS's console on
// COM1, as with -nographic), "etc/boot-fail-wait" (-1: no retry), and the
// ACPI tables with their loader script (hw/acpi_tables).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/memory.h"
#include "core/snapshot.h"

namespace rwd::hw {

class FwCfg final : public core::Snapshottable {
 public:
  static constexpr uint32_t kStateVersion = 1;
  static constexpr const char* kStateName = "fw-cfg";
  static constexpr uint16_t kPorts = 0x510, kDmaPort = 0x514;
  static constexpr uint16_t kSignature = 0x0000, kId = 0x0001, kRamSize = 0x0003, kNbCpus = 0x0005,
                            kBootMenu = 0x000e, kMaxCpus = 0x000f, kFileDir = 0x0019, kFirstFile = 0x0020;
  static constexpr uint32_t kDmaError = 0x01, kDmaRead = 0x02, kDmaSkip = 0x04, kDmaSelect = 0x08,
                            kDmaWrite = 0x10;

  // `memory`: where DMA descriptors and buffers live (guest-physical).
  explicit FwCfg(core::AddressSpace& memory);

  void add_item(uint16_t key, std::vector<uint8_t> bytes);
  void add_file(const std::string& name, std::vector<uint8_t> bytes);  // keys from kFirstFile on
  const std::vector<uint8_t>* item(uint16_t key) const;

  void select(uint16_t key);
  uint8_t read_data();
  void write_dma_address(bool high_half, uint32_t big_endian_value);
  void reset();

  // The port regions the board maps: kPorts (2 bytes; accesses of 1-2
  // bytes) and kDmaPort (8 bytes; 4-byte accesses).
  core::RegionOps& port_ops() { return port_ops_; }
  core::RegionOps& dma_ops() { return dma_ops_; }

  // Items are fixed when the board is built: the state is where a reader is.
  void save_state(core::StateWriter& out) const override;
  void load_state(core::StateReader& in) override;

 private:
  void run_dma(uint64_t descriptor);
  void rebuild_directory();

  struct PortOps final : core::RegionOps {
    FwCfg* cfg;
    uint64_t read(uint64_t offset, unsigned size) override { return offset == 1 && size == 1 ? cfg->read_data() : 0; }
    void write(uint64_t offset, uint64_t value, unsigned size) override {
      if (offset == 0 && size == 2) cfg->select(uint16_t(value));
    }
  } port_ops_;
  struct DmaOps final : core::RegionOps {
    FwCfg* cfg;
    uint64_t read(uint64_t offset, unsigned size) override;
    void write(uint64_t offset, uint64_t value, unsigned size) override;
  } dma_ops_;

  core::AddressSpace& memory_;
  std::map<uint16_t, std::vector<uint8_t>> items_;
  std::vector<std::pair<std::string, uint16_t>> files_;
  uint16_t selected_ = 0;
  uint32_t offset_ = 0;
  uint32_t dma_high_ = 0;
};

}  // namespace rwd::hw
