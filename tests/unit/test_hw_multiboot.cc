// The Multiboot v1 loader on small ELF and a.out-kludge images built here,
// and every malformed input it must reject with a clear message.
#define BOOST_TEST_MODULE hw_multiboot
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/memory.h"
#include "core/x86_cpu_state.h"
#include "hw/loaders/multiboot.h"
#include "replay/host/host_files.h"

using namespace rwd;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint64_t kRamSize = 16ull << 20;
constexpr uint32_t kMagic = 0x1badb002;

void put32(Bytes& b, size_t off, uint32_t v) {
  if (b.size() < off + 4) b.resize(off + 4);
  for (int i = 0; i < 4; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}
void put16(Bytes& b, size_t off, uint16_t v) {
  if (b.size() < off + 2) b.resize(off + 2);
  b[off] = v & 0xff;
  b[off + 1] = static_cast<uint8_t>(v >> 8);
}

// A Multiboot header (without address fields) at `off`.
void put_header(Bytes& b, size_t off, uint32_t flags, uint32_t checksum_delta = 0) {
  put32(b, off, kMagic);
  put32(b, off + 4, flags);
  put32(b, off + 8, static_cast<uint32_t>(-(kMagic + flags)) + checksum_delta);
}

struct ElfSegment {
  uint32_t vaddr, paddr, flags;
  Bytes data;
  uint32_t memsz;
};

// An ELF32 executable: header, program headers, then segment data from
// offset 0x100 on. The Multiboot header goes at the start of the first
// segment's data (file offset 0x100).
Bytes make_elf(uint32_t entry, const std::vector<ElfSegment>& segments, bool with_header = true) {
  Bytes b(0x100, 0);
  b[0] = 0x7f, b[1] = 'E', b[2] = 'L', b[3] = 'F';
  b[4] = 1, b[5] = 1, b[6] = 1;
  put16(b, 16, 2);   // ET_EXEC
  put16(b, 18, 3);   // EM_386
  put32(b, 20, 1);
  put32(b, 24, entry);
  put32(b, 28, 52);  // e_phoff
  put16(b, 40, 52);
  put16(b, 42, 32);
  put16(b, 44, static_cast<uint16_t>(segments.size()));
  uint32_t offset = 0x100;
  for (size_t i = 0; i < segments.size(); ++i) {
    const ElfSegment& s = segments[i];
    size_t ph = 52 + i * 32;
    put32(b, ph, 1);  // PT_LOAD
    put32(b, ph + 4, offset);
    put32(b, ph + 8, s.vaddr);
    put32(b, ph + 12, s.paddr);
    put32(b, ph + 16, static_cast<uint32_t>(s.data.size()));
    put32(b, ph + 20, s.memsz);
    put32(b, ph + 24, s.flags);
    put32(b, ph + 28, 0x1000);
    b.resize(offset);
    b.insert(b.end(), s.data.begin(), s.data.end());
    offset = static_cast<uint32_t>(b.size());
  }
  b.resize(0x100 > b.size() ? 0x100 : b.size());
  if (with_header) put_header(b, 0x100, 0x3);
  return b;
}

Bytes pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7);
  return b;
}

// The usual test kernel: text at 1 MiB (linked at 3 GiB + 1 MiB), data + bss behind.
Bytes test_elf() {
  return make_elf(0xc0100010, {{0xc0100000, 0x100000, 5, pattern(0x100, 1), 0x100},
                               {0xc0101000, 0x101000, 6, pattern(0x10, 2), 0x2000}});
}

// An a.out-kludge image: header at file offset 0x20, loaded at 2 MiB.
Bytes test_aout(uint32_t load_end, uint32_t bss_end, uint32_t header_addr = 0x200020) {
  Bytes b = pattern(0x100, 3);
  uint32_t flags = 0x00010002;
  put32(b, 0x20, kMagic);
  put32(b, 0x24, flags);
  put32(b, 0x28, static_cast<uint32_t>(-(kMagic + flags)));
  put32(b, 0x2c, header_addr);
  put32(b, 0x30, 0x200000);
  put32(b, 0x34, load_end);
  put32(b, 0x38, bss_end);
  put32(b, 0x3c, 0x200040);
  return b;
}

