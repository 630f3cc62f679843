#include "hw/loaders/multiboot.h"

#include "hw/loaders/image_io.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <optional>

namespace rwd::hw {

namespace {

constexpr uint32_t kFlagAoutKludge = 1u << 16;
constexpr uint64_t kPageSize = 4096;
constexpr uint64_t k4GiB = 1ull << 32;
constexpr const char* kBootloaderName = "rewind";

// Multiboot information structure: offsets and flags.
constexpr uint32_t kMbiSize = 88;
constexpr uint32_t kMbiFlags = 0, kMbiMemLower = 4, kMbiMemUpper = 8, kMbiBootDevice = 12, kMbiCmdline = 16,
                   kMbiModsCount = 20, kMbiModsAddr = 24, kMbiMmapLength = 44, kMbiMmapAddr = 48,
                   kMbiBootloaderName = 64;
constexpr uint32_t kInfoMemory = 1u << 0, kInfoBootDevice = 1u << 1, kInfoCmdline = 1u << 2,
                   kInfoModules = 1u << 3, kInfoMmap = 1u << 6, kInfoBootloaderName = 1u << 9;
constexpr uint32_t kModuleEntrySize = 16;
constexpr uint32_t kMmapEntrySize = 24;  // 4-byte size field + 20-byte entry

// ELF32.
constexpr size_t kElf32HeaderSize = 52, kElf32PhdrSize = 32;
constexpr uint8_t kElfClass32 = 1, kElfClass64 = 2, kElfDataLsb = 1;
constexpr uint16_t kEmI386 = 3, kEmX86_64 = 62;
constexpr uint32_t kPtLoad = 1, kPfX = 1;

using image_io::Bytes;
using image_io::hex;
using image_io::le16;
using image_io::le32;
using image_io::put32;
using image_io::put64;
using image_io::read_at;
using image_io::read_head;

uint64_t page_align(uint64_t v) { return (v + kPageSize - 1) & ~(kPageSize - 1); }

struct HeaderSearch {
  std::optional<uint64_t> offset;      // a valid header
  std::optional<uint64_t> bad_offset;  // the first magic with a wrong checksum
};

HeaderSearch find_header(const Bytes& data) {
  HeaderSearch result;
  uint64_t limit = std::min<uint64_t>(data.size(), kMultibootSearchBytes);
  for (uint64_t off = 0; off + 12 <= limit; off += 4) {
    if (le32(data, off) != kMultibootHeaderMagic) continue;
    if (static_cast<uint32_t>(kMultibootHeaderMagic + le32(data, off + 4) + le32(data, off + 8)) == 0) {
      result.offset = off;
      return result;
    }
    if (!result.bad_offset) result.bad_offset = off;
  }
  return result;
}

// A piece of the image to place in guest memory: file bytes then zeros.
struct Segment {
  std::string what;
  uint64_t addr;
  uint64_t file_offset;
  uint64_t file_size;
  uint64_t mem_size;
};

struct Image {
  std::vector<Segment> segments;
  uint64_t low = UINT64_MAX;
  uint64_t high = 0;
  uint32_t entry = 0;
};

class Loader {
 public:
  Loader(core::AddressSpace& memory, const PcMemoryLayout& layout, const MultibootOptions& options)
      : memory_(memory), layout_(layout), options_(options), who_("kernel '" + options.kernel + "'") {}

  MultibootBoot load(core::X86CpuState& cpu);

 private:
  [[noreturn]] void fail(const std::string& problem) const { throw LoadError(who_ + ": " + problem); }
  std::unique_ptr<replay::ImageFile> open(const std::string& role, const std::string& path) const;
  void check_flags(uint32_t flags) const;
  Image parse_elf(replay::ImageFile& file, const Bytes& head) const;
  Image parse_aout(const Bytes& head, uint64_t file_size, uint64_t header) const;
  void check_placement(const std::string& what, uint64_t addr, uint64_t size) const;
  std::string describe_ram() const;
  // Where the memory map, the information structure and the GDT go: QEMU's
  // 0x9000 unless the image or the block behind it ([extra_begin,
  // extra_end): command lines, modules) lies there, else the first such free
  // page of conventional memory above the real-mode IVT.
  uint64_t info_area(const Image& image, uint64_t extra_begin, uint64_t extra_end) const;
  void write_zeros(uint64_t addr, uint64_t size) { image_io::zero_guest(memory_, addr, size); }
  void copy_to_guest(replay::ImageFile& file, uint64_t offset, uint64_t addr, uint64_t len) {
    image_io::copy_to_guest(memory_, file, offset, addr, len);
  }

