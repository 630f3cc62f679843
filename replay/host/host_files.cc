#include "replay/host/host_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace rwd::replay {

namespace {

const char* what_it_is(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}


class HostImageFile final : public ImageFile {
 public:
  HostImageFile(std::string role, std::string path, int fd, uint64_t size)
      : role_(std::move(role)), path_(std::move(path)), fd_(fd), size_(size) {}
  ~HostImageFile() override { ::close(fd_); }

  const std::string& path() const override { return path_; }
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, void* dst, size_t len) override {
    auto* p = static_cast<uint8_t*>(dst);
    if (offset > size_ || len > size_ - offset)
      throw std::runtime_error(role_ + " '" + path_ + "': read past its end");
    while (len) {
      ssize_t n = ::pread(fd_, p, len, off_t(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::runtime_error(role_ + " '" + path_ + "': cannot read: " + std::strerror(errno));
      if (n == 0) throw std::runtime_error(role_ + " '" + path_ + "': the file shrank while it was being loaded");
      p += n;
      len -= size_t(n);
      offset += uint64_t(n);
    }
  }

 private:
  std::string role_;
  std::string path_;
  int fd_;
  uint64_t size_;
};

}  // namespace

std::unique_ptr<ImageFile> open_host_image(const std::string& role, const std::string& path, uint64_t max_size) {
  std::string who = role + " '" + path + "'";
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) throw std::runtime_error(who + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int error = errno;
    ::close(fd);
    throw std::runtime_error(who + ": cannot stat: " + std::strerror(error));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw std::runtime_error(who + " is " + what_it_is(st.st_mode) + ", not a file");
  }
  uint64_t size = uint64_t(st.st_size);
  if (size > max_size) {
    ::close(fd);
    throw std::runtime_error(who + " is " + std::to_string(size) + " bytes, more than the " +
                             std::to_string(max_size) + " bytes of guest RAM can hold");
  }
  return std::make_unique<HostImageFile>(role, path, fd, size);
}

void refuse_outputs_over_inputs(const std::vector<NamedFile>& outputs, const std::vector<NamedFile>& inputs) {
  // An existing file is its device and inode; one that does not exist yet
  // (only outputs) is its absolute path, with the symbolic links of the
  // directories on the way resolved.
  struct Identity {
    const NamedFile* file;
    bool exists;
    dev_t dev;
    ino_t ino;
    std::string path;
    bool operator==(const Identity& o) const {
      return exists == o.exists && (exists ? dev == o.dev && ino == o.ino : path == o.path);
    }
  };
  auto identify = [](const std::vector<NamedFile>& files) {
    std::vector<Identity> ids;
    for (const NamedFile& f : files) {
      if (f.path.empty()) continue;
      struct stat st;
      if (::stat(f.path.c_str(), &st) == 0) {
        ids.push_back({&f, true, st.st_dev, st.st_ino, {}});
      } else {
        std::error_code ec;
        std::filesystem::path p = std::filesystem::weakly_canonical(std::filesystem::absolute(f.path), ec);
        ids.push_back({&f, false, 0, 0, ec ? f.path : p.string()});
      }
    }
    return ids;
  };
  std::vector<Identity> out = identify(outputs), in = identify(inputs);
  auto describe = [](const NamedFile& f) { return f.what + " '" + f.path + "'"; };
  for (size_t i = 0; i < out.size(); ++i) {
    for (const Identity& input : in)
      if (out[i] == input)
        throw std::runtime_error(describe(*out[i].file) + " is the same file as " + describe(*input.file) +
                                 ": refusing to overwrite an input");
    for (size_t j = 0; j < i; ++j)
      if (out[i] == out[j])
        throw std::runtime_error(describe(*out[i].file) + " and " + describe(*out[j].file) +
                                 " are the same file: two outputs cannot share it");
  }
}

}  // namespace rwd::replay
