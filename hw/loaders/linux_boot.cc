#include "hw/loaders/linux_boot.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "hw/acpi_tables.h"
#include "hw/loaders/image_io.h"

namespace rwd::hw {

namespace {

using image_io::Bytes;
using image_io::hex;
using image_io::le16;
using image_io::le32;
using image_io::le64;
using image_io::put32;
using image_io::put64;

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t k4GiB = 1ull << 32;
constexpr uint64_t kMiB = 1ull << 20;

// The setup header, by offset in the image and in boot_params alike.
constexpr uint64_t kSetupSects = 0x1f1, kBootFlag = 0x1fe, kJump = 0x200, kHeaderMagic = 0x202,
                   kVersion = 0x206, kTypeOfLoader = 0x210, kLoadFlags = 0x211, kCode32Start = 0x214,
                   kRamdiskImage = 0x218, kRamdiskSize = 0x21c, kCmdLinePtr = 0x228, kInitrdAddrMax = 0x22c,
                   kKernelAlignment = 0x230, kRelocatable = 0x234, kXloadflags = 0x236, kCmdlineSize = 0x238,
                   kPrefAddress = 0x258, kInitSize = 0x260;
constexpr uint64_t kSetupHeaderEnd = 0x290;  // where boot_params' next field starts
constexpr uint32_t kHdrS = 0x53726448;
constexpr uint16_t kBootFlagValue = 0xaa55;
constexpr uint8_t kLoadedHigh = 1u << 0;
constexpr uint16_t kXlfKernel64 = 1u << 0;
constexpr uint8_t kUnassignedLoader = 0xff;
constexpr uint64_t k64BitEntryOffset = 0x200;

// boot_params outside the setup header.
constexpr uint64_t kAcpiRsdpAddr = 0x070;     // from protocol 2.14 on
constexpr uint16_t kAcpiRsdpProtocol = 0x020e;
constexpr uint64_t kBootParamsSize = 4096, kE820Entries = 0x1e8, kE820Table = 0x2d0, kE820EntrySize = 20,
                   kE820MaxEntries = 128;

// The page tables: PML4, PDPT and four page directories of 2 MiB pages.
constexpr uint64_t kPageTablePages = 6;
constexpr uint64_t kPteP = 1, kPteRw = 2, kPtePs = 0x80;

// The GDT: __BOOT_CS at 0x10, __BOOT_DS at 0x18, as the protocol names them.
constexpr uint16_t kBootCs = 0x10, kBootDs = 0x18;
constexpr uint64_t kCode64 = 0x00af9b000000ffffull, kCode32 = 0x00cf9b000000ffffull, kData = 0x00cf93000000ffffull;
constexpr uint64_t kGdtBytes = 4 * 8;

uint64_t page_down(uint64_t v) { return v & ~(kPageSize - 1); }

class Loader {
 public:
  Loader(core::AddressSpace& memory, const PcMemoryLayout& layout, const LinuxBootOptions& options)
      : memory_(memory), layout_(layout), options_(options), who_("kernel '" + options.kernel + "'") {}

  LinuxBoot load(core::X86CpuState& cpu);

 private:
  [[noreturn]] void fail(const std::string& problem) const { throw LoadError(who_ + ": " + problem); }
  std::unique_ptr<replay::ImageFile> open(const std::string& role, const std::string& path) const;
  // Refuses a range outside RAM, beyond 4 GiB, or over the loader's own structures.
  void check_placement(const std::string& what, uint64_t addr, uint64_t size) const;
  Bytes boot_params(const Bytes& head, const LinuxBoot& boot) const;
  void write_page_tables();
  void set_entry_state(const LinuxBoot& boot, core::X86CpuState& cpu) const;

