// The host files a command reads and writes, handled safely.
//  - Guest images are opened without blocking (a FIFO given as a kernel would
//    otherwise hang rewind until someone writes to it), and only regular
//    files: a directory, FIFO, socket or device (/dev/zero, /dev/urandom:
//    endless) gets a one-line error, and a file larger than the guest can
//    hold is refused from its size alone, before a byte is read.
//  - An output is never written over an input: before anything is opened for
//    writing, outputs are compared with the inputs (and with each other) by
//    device and inode, so symbolic and hard links are seen through.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "replay/image_file.h"

namespace rwd::replay {

std::unique_ptr<ImageFile> open_host_image(const std::string& role, const std::string& path, uint64_t max_size);

// A file named on the command line, with how the user named it ("-o",
// "kernel", "-serial file:") for the message.
struct NamedFile {
  std::string what;
  std::string path;
};
// Throws std::runtime_error when an output is the same file as an input or as
// another output. Outputs that do not exist yet clash with nothing.
void refuse_outputs_over_inputs(const std::vector<NamedFile>& outputs, const std::vector<NamedFile>& inputs);

}  // namespace rwd::replay
