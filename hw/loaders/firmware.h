// `-bios FILE` on the PC board: the firmware image becomes the machine's ROM
// (core::Machine::rom, sized from the file before the machine is built),
// which the board shows at the top of the 4 GiB space -- where the reset
// vector 0xfffffff0 falls -- and, through the i440FX's PAM registers, its
// last 128 KiB below 1 MiB. The vCPUs start from their reset state.
#pragma once

#include <cstdint>
#include <string>

#include "core/machine.h"
#include "replay/image_file.h"

namespace rwd::hw {

// The size of the firmware image at `path`, checked as QEMU checks it (whole
// 64 KiB pieces, at most 16 MiB). Throws LoadError.
uint64_t firmware_size(const std::string& path, const replay::ImageOpener& open);

// Copies the image into the machine's ROM, which must be exactly its size.
// Throws LoadError.
void load_firmware(core::Machine& machine, const std::string& path, const replay::ImageOpener& open);

}  // namespace rwd::hw