  core::AddressSpace& memory_;
  const PcMemoryLayout& layout_;
  const MultibootOptions& options_;
  std::string who_;
};

std::string Loader::describe_ram() const {
  std::string text;
  for (const PcMemoryLayout::RamRange& r : layout_.ram_ranges()) {
    text += (text.empty() ? "" : ", ") + hex(r.guest_base) + "-" + hex(r.guest_base + r.size - 1);
  }
  return text.empty() ? "none" : text;
}

void Loader::check_placement(const std::string& what, uint64_t addr, uint64_t size) const {
  std::string range = hex(addr) + "-" + hex(addr + size - 1);
  if (addr + size > k4GiB) fail(what + " at " + range + " lies beyond 4 GiB");
  if (!memory_.ram_pointer(addr, size)) {
    fail(what + " at " + range + " does not fit in guest RAM (" + std::to_string(layout_.ram_size >> 20) +
         " MiB, at " + describe_ram() + ")");
  }
  if (std::string problem = image_io::firmware_area_problem(layout_, addr, size); !problem.empty())
    fail(what + " at " + range + " " + problem);
}

uint64_t Loader::info_area(const Image& image, uint64_t extra_begin, uint64_t extra_end) const {
  auto free = [&](uint64_t page) {
    auto overlaps = [&](uint64_t begin, uint64_t end) { return begin < page + kPageSize && page < end; };
    if (overlaps(extra_begin, extra_end)) return false;
    for (const Segment& s : image.segments)
      if (overlaps(s.addr, s.addr + s.mem_size)) return false;
    return memory_.ram_pointer(page, kPageSize) != nullptr;
  };
  if (free(kMultibootInfoAreaDefault)) return kMultibootInfoAreaDefault;
  for (uint64_t page = kPageSize; page + kPageSize <= PcMemoryLayout::kEbdaBase; page += kPageSize)
    if (free(page)) return page;
  fail("no free 4 KiB page of RAM below " + hex(PcMemoryLayout::kEbdaBase) +
       " is left for the Multiboot information area (guest RAM: " + describe_ram() + ")");
}

std::unique_ptr<replay::ImageFile> Loader::open(const std::string& role, const std::string& path) const {
  // Whatever does not fit in guest RAM can never load.
  return image_io::open_image(options_.open, role, path, layout_.ram_size);
}

void Loader::check_flags(uint32_t flags) const {
  // Bits 0-15 are requirements a boot loader that does not meet them must
  // refuse (Multiboot 0.6.96, 3.1.2): rewind always page-aligns modules (bit
  // 0) and passes memory information (bit 1), nothing else.
  constexpr uint32_t kKnownRequired = 0x3;
  uint32_t unmet = flags & 0xffff & ~kKnownRequired;
  if (!unmet) return;
  if (unmet & 0x4)
    fail("the Multiboot header asks for video mode information (flags bit 2), which rewind does not provide");
  fail("the Multiboot header requires features rewind does not know (flags bits " + hex(unmet) + ")");
}

Image Loader::parse_elf(replay::ImageFile& file, const Bytes& data) const {
  const uint64_t size = file.size();
  if (data.size() < 4 || std::memcmp(data.data(), "\x7f" "ELF", 4) != 0) {
    fail("the Multiboot header has no address fields (flags bit 16 clear), so the image must be ELF, and it is not");
  }
  if (size < 16) fail("truncated ELF: the file ends inside the ELF identification (" + std::to_string(size) + " bytes)");
  if (data[4] == kElfClass64 || (data.size() >= 20 && le16(data, 18) == kEmX86_64)) {
    fail("ELF64 (x86-64) image: Multiboot v1 loads 32-bit ELF kernels only (link it as elf32-i386)");
  }
  if (data[4] != kElfClass32) fail("unknown ELF class " + std::to_string(data[4]));
  if (data[5] != kElfDataLsb) fail("big-endian ELF image: x86 kernels are little-endian");
  if (size < kElf32HeaderSize) {
    fail("truncated ELF: the file (" + std::to_string(size) + " bytes) ends inside the ELF header");
  }
  if (uint16_t machine = le16(data, 18); machine != kEmI386) {
    fail("ELF machine " + std::to_string(machine) + " is not i386 (EM_386)");
  }
  uint32_t entry = le32(data, 24);
  uint64_t phoff = le32(data, 28);
  uint64_t phentsize = le16(data, 42);
  uint64_t phnum = le16(data, 44);
  if (phnum == 0) fail("ELF image has no program headers");
  if (phentsize < kElf32PhdrSize) fail("ELF program header size " + std::to_string(phentsize) + " is too small");
  if (phoff + phnum * phentsize > size) {
    fail("truncated ELF: program header table at offset " + hex(phoff) + " (" + std::to_string(phnum) +
         " entries) extends beyond the end of the file (" + std::to_string(size) + " bytes)");
  }

  Image image;
  image.entry = entry;
  for (uint64_t i = 0; i < phnum; ++i) {
    Bytes ph = read_at(file, phoff + i * phentsize, kElf32PhdrSize);
    if (le32(ph, 0) != kPtLoad) continue;
    uint64_t offset = le32(ph, 4);
    uint64_t vaddr = le32(ph, 8);
    uint64_t paddr = le32(ph, 12);
    uint64_t filesz = le32(ph, 16);
    uint64_t memsz = le32(ph, 20);
    uint32_t flags = le32(ph, 24);
    std::string what = "ELF program header " + std::to_string(i);
    if (filesz > memsz) fail(what + ": p_filesz " + hex(filesz) + " exceeds p_memsz " + hex(memsz));
    if (offset + filesz > size) {
      fail("truncated ELF: " + what + " has its data at file offset " + hex(offset) + "+" + hex(filesz) +
           ", beyond the end of the file (" + std::to_string(size) + " bytes)");
    }
    if (memsz == 0) continue;
    image.segments.push_back({what + " (p_paddr " + hex(paddr) + ")", paddr, offset, filesz, memsz});
    image.low = std::min(image.low, paddr);
    image.high = std::max(image.high, paddr + memsz);
    // e_entry is virtual: move it into the physical segment that holds it.
    if ((flags & kPfX) && vaddr != paddr && entry >= vaddr && entry < vaddr + filesz) {
      image.entry = static_cast<uint32_t>(entry - vaddr + paddr);
    }
  }
  if (image.segments.empty()) fail("ELF image has no loadable (PT_LOAD) segment");
  return image;
}

Image Loader::parse_aout(const Bytes& data, uint64_t file_size, uint64_t header) const {
  if (header + 32 > data.size()) {
    fail("Multiboot header at offset " + hex(header) + " is cut off by the end of the file (flags bit 16 needs " +
         "the address fields)");
  }
  uint64_t header_addr = le32(data, header + 12);
  uint64_t load_addr = le32(data, header + 16);
  uint64_t load_end_addr = le32(data, header + 20);
  uint64_t bss_end_addr = le32(data, header + 24);
  uint32_t entry_addr = le32(data, header + 28);
  if (header_addr < load_addr) {
    fail("Multiboot header_addr " + hex(header_addr) + " is below load_addr " + hex(load_addr));
  }
  if (header_addr - load_addr > header) {
    fail("Multiboot header_addr - load_addr (" + hex(header_addr - load_addr) + ") puts the image start before " +
         "the beginning of the file (header at offset " + hex(header) + ")");
  }
  uint64_t text_offset = header - (header_addr - load_addr);
  uint64_t load_size;
  if (load_end_addr) {
    if (load_end_addr < load_addr) {
      fail("Multiboot load_end_addr " + hex(load_end_addr) + " is below load_addr " + hex(load_addr));
    }
    load_size = load_end_addr - load_addr;
    if (text_offset + load_size > file_size) {
      fail("truncated image: load_end_addr asks for " + hex(load_size) + " bytes from file offset " +
           hex(text_offset) + ", but the file has " + std::to_string(file_size) + " bytes");
    }
  } else {
    load_size = file_size - text_offset;
  }
  uint64_t mem_size = load_size;
  if (bss_end_addr) {
    if (bss_end_addr < load_addr + load_size) {
      fail("Multiboot bss_end_addr " + hex(bss_end_addr) + " is below the end of the loaded image " +
           hex(load_addr + load_size));
    }
    mem_size = bss_end_addr - load_addr;
  }
  if (mem_size == 0) fail("the a.out-kludge image is empty (load_end_addr = load_addr, no bss)");
  Image image;
  image.entry = entry_addr;
  image.segments.push_back({"the a.out-kludge image", load_addr, text_offset, load_size, mem_size});
  image.low = load_addr;
  image.high = load_addr + mem_size;
  return image;
}

MultibootBoot Loader::load(core::X86CpuState& cpu) {
  if (options_.kernel.empty()) throw LoadError("no kernel given (-kernel)");
  std::unique_ptr<replay::ImageFile> kernel_file = open("kernel", options_.kernel);
  // The header lies in the first 8 KiB; the a.out fields follow it.
  Bytes kernel = read_head(*kernel_file, kMultibootSearchBytes + 32);

  HeaderSearch search = find_header(kernel);
  if (!search.offset) {
    if (search.bad_offset) {
      uint64_t off = *search.bad_offset;
      fail("Multiboot header at offset " + hex(off) + " has a bad checksum (magic + flags + checksum = " +
           hex(static_cast<uint32_t>(kMultibootHeaderMagic + le32(kernel, off + 4) + le32(kernel, off + 8))) +
           ", must be 0)");
    }
    throw LoadError(who_ + " is not a Multiboot kernel: no Multiboot header (magic " + hex(kMultibootHeaderMagic) +
                    ") in its first " + std::to_string(kMultibootSearchBytes) + " bytes");
  }
  uint64_t header = *search.offset;
  uint32_t flags = le32(kernel, header + 4);
  check_flags(flags);
  Image image = (flags & kFlagAoutKludge) ? parse_aout(kernel, kernel_file->size(), header)
                                          : parse_elf(*kernel_file, kernel);

  for (const Segment& s : image.segments) check_placement(s.what, s.addr, s.mem_size);

  // Behind the kernel, as QEMU lays it out: the module list, the command
  // lines (modules' first, then the kernel's), the boot loader name, then
  // each module on its own pages.
  const std::vector<std::string>& modules = options_.modules;
  uint64_t base = image.low;
  uint64_t size = page_align(image.high - image.low);
  uint64_t mods_offset = size;
  std::string cmdline = options_.kernel + " " + options_.append;
  uint64_t cmdlines_len = cmdline.size() + 1;
  for (const std::string& m : modules) cmdlines_len += m.size() + 1;
  uint64_t cmdlines_offset = mods_offset + modules.size() * kModuleEntrySize;
  uint64_t name_offset = cmdlines_offset + cmdlines_len;
  size = page_align(name_offset + std::strlen(kBootloaderName) + 1);
  uint64_t metadata_end = size;

  std::vector<std::unique_ptr<replay::ImageFile>> module_files;
  MultibootBoot boot;
  for (const std::string& m : modules) {
    module_files.push_back(open("initrd", multiboot_module_path(m)));
    uint64_t module_size = module_files.back()->size();
    uint64_t start = base + size;
    if (start + module_size >= k4GiB) fail("module '" + m + "' does not fit below 4 GiB");
    size = page_align(size + module_size);
    boot.modules.push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(start + module_size), m});
  }
  check_placement(modules.empty() ? std::string("the Multiboot command lines")
                                  : "the Multiboot command lines and " + std::to_string(modules.size()) + " module(s)",
                  base + mods_offset, size - mods_offset);
  const uint64_t area = info_area(image, base + mods_offset, base + size);
  const uint32_t mmap_addr = static_cast<uint32_t>(area + kMultibootMmapOffset);
  const uint32_t info_addr = static_cast<uint32_t>(area + kMultibootInfoOffset);
  const uint32_t gdt_addr = static_cast<uint32_t>(area + kMultibootGdtOffset);