struct Fixture {
  Fixture() : dir(fs::temp_directory_path() / ("rewind_test_hw_multiboot_" + std::to_string(getpid()))) {
    fs::create_directories(dir);
    for (const hw::PcMemoryLayout::RamRange& r : layout.ram_ranges()) {
      memory.add_ram("ram@" + std::to_string(r.guest_base), r.guest_base, r.size, ram.data() + r.ram_offset);
    }
  }
  ~Fixture() { fs::remove_all(dir); }

  std::string file(const std::string& name, const Bytes& content) {
    std::string path = (dir / name).string();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(content.data()),
                                                static_cast<std::streamsize>(content.size()));
    return path;
  }
  hw::MultibootBoot load(const std::string& kernel, const std::string& append = "",
                         std::vector<std::string> modules = {}) {
    return hw::load_multiboot(memory, layout, hw::MultibootOptions{kernel, append, modules, replay::open_host_image},
                              cpu);
  }
  std::string error(const std::string& kernel, std::vector<std::string> modules = {}) {
    try {
      load(kernel, "", std::move(modules));
    } catch (const hw::LoadError& e) {
      return e.what();
    }
    return "(no error)";
  }
  bool is_multiboot(const std::string& path) {
    return hw::is_multiboot_kernel(*replay::open_host_image("kernel", path, kRamSize));
  }
  uint32_t r32(uint64_t addr) { return static_cast<uint32_t>(memory.read(addr, 4)); }
  uint64_t r64(uint64_t addr) { return memory.read(addr, 8); }
  std::string str(uint64_t addr) {
    std::string s;
    while (char c = static_cast<char>(memory.read(addr++, 1))) s += c;
    return s;
  }
  bool ram_equals(uint64_t addr, const Bytes& expected) {
    return std::equal(expected.begin(), expected.end(), ram.begin() + static_cast<ptrdiff_t>(addr));
  }
  bool untouched(uint64_t addr, uint64_t len) {
    return std::all_of(ram.begin() + static_cast<ptrdiff_t>(addr), ram.begin() + static_cast<ptrdiff_t>(addr + len),
                       [](uint8_t v) { return v == 0xaa; });
  }

  fs::path dir;
  hw::PcMemoryLayout layout = hw::PcMemoryLayout::for_ram(kRamSize);
  Bytes ram = Bytes(kRamSize, 0xaa);
  core::AddressSpace memory{"memory", ~0ull};
  core::X86CpuState cpu = core::X86CpuState{};
};

bool contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return true;
  BOOST_TEST_MESSAGE("message: " << text);
  return false;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(multiboot, Fixture)

