// The Linux boot protocol loader on small bzImages built here: the entry
// state of the 64-bit and 32-bit paths, boot_params as the kernel reads it,
// the loader's page tables, and every malformed input it must refuse with a
// clear message. (The linux_boot guests run the same path end to end, under
// rewind and under QEMU.)
#define BOOST_TEST_MODULE hw_linux_boot
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/memory.h"
#include "core/x86_cpu_state.h"
#include "hw/acpi_tables.h"
#include "hw/loaders/linux_boot.h"
#include "replay/host/host_files.h"

using namespace rwd;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint64_t kRamSize = 64ull << 20;

void put(Bytes& b, size_t off, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

struct Image {
  uint16_t version = 0x020f;
  uint8_t setup_sects = 1;
  uint8_t loadflags = 0x01;
  uint16_t xloadflags = 1;
  uint64_t pref_address = 0x400000;
  uint32_t alignment = 0x200000;
  uint8_t relocatable = 1;
  uint32_t init_size = 0x40000;
  uint32_t initrd_addr_max = 0x7fffffff;
  uint32_t cmdline_size = 2047;
  size_t kernel_bytes = 0x3000;

  Bytes build() const {
    Bytes b(1024 + kernel_bytes, 0);
    b[0x1f1] = setup_sects;
    put(b, 0x1fe, 0xaa55, 2);
    b[0x200] = 0xeb;
    b[0x201] = 0x6a;  // the header ends at 0x26c
    std::memcpy(&b[0x202], "HdrS", 4);
    put(b, 0x206, version, 2);
    b[0x211] = loadflags;
    put(b, 0x214, 0x100000, 4);
    put(b, 0x22c, initrd_addr_max, 4);
    put(b, 0x230, alignment, 4);
    b[0x234] = relocatable;
    put(b, 0x236, xloadflags, 2);
    put(b, 0x238, cmdline_size, 4);
    put(b, 0x258, pref_address, 8);
    put(b, 0x260, init_size, 4);
    b[0x26c] = 0x5a;  // past the header: not part of boot_params
    for (size_t i = 1024; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i * 13 + 5);
    return b;
  }
};

struct Fixture {
  Fixture() : dir(fs::temp_directory_path() / ("rewind_test_hw_linux_boot_" + std::to_string(getpid()))) {
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
  hw::LinuxBoot load(const Image& image, const std::string& append = "", std::vector<std::string> initrd = {}) {
    return load_bytes(image.build(), append, std::move(initrd));
  }
  hw::LinuxBoot load_bytes(const Bytes& content, const std::string& append = "", std::vector<std::string> initrd = {}) {
    return hw::load_linux(memory, layout, {file("bzImage", content), append, initrd, replay::open_host_image}, cpu);
  }
  std::string error(const Image& image, const std::string& append = "", std::vector<std::string> initrd = {}) {
    return error_of_bytes(image.build(), append, std::move(initrd));
  }
  std::string error_of_bytes(const Bytes& content, const std::string& append = "",
                             std::vector<std::string> initrd = {}) {
    try {
      load_bytes(content, append, std::move(initrd));
    } catch (const hw::LoadError& e) {
      return e.what();
    }
    return "(no error)";
  }
  uint64_t read(uint64_t addr, int n) {
    uint64_t v = 0;
    memory.read_bytes(addr, &v, static_cast<uint64_t>(n));
    return v;
  }
  // The loader's page tables, walked by hand.
  uint64_t translate(uint64_t va) {
    uint64_t pml4e = read((cpu.cr3 & ~0xfffull) + ((va >> 39) & 511) * 8, 8);
    if (!(pml4e & 1)) return ~0ull;
    uint64_t pdpte = read((pml4e & ~0xfffull) + ((va >> 30) & 511) * 8, 8);
    if (!(pdpte & 1)) return ~0ull;
    uint64_t pde = read((pdpte & ~0xfffull) + ((va >> 21) & 511) * 8, 8);
    if (!(pde & 1) || !(pde & 0x80) || !(pde & 2)) return ~0ull;
    return (pde & 0xfffffffe00000ull) | (va & 0x1fffff);
  }

  fs::path dir;
  hw::PcMemoryLayout layout = hw::PcMemoryLayout::for_ram(kRamSize);
  std::vector<uint8_t> ram = std::vector<uint8_t>(kRamSize);
  core::AddressSpace memory{"memory", ~0ull};
  core::X86CpuState cpu{};
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_64bit_kernel_is_entered_in_long_mode_with_boot_params_and_an_identity_map, Fixture) {
  Image image;
  Bytes built = image.build();
  std::string initrd = file("initrd", Bytes(5000, 0xab));
  hw::LinuxBoot boot = load(image, "console=ttyS0 quiet", {initrd});
  BOOST_TEST(boot.entered_64bit);
  BOOST_TEST(boot.protocol == 0x020f);

  // Entry state (boot.rst, "64-bit Boot Protocol").
  BOOST_TEST(cpu.rip == 0x400200u);
  BOOST_TEST(cpu.gpr[core::kRsi] == hw::kLinuxBootParamsAddr);
  BOOST_TEST(cpu.cr0 == (core::cr0::kPe | core::cr0::kEt | core::cr0::kPg));
  BOOST_TEST(cpu.cr4 == core::cr4::kPae);
  BOOST_TEST(cpu.efer == (core::efer::kLme | core::efer::kLma));
  BOOST_TEST(cpu.rflags == core::rflags::kFixed1);  // interrupts off
  const core::SegmentCache& cs = cpu.seg[static_cast<int>(core::SegReg::kCs)];
  BOOST_TEST(cs.selector == 0x10);
  BOOST_TEST((cs.attrs & core::seg_attr::kL) != 0);
  BOOST_TEST((cs.attrs & core::seg_attr::kDb) == 0);
  for (core::SegReg r : {core::SegReg::kDs, core::SegReg::kEs, core::SegReg::kSs}) {
    BOOST_TEST(cpu.seg[static_cast<int>(r)].selector == 0x18);
  }
  // The GDT in memory says what the segment caches hold.
  BOOST_TEST(read(cpu.gdtr.base + 0x10, 8) == 0x00af9b000000ffffull);
  BOOST_TEST(read(cpu.gdtr.base + 0x18, 8) == 0x00cf93000000ffffull);

  // Identity-mapped: the kernel, boot_params, the command line, the initrd, and the top of 4 GiB.
  for (uint64_t va : std::vector<uint64_t>{0, 0x10000, 0x20000, 0x400200, boot.initrd_addr, 0xfee00000, 0xffffffff}) {
    BOOST_TEST(translate(va) == va);
  }

  // The protected-mode kernel at pref_address, byte for byte.
  Bytes loaded(image.kernel_bytes);
  memory.read_bytes(0x400000, loaded.data(), loaded.size());
  BOOST_TEST((loaded == Bytes(built.begin() + 1024, built.end())));

  // boot_params: the setup header, then what the loader fills in.
  const uint64_t bp = hw::kLinuxBootParamsAddr;
  BOOST_TEST(read(bp + 0x202, 4) == 0x53726448u);
  BOOST_TEST(read(bp + 0x230, 4) == 0x200000u);  // copied header field
  BOOST_TEST(read(bp + 0x26c, 1) == 0u);         // past the header: not copied
  BOOST_TEST(read(bp + 0x1ef, 1) == 0u);         // the sentinel: zero, so the kernel trusts boot_params
  BOOST_TEST(read(bp + 0x210, 1) == 0xffu);      // type_of_loader
  uint64_t cmdline = read(bp + 0x228, 4);
  char text[32] = {};
  memory.read_bytes(cmdline, text, sizeof text - 1);
  BOOST_TEST(std::string(text) == "console=ttyS0 quiet");
  BOOST_TEST(read(bp + 0x218, 4) == boot.initrd_addr);
  BOOST_TEST(read(bp + 0x21c, 4) == 5000u);
  BOOST_TEST(boot.initrd_addr % 4096 == 0u);
  BOOST_TEST(boot.initrd_addr >= boot.reserved_end);
  BOOST_TEST(boot.initrd_addr + 5000 <= layout.usable_top_below_4g());  // below the ACPI tables
  BOOST_TEST(boot.initrd_addr + 5000 > layout.usable_top_below_4g() - 4096);  // as high as it goes
  BOOST_TEST(read(bp + 0x070, 8) == hw::acpi_rsdp_address(layout));  // acpi_rsdp_addr (protocol 2.14+)
  BOOST_TEST(read(bp + 0x070, 8) != 0u);
  BOOST_TEST(read(boot.initrd_addr + 4999, 1) == 0xabu);
  std::vector<hw::PcMemoryLayout::MapEntry> map = layout.memory_map();
  BOOST_TEST(read(bp + 0x1e8, 1) == map.size());
  for (size_t i = 0; i < map.size(); ++i) {
    BOOST_TEST(read(bp + 0x2d0 + 20 * i, 8) == map[i].base);
    BOOST_TEST(read(bp + 0x2d0 + 20 * i + 8, 8) == map[i].length);
    BOOST_TEST(read(bp + 0x2d0 + 20 * i + 16, 4) == map[i].type);
  }
}

BOOST_FIXTURE_TEST_CASE(a_kernel_without_xlf_kernel_64_is_entered_at_the_32bit_entry_without_paging, Fixture) {
  Image image;
  image.xloadflags = 0;
  hw::LinuxBoot boot = load(image);
  BOOST_TEST(!boot.entered_64bit);
  BOOST_TEST(cpu.rip == 0x400000u);
  BOOST_TEST(cpu.gpr[core::kRsi] == hw::kLinuxBootParamsAddr);
  BOOST_TEST(cpu.cr0 == (core::cr0::kPe | core::cr0::kEt));
  BOOST_TEST(cpu.efer == 0u);
  const core::SegmentCache& cs = cpu.seg[static_cast<int>(core::SegReg::kCs)];
  BOOST_TEST(cs.selector == 0x10);
  BOOST_TEST((cs.attrs & core::seg_attr::kDb) != 0);
  BOOST_TEST(read(cpu.gdtr.base + 0x10, 8) == 0x00cf9b000000ffffull);
  BOOST_TEST(read(hw::kLinuxBootParamsAddr + 0x218, 4) == 0u);  // no initrd
  BOOST_TEST(read(hw::kLinuxBootParamsAddr + 0x214, 4) == 0x400000u);  // code32_start: where it was loaded
}

BOOST_FIXTURE_TEST_CASE(setup_sects_zero_means_four, Fixture) {
  Image image;
  image.setup_sects = 0;
  Bytes built = image.build();
  built.insert(built.begin() + 1024, 3 * 512, 0x11);  // three more setup sectors
  load_bytes(built);
  BOOST_TEST(read(0x400000, 1) == built[2560]);
}

BOOST_FIXTURE_TEST_CASE(malformed_and_unsupported_images_are_refused_with_one_line, Fixture) {
  auto check = [&](const Image& image, const std::string& part, const std::string& append = "",
                   std::vector<std::string> initrd = {}) {
    std::string message = error(image, append, std::move(initrd));
    BOOST_TEST_INFO(message);
    BOOST_TEST(contains(message, part));
    BOOST_TEST((contains(message, "kernel '") || contains(message, "initrd '")));  // names the file
    BOOST_TEST(message.find('\n') == std::string::npos);
  };
  Image old;
  old.version = 0x020a;
  check(old, "Linux boot protocol 2.10 is older than 2.12");
  Image zimage;
  zimage.loadflags = 0;
  check(zimage, "zImage");
  Image truncated;
  truncated.setup_sects = 40;
  check(truncated, "truncated bzImage: 40 setup sectors");
  Image misaligned;
  misaligned.pref_address = 0x410000;
  check(misaligned, "pref_address 0x410000 is not aligned to kernel_alignment 0x200000");
  Image low;
  low.pref_address = 0x80000;
  low.relocatable = 0;
  check(low, "pref_address 0x80000 lies below 1 MiB");
  Image huge;
  huge.init_size = 128u << 20;
  check(huge, "does not fit in guest RAM (64 MiB)");
  Image small_cmdline;
  small_cmdline.cmdline_size = 8;
  check(small_cmdline, "the command line (-append) has 13 bytes; the kernel accepts at most 8", "console=ttyS0");
  std::string initrd = file("initrd", Bytes(100000, 1));
  check(Image{}, "a Linux kernel takes one initrd, 2 were given", "", {initrd, initrd});
  Image low_initrd_max;
  low_initrd_max.initrd_addr_max = 0x43ffff;  // ends inside the kernel's init_size
  check(low_initrd_max, "initrd '" + initrd + "' (100000 bytes) does not fit between the kernel's end 0x440000",
        "", {initrd});
  check(Image{}, "initrd 'no-such-file'", "", {"no-such-file"});

  BOOST_TEST(contains(error_of_bytes(Bytes(0x100, 0)), "truncated bzImage"));
  Bytes not_linux = Image{}.build();
  not_linux[0x202] = 'X';
  BOOST_TEST(contains(error_of_bytes(not_linux), "not a Linux bzImage"));
}

BOOST_FIXTURE_TEST_CASE(only_images_with_a_setup_header_are_linux_kernels, Fixture) {
  auto is_linux = [&](const Bytes& content) {
    return hw::is_linux_kernel(*replay::open_host_image("kernel", file("probe", content), kRamSize));
  };
  BOOST_TEST(is_linux(Image{}.build()));
  Image old;
  old.version = 0x0200;
  BOOST_TEST(is_linux(old.build()));  // recognised, then refused with the reason
  Bytes no_flag = Image{}.build();
  no_flag[0x1fe] = 0;
  BOOST_TEST(!is_linux(no_flag));
  BOOST_TEST(!is_linux(Bytes(0x100, 0)));
  BOOST_TEST(!is_linux(Bytes{}));
}

BOOST_FIXTURE_TEST_CASE(nothing_is_written_before_the_whole_image_is_checked, Fixture) {
  Image image;
  image.cmdline_size = 2;
  BOOST_TEST(contains(error(image, "too long"), "accepts at most 2"));
  BOOST_TEST(read(0x400000, 8) == 0u);
  BOOST_TEST(read(hw::kLinuxBootParamsAddr + 0x202, 4) == 0u);
}
