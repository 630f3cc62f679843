// Everything that defines a machine, as parsed from the command line. It is
// also what a trace header stores, so replay can rebuild the same machine.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rwd::core {

struct SerialConfig {
  enum class Kind : uint8_t { kStdio, kFile, kNone };
  Kind kind = Kind::kStdio;
  std::string path;        // kFile: where TX bytes go
  std::string input_path;  // optional file whose bytes are the RX stream
};

// `-device driver,key=value,...`
struct DeviceConfig {
  std::string driver;
  std::map<std::string, std::string> properties;
};

// Guest RAM sizes rewind runs: whole pages, from 2 MiB to 64 GiB.
inline constexpr uint64_t kMinRamSize = 2ull << 20;
inline constexpr uint64_t kMaxRamSize = 64ull << 30;
// Why `bytes` of guest RAM cannot be used, or "" when it can (the command
// line and a trace header are checked alike).
inline std::string ram_size_problem(uint64_t bytes) {
  if (bytes < kMinRamSize) return std::to_string(bytes) + " bytes is too small (at least 2 MiB)";
  if (bytes > kMaxRamSize) return std::to_string(bytes) + " bytes is more than rewind supports (64 GiB)";
  if (bytes % 4096) return std::to_string(bytes) + " bytes is not a whole number of 4 KiB pages";
  return "";
}

// vCPUs a machine may have: turns on one host thread make more pointless,
// and the MADT has room for 255.
inline constexpr unsigned kMaxCpus = 64;

// Firmware images (-bios): whole 64 KiB pieces, at most 16 MiB (the top of
// the 4 GiB space, below which the board has its devices), as QEMU loads them.
inline constexpr uint64_t kMaxBiosSize = 16ull << 20;
inline std::string bios_size_problem(uint64_t bytes) {
  if (bytes == 0 || bytes % 0x10000)
    return std::to_string(bytes) + " bytes is not a whole number of 64 KiB pieces";
  if (bytes > kMaxBiosSize) return std::to_string(bytes) + " bytes is more than 16 MiB";
  return "";
}

struct MachineConfig {
  std::string kernel;
  // -bios: a firmware image run from the reset vector instead of a kernel
  // loaded by rewind. bios_size is its size, learnt when it is opened (the
  // board maps that much ROM; a trace header keeps it for replay).
  std::string bios;
  uint64_t bios_size = 0;
  std::string append;
  std::vector<std::string> initrd;
  uint64_t ram_size = 128ull << 20;
  SerialConfig serial;
  std::string accel = "tcg";
  bool no_reboot = false;
  std::vector<DeviceConfig> devices;
  unsigned cpus = 1;                 // -smp, 1 to kMaxCpus
  uint64_t quantum = 10000;          // --quantum: a vCPU's turn, in instructions (core::Machine)
  // -cpu max,-NAME: the features taken out of CPUID (core/cpu_features.h
  // canonical names, sorted, each once).
  std::vector<std::string> cpu_features_off;
};

}  // namespace rwd::core
