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

struct MachineConfig {
  std::string kernel;
  std::string append;
  std::vector<std::string> initrd;
  uint64_t ram_size = 128ull << 20;
  SerialConfig serial;
  std::string accel = "tcg";
  bool no_reboot = false;
  std::vector<DeviceConfig> devices;
};

}  // namespace rwd::core