  // Everything checked: write the image.
  for (const Segment& s : image.segments) {
    copy_to_guest(*kernel_file, s.file_offset, s.addr, s.file_size);
    write_zeros(s.addr + s.file_size, s.mem_size - s.file_size);
  }

  Bytes meta(metadata_end - mods_offset, 0);
  uint64_t next_string = cmdlines_offset - mods_offset;
  auto add_string = [&](const std::string& text) {
    std::memcpy(meta.data() + next_string, text.c_str(), text.size() + 1);
    uint64_t addr = base + mods_offset + next_string;
    next_string += text.size() + 1;
    return static_cast<uint32_t>(addr);
  };
  for (size_t i = 0; i < modules.size(); ++i) {
    uint64_t entry = i * kModuleEntrySize;
    put32(meta, entry, boot.modules[i].start);
    put32(meta, entry + 4, boot.modules[i].end);
    put32(meta, entry + 8, add_string(modules[i]));
    copy_to_guest(*module_files[i], 0, boot.modules[i].start, module_files[i]->size());
  }
  uint32_t cmdline_addr = add_string(cmdline);
  next_string = name_offset - mods_offset;
  uint32_t name_addr = add_string(kBootloaderName);
  memory_.write_bytes(base + mods_offset, meta.data(), meta.size());

