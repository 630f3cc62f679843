#include "hw/loaders/firmware.h"

#include "core/machine_config.h"
#include "hw/loaders/image_io.h"
#include "hw/loaders/load_error.h"

namespace rwd::hw {

uint64_t firmware_size(const std::string& path, const replay::ImageOpener& open) {
  std::unique_ptr<replay::ImageFile> image = image_io::open_image(open, "bios", path, core::kMaxBiosSize);
  uint64_t size = image->size();
  if (std::string problem = core::bios_size_problem(size); !problem.empty())
    throw LoadError("bios '" + path + "': " + problem + ": not a firmware image");
  return size;
}

void load_firmware(core::Machine& machine, const std::string& path, const replay::ImageOpener& open) {
  std::unique_ptr<replay::ImageFile> image = image_io::open_image(open, "bios", path, core::kMaxBiosSize);
  if (image->size() != machine.rom_size())
    throw LoadError("bios '" + path + "': its size changed to " + std::to_string(image->size()) + " bytes (was " +
                    std::to_string(machine.rom_size()) + ")");
  image->read(0, machine.rom(), machine.rom_size());
  // The initial checkpoint carries the ROM like RAM: mark it written.
  machine.dirty_log().mark(machine.rom(), machine.rom_size());
}

}  // namespace rwd::hw