BOOST_AUTO_TEST_CASE(elf_kernel) {
  std::string kernel = file("kernel.elf", test_elf());
  std::string mod1 = file("initrd.img", pattern(0x1234, 9));
  std::string mod2 = file("second.bin", pattern(10, 4));
  BOOST_TEST(is_multiboot(kernel));
  hw::MultibootBoot boot = load(kernel, "console=ttyS0 quiet", {mod1, mod2 + " arg=1"});

  // Segments by physical address, bss zeroed, entry moved to its physical address.
  BOOST_TEST(ram_equals(0x100000, [] { Bytes b = pattern(0x100, 1); put_header(b, 0, 0x3); return b; }()));
  BOOST_TEST(ram_equals(0x101000, pattern(0x10, 2)));
  BOOST_TEST(std::all_of(ram.begin() + 0x101010, ram.begin() + 0x103000, [](uint8_t v) { return v == 0; }));
  BOOST_TEST(boot.entry == 0x100010u);
  BOOST_TEST(boot.image_start == 0x100000u);
  BOOST_TEST(boot.image_end == 0x103000u);

  // Entry state.
  BOOST_TEST(cpu.rip == 0x100010u);
  BOOST_TEST(cpu.gpr[core::kRax] == 0x2badb002u);
  BOOST_TEST(cpu.gpr[core::kRbx] == 0x9500u);
  BOOST_TEST(cpu.rflags == 0x2u);
  BOOST_TEST(cpu.cr0 == (core::cr0::kPe | core::cr0::kEt));
  BOOST_TEST(!cpu.paging());
  const core::SegmentCache& cs = cpu.seg[static_cast<int>(core::SegReg::kCs)];
  BOOST_TEST(cs.selector == 0x08);
  BOOST_TEST(cs.attrs == 0xc09b);
  BOOST_TEST(cs.limit == 0xffffffffu);
  BOOST_TEST(cs.base == 0u);
  for (core::SegReg r : {core::SegReg::kDs, core::SegReg::kEs, core::SegReg::kFs, core::SegReg::kGs, core::SegReg::kSs}) {
    const core::SegmentCache& s = cpu.seg[static_cast<int>(r)];
    BOOST_TEST(s.selector == 0x10);
    BOOST_TEST(s.attrs == 0xc093);
    BOOST_TEST(s.limit == 0xffffffffu);
  }
  BOOST_TEST(cpu.gdtr.base == 0x9600u);
  BOOST_TEST(cpu.gdtr.limit == 39);
  BOOST_TEST(r64(0x9608) == 0x00cf9b000000ffffull);
  BOOST_TEST(r64(0x9610) == 0x00cf93000000ffffull);

  // The information structure.
  const uint32_t mbi = 0x9500;
  BOOST_TEST(r32(mbi) == 0x24fu);  // mem, boot device, cmdline, mods, mmap, loader name
  BOOST_TEST(r32(mbi + 4) == 639u);
  BOOST_TEST(r32(mbi + 8) == 15u * 1024);
  BOOST_TEST(r32(mbi + 12) == 0x8000ffffu);
  BOOST_TEST(str(r32(mbi + 16)) == kernel + " console=ttyS0 quiet");
  BOOST_TEST(boot.cmdline == kernel + " console=ttyS0 quiet");
  BOOST_TEST(str(r32(mbi + 64)) == "rewind");

  // Modules: page-aligned behind the kernel, its module list and strings.
  BOOST_TEST(r32(mbi + 20) == 2u);
  uint32_t mods = r32(mbi + 24);
  BOOST_TEST(mods == 0x103000u);
  BOOST_TEST(r32(mods) == 0x104000u);
  BOOST_TEST(r32(mods + 4) == 0x104000u + 0x1234);
  BOOST_TEST(str(r32(mods + 8)) == mod1);
  BOOST_TEST(r32(mods + 16) == 0x106000u);
  BOOST_TEST(r32(mods + 20) == 0x106000u + 10);
  BOOST_TEST(str(r32(mods + 24)) == mod2 + " arg=1");
  BOOST_TEST(ram_equals(0x104000, pattern(0x1234, 9)));
  BOOST_TEST(ram_equals(0x106000, pattern(10, 4)));
  BOOST_TEST(boot.modules.size() == 2u);
  BOOST_TEST(boot.modules[1].string == mod2 + " arg=1");

  // The memory map.
  BOOST_TEST(r32(mbi + 48) == 0x9000u);
  BOOST_TEST(r32(mbi + 44) == 5u * 24);
  const uint64_t expected[5][3] = {{0, 0x9fc00, 1},
                                   {0x9fc00, 0x400, 2},
                                   {0xf0000, 0x10000, 2},
                                   {0x100000, (15ull << 20) - 0x20000, 1},
                                   {0xfe0000, 0x20000, 2}};  // the firmware area (ACPI tables)
  for (int i = 0; i < 5; ++i) {
    uint64_t e = 0x9000 + i * 24;
    BOOST_TEST(r32(e) == 20u);
    BOOST_TEST(r64(e + 4) == expected[i][0]);
    BOOST_TEST(r64(e + 12) == expected[i][1]);
    BOOST_TEST(r32(e + 20) == expected[i][2]);
  }
}

