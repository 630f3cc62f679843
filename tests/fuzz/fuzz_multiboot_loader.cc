// libFuzzer target: the kernel loaders (Multiboot, and Linux for an image
// with a setup header), fed mutated kernel images (seeded with the test
// guests' kernels) and modules or initrds from memory. The only
// acceptable failure is hw::LoadError with a one-line message; a crash, a
// sanitizer report, another exception, a hang or a memory blow-up is a bug.
// Input layout: the last byte says how many modules (0-2) there are; the
// rest is the kernel, each module taking a slice from its end (so a kernel
// file as it is makes a seed).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/memory.h"
#include "core/x86_cpu_state.h"
#include "hw/loaders/linux_boot.h"
#include "hw/loaders/multiboot.h"
#include "hw/pc_memory_layout.h"

namespace {

using namespace rwd;

class MemoryImage final : public replay::ImageFile {
 public:
  MemoryImage(std::string path, const uint8_t* data, size_t size) : path_(std::move(path)), data_(data), size_(size) {}
  const std::string& path() const override { return path_; }
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, void* dst, size_t len) override {
    if (offset > size_ || len > size_ - offset) throw std::runtime_error("read past the end of " + path_);
    std::memcpy(dst, data_ + offset, len);
  }

 private:
  std::string path_;
  const uint8_t* data_;
  size_t size_;
};

constexpr uint64_t kRamSize = 32u << 20;

// Outcomes, printed when the fuzzer ends (scripts/fuzz.sh reports them).
struct Outcomes {
  uint64_t loaded = 0, refused = 0;
  ~Outcomes() {
    std::fprintf(stderr, "fuzz_multiboot_loader: %llu images loaded, %llu refused with a LoadError\n",
                 (unsigned long long)loaded, (unsigned long long)refused);
  }
};
Outcomes outcomes;

struct Rig {
  hw::PcMemoryLayout layout = hw::PcMemoryLayout::for_ram(kRamSize);
  std::vector<uint8_t> ram = std::vector<uint8_t>(kRamSize);
  core::AddressSpace memory{"memory", ~0ull};
  Rig() {
    for (const hw::PcMemoryLayout::RamRange& r : layout.ram_ranges())
      memory.add_ram("ram@" + std::to_string(r.guest_base), r.guest_base, r.size, ram.data() + r.ram_offset);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Rig rig;
  if (size == 0) return 0;
  unsigned modules = data[size - 1] % 3;
  const uint8_t* kernel = data;
  size_t kernel_size = size - 1;
  std::vector<std::pair<const uint8_t*, size_t>> slices;
  for (unsigned i = 0; i < modules; ++i) {
    size_t n = kernel_size / 4;
    slices.push_back({kernel + kernel_size - n, n});
    kernel_size -= n;
  }
  hw::MultibootOptions options;
  options.kernel = "kernel";
  options.append = "console=ttyS0";
  for (unsigned i = 0; i < modules; ++i) options.modules.push_back("m" + std::to_string(i) + " arg");
  options.open = [&](const std::string& role, const std::string& path, uint64_t max_size) {
    const uint8_t* p = kernel;
    size_t n = kernel_size;
    if (path != "kernel") {
      size_t index = size_t(path[1] - '0');
      p = slices.at(index).first;
      n = slices.at(index).second;
    }
    if (n > max_size) throw std::runtime_error(role + " '" + path + "' is larger than guest RAM");
    return std::unique_ptr<replay::ImageFile>(new MemoryImage(path, p, n));
  };
  core::X86CpuState cpu{};
  try {
    MemoryImage probe("kernel", kernel, kernel_size);
    if (hw::is_linux_kernel(probe)) {
      std::vector<std::string> initrds;
      for (unsigned i = 0; i < modules; ++i) initrds.push_back("m" + std::to_string(i));
      hw::load_linux(rig.memory, rig.layout, {options.kernel, options.append, initrds, options.open}, cpu);
    } else {
      hw::load_multiboot(rig.memory, rig.layout, options, cpu);
    }
    ++outcomes.loaded;
  } catch (const hw::LoadError& e) {
    ++outcomes.refused;
    if (std::strchr(e.what(), '\n')) __builtin_trap();  // messages are one line
  }
  return 0;
}
