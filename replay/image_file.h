// A guest image file (kernel, initrd) as a loader reads it. Loaders in hw/
// never open host files themselves: the command line opens images through
// replay/host (which refuses what is not a regular file, or cannot fit in
// guest RAM) and hands the loader an opener. Recording hashes what it opens
// for the trace header; replay opens nothing (the initial checkpoint holds
// what was loaded).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace rwd::replay {

class ImageFile {
 public:
  virtual ~ImageFile() = default;
  // The path as given (for messages: "kernel 'PATH': ...").
  virtual const std::string& path() const = 0;
  virtual uint64_t size() const = 0;
  // Exactly `len` bytes at `offset` (offset + len <= size()). Throws
  // std::runtime_error naming the file when it cannot.
  virtual void read(uint64_t offset, void* dst, size_t len) = 0;
};

// Opens `path` for `role` ("kernel", "initrd"); refuses a file larger than
// `max_size` bytes. Throws std::runtime_error with a one-line message that
// starts with "ROLE 'PATH': ".
using ImageOpener =
    std::function<std::unique_ptr<ImageFile>(const std::string& role, const std::string& path, uint64_t max_size)>;

}  // namespace rwd::replay