BOOST_AUTO_TEST_CASE(cmdline_without_append_is_path_and_space) {
  std::string kernel = file("k", test_elf());
  load(kernel);
  BOOST_TEST(str(r32(0x9500 + 16)) == kernel + " ");
  BOOST_TEST(r32(0x9500 + 20) == 0u);
  BOOST_TEST(r32(0x9500 + 24) == 0x103000u);
}

BOOST_AUTO_TEST_CASE(entry_already_physical) {
  std::string kernel = file("k", make_elf(0x100020, {{0x100000, 0x100000, 5, pattern(0x40, 1), 0x40}}));
  BOOST_TEST(load(kernel).entry == 0x100020u);
}

BOOST_AUTO_TEST_CASE(aout_kludge) {
  std::string kernel = file("flat.bin", test_aout(0x200100, 0x202000));
  hw::MultibootBoot boot = load(kernel);
  Bytes expected = test_aout(0x200100, 0x202000);
  BOOST_TEST(ram_equals(0x200000, expected));
  BOOST_TEST(std::all_of(ram.begin() + 0x200100, ram.begin() + 0x202000, [](uint8_t v) { return v == 0; }));
  BOOST_TEST(boot.entry == 0x200040u);
  BOOST_TEST(cpu.rip == 0x200040u);
  BOOST_TEST(boot.image_end == 0x202000u);
  BOOST_TEST(r32(0x9500 + 24) == 0x202000u);
}

BOOST_AUTO_TEST_CASE(aout_kludge_whole_file) {
  std::string kernel = file("flat.bin", test_aout(0, 0));
  hw::MultibootBoot boot = load(kernel);
  BOOST_TEST(ram_equals(0x200000, test_aout(0, 0)));
  BOOST_TEST(boot.image_end == 0x200100u);
}

BOOST_AUTO_TEST_CASE(missing_files) {
  BOOST_TEST(error(dir.string() + "/nope") == "kernel '" + dir.string() + "/nope': cannot open: No such file or directory");
  BOOST_TEST(error("") == "no kernel given (-kernel)");
  std::string kernel = file("k", test_elf());
  BOOST_TEST(error(kernel, {dir.string() + "/missing.img arg"}) ==
             "initrd '" + dir.string() + "/missing.img': cannot open: No such file or directory");
  BOOST_TEST(untouched(0x100000, 0x3000));  // nothing written before everything was checked
  BOOST_TEST(untouched(0x9000, 0x1000));

}

BOOST_AUTO_TEST_CASE(not_multiboot) {
  Bytes b = pattern(12000, 5);
  put_header(b, 8192, 0x3);  // too late: only the first 8 KiB count
  std::string kernel = file("late", b);
  BOOST_TEST(error(kernel) == "kernel '" + kernel +
                                  "' is not a Multiboot kernel: no Multiboot header (magic 0x1badb002) in its first "
                                  "8192 bytes");
  BOOST_TEST(!is_multiboot(kernel));
  BOOST_TEST(contains(error(file("empty", {})), "is not a Multiboot kernel"));
}

BOOST_AUTO_TEST_CASE(bad_checksum) {
  Bytes b = test_elf();
  put_header(b, 0x100, 0x3, 1);
  std::string kernel = file("k", b);
  BOOST_TEST(error(kernel) == "kernel '" + kernel +
                                  "': Multiboot header at offset 0x100 has a bad checksum (magic + flags + checksum = "
                                  "0x1, must be 0)");
}

BOOST_AUTO_TEST_CASE(elf64_rejected) {
  Bytes b = test_elf();
  b[4] = 2;
  put16(b, 18, 62);
  BOOST_TEST(contains(error(file("k64", b)), "ELF64 (x86-64) image: Multiboot v1 loads 32-bit ELF kernels only"));
}