  // The memory map, the information structure and the GDT.
  std::vector<PcMemoryLayout::MapEntry> map = layout_.memory_map();
  Bytes mmap(map.size() * kMmapEntrySize, 0);
  for (size_t i = 0; i < map.size(); ++i) {
    put32(mmap, i * kMmapEntrySize, kMmapEntrySize - 4);
    put64(mmap, i * kMmapEntrySize + 4, map[i].base);
    put64(mmap, i * kMmapEntrySize + 12, map[i].length);
    put32(mmap, i * kMmapEntrySize + 20, map[i].type);
  }
  memory_.write_bytes(mmap_addr, mmap.data(), mmap.size());

  Bytes mbi(kMbiSize, 0);
  put32(mbi, kMbiFlags, kInfoMemory | kInfoBootDevice | kInfoCmdline | kInfoModules | kInfoMmap | kInfoBootloaderName);
  put32(mbi, kMbiMemLower, static_cast<uint32_t>(std::min(layout_.ram_size, PcMemoryLayout::kEbdaBase) / 1024));
  put32(mbi, kMbiMemUpper, static_cast<uint32_t>(layout_.upper_memory_kib()));
  put32(mbi, kMbiBootDevice, 0x8000ffff);  // first BIOS disk, no partition (QEMU's value)
  put32(mbi, kMbiCmdline, cmdline_addr);
  put32(mbi, kMbiModsCount, static_cast<uint32_t>(modules.size()));
  put32(mbi, kMbiModsAddr, static_cast<uint32_t>(base + mods_offset));
  put32(mbi, kMbiMmapLength, static_cast<uint32_t>(mmap.size()));
  put32(mbi, kMbiMmapAddr, mmap_addr);
  put32(mbi, kMbiBootloaderName, name_addr);
  memory_.write_bytes(info_addr, mbi.data(), mbi.size());

