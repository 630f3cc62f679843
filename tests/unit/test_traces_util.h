// Shared fixtures of the traces tests: a scratch directory, a header and a
// checkpoint with every field set, one event of every kind, and whole-file
// read/write helpers for tests that damage traces on purpose.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>

#include "traces/sha256.h"
#include "traces/trace_reader.h"
#include "traces/trace_types.h"
#include "traces/trace_writer.h"

namespace rwd::traces::test {

namespace fs = std::filesystem;

// A directory of its own per test process, removed at exit.
class ScratchDir {
 public:
  ScratchDir() : dir_(fs::temp_directory_path() / ("rewind-traces-test-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  fs::path dir_;
};

inline Digest make_digest(uint8_t seed) {
  Digest d;
  for (int i = 0; i < 8; ++i) d.registers.push_back(uint8_t(seed + i));
  for (int i = 0; i < 8; ++i) d.pages.push_back(uint8_t(seed * 3 + i));
  return d;
}

inline Header sample_header() {
  Header h;
  h.machine.kernel = "/boot/vmlinuz";
  h.machine.append = "console=ttyS0 quiet";
  h.machine.initrd = {"/tmp/initrd.cpio", "/tmp/extra\xc3\xa9.cpio"};
  h.machine.ram_size = 256ull << 20;
  h.machine.serial = {SerialSpec::Kind::kFile, "/tmp/out.txt", "/tmp/in.txt"};
  h.machine.accel = "tcg";
  h.machine.no_reboot = true;
  h.machine.cpus = 3;
  h.machine.quantum = 4321;
  h.machine.bios = "/usr/share/seabios/bios.bin";
  h.machine.bios_size = 0x20000;
  h.machine.cpu_features_off = {"nx", "x2apic"};
  h.machine.devices = {{"isa-debug-exit", {{"iobase", "0xf4"}, {"iosize", "0x04"}}}, {"virtio-rng", {}}};
  h.command_line = {"rewind", "record", "-o", "x.rwt", "-kernel", "/boot/vmlinuz", "-m", "256M"};
  ImageInfo kernel{"/boot/vmlinuz", 3, sha256("abc", 3)};
  ImageInfo initrd{"/tmp/initrd.cpio", 0, sha256("", 0)};
  h.images = {kernel, initrd};
  h.initial_digest = make_digest(7);
  h.checkpoint_interval = 100'000'000;
  h.rewind_version = "0.1-test";
  h.digest_algorithm = "xxh64";
  return h;
}

// One event of each kind, icounts increasing from `base`.
inline std::vector<Event> every_kind(uint64_t base) {
  return {
      {base + 0, WallClock{1'700'000'000'123'456'789}},
      {base + 10, ConsoleInput{0, 'a'}},
      {base + 10, ConsoleInput{1, 0xff}},
      {base + 25, RandomValue{0xdeadbeefcafef00dull}},
      {base + 40, StateDigest{make_digest(42)}},
      {base + 41, UserRequest{UserRequest::Kind::kReset}},
      {base + 42, UserRequest{UserRequest::Kind::kQuit}},
      {base + 50, RunEnd{StopReason::kGuestExit, 7, make_digest(9)}},
  };
}

inline Checkpoint sample_checkpoint(uint64_t icount, int pages) {
  Checkpoint cp;
  cp.icount = icount;
  cp.idle_ns = icount / 3;
  cp.cpu_state_version = 2;
  cp.cpu_state.assign(512, 0);
  for (size_t i = 0; i < cp.cpu_state.size(); ++i) cp.cpu_state[i] = uint8_t(i * 7 + icount);
  cp.more_cpu_states = {Bytes(512, uint8_t(icount + 1)), Bytes(512, uint8_t(icount + 2))};  // -smp 3
  cp.devices = {{"serial0", {1, 2, 3}}, {"pit", Bytes(40, 0x5a)}, {"empty", {}}};
  std::vector<uint8_t> page(kPageSize);
  for (int p = 0; p < pages; ++p) {
    // Every third page is zero (merged in the file); the others differ.
    for (size_t i = 0; i < kPageSize; ++i) page[i] = p % 3 == 0 ? 0 : uint8_t(i * 13 + p + icount);
    cp.add_page(uint64_t(p) * 5 + 1, page.data());
  }
  cp.digest = make_digest(uint8_t(icount));
  return cp;
}

// Pages as (number, bytes), independent of how contents are shared.
inline std::vector<std::pair<uint64_t, Bytes>> expanded_pages(const Checkpoint& cp) {
  std::vector<std::pair<uint64_t, Bytes>> out;
  for (size_t i = 0; i < cp.pages.size(); ++i) out.emplace_back(cp.pages[i].page_number, cp.page_bytes(i));
  return out;
}

inline std::vector<Event> read_all(TraceReader& r) {
  std::vector<Event> out;
  while (auto e = r.next()) out.push_back(std::move(*e));
  return out;
}

inline std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const std::string& path, const std::vector<uint8_t>& bytes, size_t len) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(len));
}

// Runs `f` and returns the TraceError message, or "" when nothing was thrown.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const TraceError& e) {
    return e.what();
  }
  return "";
}

}  // namespace rwd::traces::test