BOOST_AUTO_TEST_CASE(truncated_elf) {
  Bytes b = test_elf();
  put16(b, 44, 200);  // 200 program headers: the table runs off the file
  BOOST_TEST(contains(error(file("k1", b)), "truncated ELF: program header table at offset 0x34 (200 entries)"));
  b = test_elf();
  put32(b, 52 + 32 + 16, 0x10000);  // second segment's p_filesz beyond the file
  put32(b, 52 + 32 + 20, 0x10000);
  BOOST_TEST(contains(error(file("k2", b)), "truncated ELF: ELF program header 1 has its data at file offset"));
  b = test_elf();
  put32(b, 52 + 16, 0x200);  // p_filesz > p_memsz
  BOOST_TEST(contains(error(file("k3", b)), "ELF program header 0: p_filesz 0x200 exceeds p_memsz 0x100"));
  Bytes tiny(40, 0);
  tiny[0] = 0x7f, tiny[1] = 'E', tiny[2] = 'L', tiny[3] = 'F', tiny[4] = 1, tiny[5] = 1;
  put_header(tiny, 20, 0x3);
  BOOST_TEST(contains(error(file("k4", tiny)), "truncated ELF: the file (40 bytes) ends inside the ELF header"));
}

BOOST_AUTO_TEST_CASE(not_elf_without_address_fields) {
  Bytes b = pattern(0x100, 1);
  put_header(b, 0x40, 0x3);
  BOOST_TEST(contains(error(file("raw", b)), "flags bit 16 clear), so the image must be ELF, and it is not"));
}

BOOST_AUTO_TEST_CASE(placement_errors) {
  auto one_segment = [&](const std::string& name, uint32_t paddr, uint32_t memsz) {
    return error(file(name, make_elf(paddr, {{paddr, paddr, 5, pattern(0x100, 1), memsz}})));
  };
  BOOST_TEST(contains(one_segment("high", 0x2000000, 0x100),
                      "ELF program header 0 (p_paddr 0x2000000) at 0x2000000-0x20000ff does not fit in guest RAM (16 "
                      "MiB, at 0x0-0x9ffff, 0x100000-0xffffff)"));
  BOOST_TEST(contains(one_segment("hole", 0xa0000, 0x100), "at 0xa0000-0xa00ff does not fit in guest RAM"));
  BOOST_TEST(contains(one_segment("straddle", 0xfff000, 0x2000), "does not fit in guest RAM"));
  BOOST_TEST(contains(one_segment("all_low", 0x1000, 0x9e000),
                      "no free 4 KiB page of RAM below 0x9fc00 is left for the Multiboot information area"));
  BOOST_TEST(contains(one_segment("top", 0xfffff000, 0x2000), "lies beyond 4 GiB"));
  // The kernel fits, but its command lines behind it do not.
  BOOST_TEST(contains(one_segment("edge", 0xfdf000, 0x1000),
                      "the Multiboot command lines at 0xfe0000-0xfe0fff overlaps the ACPI tables at 0xfe0000-0xffffff"));
  BOOST_TEST(untouched(0xfdf000, 0x1000));
  BOOST_TEST(contains(one_segment("acpi", 0xff0000, 0x100), "at 0xff0000-0xff00ff overlaps the ACPI tables"));
}