  // null; 0x08 flat 32-bit code; 0x10 flat data; 0x18/0x20 16-bit code/data
  // (the descriptors QEMU's multiboot ROM uses, accessed bits set as after
  // the loads below).
  static constexpr uint64_t kGdt[] = {0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull, 0x00009f000000ffffull,
                                      0x000093000000ffffull};
  Bytes gdt(sizeof kGdt);
  for (size_t i = 0; i < std::size(kGdt); ++i) put64(gdt, i * 8, kGdt[i]);
  memory_.write_bytes(gdt_addr, gdt.data(), gdt.size());

  using core::SegReg;
  constexpr uint16_t kFlat = core::seg_attr::kS | core::seg_attr::kP | core::seg_attr::kDb | core::seg_attr::kG;
  cpu.gpr[core::kRax] = kMultibootBootloaderMagic;
  cpu.gpr[core::kRbx] = info_addr;
  cpu.rip = image.entry;
  cpu.rflags = core::rflags::kFixed1;
  cpu.cr0 = core::cr0::kPe | core::cr0::kEt;
  cpu.cr3 = 0;
  cpu.cr4 = 0;
  cpu.efer = 0;
  cpu.seg[static_cast<int>(SegReg::kCs)] = {0x08, static_cast<uint16_t>(kFlat | 0xb), 0xffffffff, 0};
  for (SegReg r : {SegReg::kDs, SegReg::kEs, SegReg::kFs, SegReg::kGs, SegReg::kSs}) {
    cpu.seg[static_cast<int>(r)] = {0x10, static_cast<uint16_t>(kFlat | 0x3), 0xffffffff, 0};
  }
  cpu.gdtr = {gdt_addr, static_cast<uint16_t>(sizeof kGdt - 1)};
  cpu.halted = false;
  cpu.interrupt_shadow = 0;

  boot.entry = image.entry;
  boot.info_addr = info_addr;
  boot.image_start = static_cast<uint32_t>(image.low);
  boot.image_end = static_cast<uint32_t>(image.high);
  boot.cmdline = cmdline;
  return boot;
}

}  // namespace

std::string multiboot_module_path(const std::string& entry) { return entry.substr(0, entry.find(' ')); }

bool is_multiboot_kernel(replay::ImageFile& file) {
  try {
    return find_header(read_head(file, kMultibootSearchBytes)).offset.has_value();
  } catch (const std::runtime_error&) {
    return false;
  }
}

MultibootBoot load_multiboot(core::AddressSpace& memory, const PcMemoryLayout& layout,
                             const MultibootOptions& options, core::X86CpuState& cpu) {
  return Loader(memory, layout, options).load(cpu);
}

}  // namespace rwd::hw