  core::AddressSpace& memory_;
  const PcMemoryLayout& layout_;
  const LinuxBootOptions& options_;
  std::string who_;
};

std::unique_ptr<replay::ImageFile> Loader::open(const std::string& role, const std::string& path) const {
  // Whatever does not fit in guest RAM can never load.
  return image_io::open_image(options_.open, role, path, layout_.ram_size);
}

void Loader::check_placement(const std::string& what, uint64_t addr, uint64_t size) const {
  std::string range = hex(addr) + "-" + hex(addr + size - 1);
  if (addr + size > k4GiB) fail(what + " at " + range + " lies beyond 4 GiB");
  if (addr < kLinuxCmdlineAddr + kPageSize && kLinuxBootParamsAddr < addr + size) {
    fail(what + " at " + range + " overlaps the loader's boot_params, page tables and command line at " +
         hex(kLinuxBootParamsAddr) + "-" + hex(kLinuxCmdlineAddr + kPageSize - 1));
  }
  if (!memory_.ram_pointer(addr, size)) {
    fail(what + " at " + range + " does not fit in guest RAM (" + std::to_string(layout_.ram_size >> 20) + " MiB)");
  }
  if (std::string problem = image_io::firmware_area_problem(layout_, addr, size); !problem.empty())
    fail(what + " at " + range + " " + problem);
}

Bytes Loader::boot_params(const Bytes& head, const LinuxBoot& boot) const {
  Bytes params(kBootParamsSize, 0);
  // The setup header ends at 0x202 plus the jump's displacement byte.
  uint64_t header_end = std::min<uint64_t>(kJump + 2 + head[kJump + 1], kSetupHeaderEnd);
  std::copy(head.begin() + kSetupSects, head.begin() + header_end, params.begin() + kSetupSects);
  params[kTypeOfLoader] = kUnassignedLoader;
  put32(params, kCode32Start, static_cast<uint32_t>(boot.load_addr));
  put32(params, kRamdiskImage, static_cast<uint32_t>(boot.initrd_addr));
  put32(params, kRamdiskSize, static_cast<uint32_t>(boot.initrd_size));
  put32(params, kCmdLinePtr, static_cast<uint32_t>(kLinuxCmdlineAddr));
  if (boot.protocol >= kAcpiRsdpProtocol) put64(params, kAcpiRsdpAddr, acpi_rsdp_address(layout_));
  std::vector<PcMemoryLayout::MapEntry> map = layout_.memory_map();
  if (map.size() > kE820MaxEntries) fail("the memory map has more than 128 entries");
  params[kE820Entries] = static_cast<uint8_t>(map.size());
  for (size_t i = 0; i < map.size(); ++i) {
    uint64_t at = kE820Table + i * kE820EntrySize;
    put64(params, at, map[i].base);
    put64(params, at + 8, map[i].length);
    put32(params, at + 16, map[i].type);
  }
  return params;
}

void Loader::write_page_tables() {
  Bytes tables(kPageTablePages * kPageSize, 0);
  uint64_t pml4 = kLinuxPageTablesAddr, pdpt = pml4 + kPageSize, pd = pdpt + kPageSize;
  put64(tables, 0, pdpt | kPteP | kPteRw);
  for (uint64_t gib = 0; gib < 4; ++gib) {
    put64(tables, kPageSize + gib * 8, (pd + gib * kPageSize) | kPteP | kPteRw);
    for (uint64_t i = 0; i < 512; ++i) {
      uint64_t frame = (gib << 30) | (i << 21);
      put64(tables, (2 + gib) * kPageSize + i * 8, frame | kPteP | kPteRw | kPtePs);
    }
  }
  memory_.write_bytes(kLinuxPageTablesAddr, tables.data(), tables.size());
}

void Loader::set_entry_state(const LinuxBoot& boot, core::X86CpuState& cpu) const {
  using core::SegReg;
  namespace attr = core::seg_attr;
  for (uint64_t& r : cpu.gpr) r = 0;
  cpu.gpr[core::kRsi] = kLinuxBootParamsAddr;
  cpu.rip = boot.entry;
  cpu.rflags = core::rflags::kFixed1;
  cpu.gdtr = {kLinuxGdtAddr, static_cast<uint16_t>(kGdtBytes - 1)};
  uint16_t code = attr::kS | attr::kP | attr::kG | 0xb;
  code |= boot.entered_64bit ? attr::kL : attr::kDb;
  cpu.seg[static_cast<int>(SegReg::kCs)] = {kBootCs, code, 0xffffffff, 0};
  for (SegReg r : {SegReg::kDs, SegReg::kEs, SegReg::kFs, SegReg::kGs, SegReg::kSs}) {
    cpu.seg[static_cast<int>(r)] = {kBootDs, static_cast<uint16_t>(attr::kS | attr::kP | attr::kDb | attr::kG | 0x3),
                                    0xffffffff, 0};
  }
  cpu.cr0 = core::cr0::kPe | core::cr0::kEt;
  cpu.cr3 = 0;
  cpu.cr4 = 0;
  cpu.efer = 0;
  if (boot.entered_64bit) {
    cpu.cr0 |= core::cr0::kPg;
    cpu.cr3 = kLinuxPageTablesAddr;
    cpu.cr4 = core::cr4::kPae;
    cpu.efer = core::efer::kLme | core::efer::kLma;
  }
  cpu.halted = false;
  cpu.interrupt_shadow = 0;
}

LinuxBoot Loader::load(core::X86CpuState& cpu) {
  if (options_.kernel.empty()) throw LoadError("no kernel given (-kernel)");
  std::unique_ptr<replay::ImageFile> file = open("kernel", options_.kernel);
  const uint64_t file_size = file->size();
  Bytes head = image_io::read_head(*file, kSetupHeaderEnd);
  if (head.size() < kSetupHeaderEnd) {
    fail("truncated bzImage: the file (" + std::to_string(file_size) + " bytes) ends inside the setup header");
  }
  if (le16(head, kBootFlag) != kBootFlagValue || le32(head, kHeaderMagic) != kHdrS) {
    fail("not a Linux bzImage: no setup header (\"HdrS\" at 0x202 and boot flag 0xaa55 at 0x1fe)");
  }
  LinuxBoot boot{};
  boot.protocol = le16(head, kVersion);
  if (boot.protocol < kLinuxMinProtocol) {
    char version[16];
    std::snprintf(version, sizeof version, "%u.%02u", boot.protocol >> 8, boot.protocol & 0xffu);
    fail(std::string("Linux boot protocol ") + version + " is older than 2.12, the oldest rewind loads");
  }
  if (!(head[kLoadFlags] & kLoadedHigh)) fail("a zImage (LOADED_HIGH clear) cannot be loaded; only bzImages can");
  uint64_t setup_sects = head[kSetupSects] ? head[kSetupSects] : 4;
  uint64_t setup_bytes = (setup_sects + 1) * 512;
  if (setup_bytes >= file_size) {
    fail("truncated bzImage: " + std::to_string(setup_sects) + " setup sectors but the file has " +
         std::to_string(file_size) + " bytes and no protected-mode kernel after them");
  }
  uint64_t kernel_bytes = file_size - setup_bytes;
  boot.entered_64bit = le16(head, kXloadflags) & kXlfKernel64;
  boot.load_addr = le64(head, kPrefAddress);
  uint64_t alignment = le32(head, kKernelAlignment);
  if (head[kRelocatable] && alignment && (alignment & (alignment - 1)) == 0 && boot.load_addr % alignment) {
    fail("pref_address " + hex(boot.load_addr) + " is not aligned to kernel_alignment " + hex(alignment));
  }
  if (boot.load_addr < kMiB) fail("pref_address " + hex(boot.load_addr) + " lies below 1 MiB");
  uint64_t reserved = std::max<uint64_t>(le32(head, kInitSize), kernel_bytes);
  boot.reserved_end = boot.load_addr + reserved;
  boot.entry = boot.load_addr + (boot.entered_64bit ? k64BitEntryOffset : 0);
  check_placement("the kernel (init_size " + hex(reserved) + ")", boot.load_addr, reserved);

  // The command line: cmdline_size excludes the terminating NUL.
  boot.cmdline = options_.append;
  uint64_t cmdline_max = le32(head, kCmdlineSize);
  if (boot.cmdline.size() > cmdline_max) {
    fail("the command line (-append) has " + std::to_string(boot.cmdline.size()) +
         " bytes; the kernel accepts at most " + std::to_string(cmdline_max));
  }
  if (kLinuxCmdlineAddr + boot.cmdline.size() + 1 > PcMemoryLayout::kEbdaBase) {
    fail("the command line (-append) does not fit below the EBDA");
  }
  if (!memory_.ram_pointer(kLinuxBootParamsAddr, kLinuxCmdlineAddr + boot.cmdline.size() + 1 - kLinuxBootParamsAddr)) {
    fail("guest RAM does not cover the boot_params and command line area at " + hex(kLinuxBootParamsAddr));
  }

  // The initrd: as high as the kernel and RAM below 4 GiB allow, as QEMU does.
  std::unique_ptr<replay::ImageFile> initrd;
  if (options_.initrd.size() > 1) {
    fail("a Linux kernel takes one initrd, " + std::to_string(options_.initrd.size()) + " were given (-initrd)");
  }
  if (!options_.initrd.empty()) {
    initrd = open("initrd", options_.initrd[0]);
    boot.initrd_size = initrd->size();
    uint64_t ram_top = layout_.usable_top_below_4g();
    uint64_t limit = std::min<uint64_t>(static_cast<uint64_t>(le32(head, kInitrdAddrMax)) + 1, ram_top);
    std::string what = "initrd '" + options_.initrd[0] + "' (" + std::to_string(boot.initrd_size) + " bytes)";
    if (boot.initrd_size > limit || page_down(limit - boot.initrd_size) < boot.reserved_end) {
      fail(what + " does not fit between the kernel's end " + hex(boot.reserved_end) + " and " + hex(limit) +
           " (initrd_addr_max and the RAM below 4 GiB)");
    }
    boot.initrd_addr = page_down(limit - boot.initrd_size);
    if (boot.initrd_size) check_placement(what, boot.initrd_addr, boot.initrd_size);
  }

  // Everything checked: write the image and the loader's structures.
  image_io::copy_to_guest(memory_, *file, setup_bytes, boot.load_addr, kernel_bytes);
  if (initrd) image_io::copy_to_guest(memory_, *initrd, 0, boot.initrd_addr, boot.initrd_size);
  Bytes params = boot_params(head, boot);
  memory_.write_bytes(kLinuxBootParamsAddr, params.data(), params.size());
  memory_.write_bytes(kLinuxCmdlineAddr, boot.cmdline.c_str(), boot.cmdline.size() + 1);
  Bytes gdt(kGdtBytes, 0);
  put64(gdt, kBootCs, boot.entered_64bit ? kCode64 : kCode32);
  put64(gdt, kBootDs, kData);
  memory_.write_bytes(kLinuxGdtAddr, gdt.data(), gdt.size());
  if (boot.entered_64bit) write_page_tables();
  set_entry_state(boot, cpu);
  return boot;
}

}  // namespace

bool is_linux_kernel(replay::ImageFile& file) {
  try {
    Bytes head = image_io::read_head(file, kHeaderMagic + 4);
    return head.size() == kHeaderMagic + 4 && le16(head, kBootFlag) == kBootFlagValue &&
           le32(head, kHeaderMagic) == kHdrS;
  } catch (const std::runtime_error&) {
    return false;
  }
}

LinuxBoot load_linux(core::AddressSpace& memory, const PcMemoryLayout& layout, const LinuxBootOptions& options,
                     core::X86CpuState& cpu) {
  return Loader(memory, layout, options).load(cpu);
}

}  // namespace rwd::hw