// QEMU keeps its information area at 0x9000 and overwrites a kernel there;
// rewind moves the area to the first free page instead.
BOOST_AUTO_TEST_CASE(a_kernel_over_0x9000_keeps_its_bytes_and_gets_the_information_area_elsewhere) {
  Bytes text = pattern(0x2000, 5);
  std::string kernel = file("low.elf", make_elf(0x8010, {{0x8000, 0x8000, 5, text, 0x2000}}));
  Bytes loaded = text;
  put_header(loaded, 0, 0x3);
  hw::MultibootBoot boot = load(kernel, "low");
  BOOST_TEST(ram_equals(0x8000, loaded));  // 0x9000-0x9fff included
  BOOST_TEST(boot.info_addr == 0x1500u);
  BOOST_TEST(cpu.gpr[core::kRbx] == 0x1500u);
  BOOST_TEST(cpu.gdtr.base == 0x1600u);
  BOOST_TEST(r64(0x1608) == 0x00cf9b000000ffffull);
  BOOST_TEST(r32(0x1500 + 48) == 0x1000u);  // mmap_addr
  BOOST_TEST(str(r32(0x1500 + 16)) == kernel + " low");

  // An image over 0x1000-0x9fff as well: its command lines take 0xa000, so 0xb000.
  std::string wide = file("wide.elf", make_elf(0x1010, {{0x1000, 0x1000, 5, pattern(0x100, 6), 0x9000}}));
  BOOST_TEST(load(wide).info_addr == 0xb500u);
}

BOOST_AUTO_TEST_CASE(aout_errors) {
  std::string k = file("below", test_aout(0x200100, 0, 0x1ff000));
  BOOST_TEST(contains(error(k), "Multiboot header_addr 0x1ff000 is below load_addr 0x200000"));
  k = file("before", test_aout(0x200100, 0, 0x200100));
  BOOST_TEST(contains(error(k), "puts the image start before the beginning of the file"));
  k = file("long", test_aout(0x201000, 0));
  BOOST_TEST(contains(error(k), "truncated image: load_end_addr asks for 0x1000 bytes from file offset 0x0"));
  k = file("bss", test_aout(0x200100, 0x200080));
  BOOST_TEST(contains(error(k), "bss_end_addr 0x200080 is below the end of the loaded image 0x200100"));
  Bytes cut(0x2c, 0);
  put32(cut, 0x20, kMagic);
  put32(cut, 0x24, 0x10000);
  put32(cut, 0x28, static_cast<uint32_t>(-(kMagic + 0x10000)));
  BOOST_TEST(contains(error(file("cut", cut)), "is cut off by the end of the file"));
}

BOOST_AUTO_TEST_CASE(required_flags_rewind_does_not_meet_are_refused) {
  // Bits 0-15 are requirements (Multiboot 0.6.96, 3.1.2): a loader that does
  // not meet one must refuse the kernel. rewind meets bits 0 and 1.
  Bytes video = test_elf();
  put_header(video, 0x100, 0x7);  // bit 2: video mode table
  std::string message = error(file("video.elf", video));
  BOOST_TEST(contains(message, "video mode information (flags bit 2)"));
  Bytes unknown = test_elf();
  put_header(unknown, 0x100, 0x8003);  // bit 15
  BOOST_TEST(contains(error(file("unknown.elf", unknown)), "flags bits 0x8000"));
  BOOST_TEST(untouched(0x100000, 0x3000));
  // Optional bits (16-31) other than the a.out kludge are not requirements.
  Bytes optional = test_elf();
  put_header(optional, 0x100, 0x00020003);
  BOOST_CHECK_NO_THROW(load(file("optional.elf", optional)));
}

BOOST_AUTO_TEST_CASE(images_are_opened_as_regular_files_only) {
  std::string kernel = file("k", test_elf());
  BOOST_TEST(contains(error("/dev/zero"), "kernel '/dev/zero' is a character device, not a file"));
  BOOST_TEST(contains(error(dir.string()), "is a directory, not a file"));
  BOOST_TEST(contains(error(kernel, {"/dev/urandom"}), "initrd '/dev/urandom' is a character device"));
  // Larger than guest RAM: refused from the size alone.
  std::string big = file("big", {});
  fs::resize_file(big, kRamSize + 1);
  BOOST_TEST(contains(error(big), "more than the"));
  BOOST_TEST(contains(error(kernel, {big}), "initrd '" + big + "'"));
  BOOST_TEST(untouched(0x100000, 0x3000));
}

BOOST_AUTO_TEST_SUITE_END()
