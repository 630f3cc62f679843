// The data model of a trace in plain C++: what TraceWriter takes and
// TraceReader returns. It mirrors traces/rewind_trace.capnp field for field
// (the schema's comments are the reference for meaning, units and
// constraints); the Cap'n Proto types themselves stay inside traces/*.cc so
// no user of this library compiles against generated code.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace rwd::traces {

// Every failure of this library: one line, naming the file offset or the field
// at fault, so a caller can print it as-is.
class TraceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Bytes = std::vector<uint8_t>;

// Digest of the machine state (schema: Digest). Each part is at most
// kMaxDigestBytes; empty means "not computed".
struct Digest {
  Bytes registers;
  Bytes pages;
  Bytes devices;
  bool operator==(const Digest&) const = default;
};

// ---- Header ---------------------------------------------------------------

struct SerialSpec {
  enum class Kind : uint8_t { kStdio, kFile, kNone };
  Kind kind = Kind::kStdio;
  std::string path;
  std::string input_path;
  bool operator==(const SerialSpec&) const = default;
};

struct DeviceSpec {
  std::string driver;
  std::vector<std::pair<std::string, std::string>> properties;  // key, value
  bool operator==(const DeviceSpec&) const = default;
};

// The machine configuration (schema: MachineConfig), independent of
// core::MachineConfig so traces/ depends on nothing of ours; replay/ converts.
struct MachineSpec {
  std::string kernel;
  std::string append;
  std::vector<std::string> initrd;
  uint64_t ram_size = 0;  // bytes
  SerialSpec serial;
  std::string accel;
  bool no_reboot = false;
  std::vector<DeviceSpec> devices;
  uint32_t cpus = 1;       // the reader turns the schema's 0 (older traces) into 1
  uint64_t quantum = 0;    // 0: the default
  std::string bios;        // empty: no firmware image
  uint64_t bios_size = 0;
  std::vector<std::string> cpu_features_off;
  bool operator==(const MachineSpec&) const = default;
};

struct ImageInfo {
  std::string path;
  uint64_t size = 0;
  std::array<uint8_t, 32> sha256{};
  bool operator==(const ImageInfo&) const = default;
};

struct Header {
  // Filled by the reader from the file; ignored by the writer, which always
  // writes the version it implements (kFormatMajor.kFormatMinor).
  uint16_t format_major = 0;
  uint16_t format_minor = 0;
  MachineSpec machine;
  std::vector<std::string> command_line;
  std::vector<ImageInfo> images;  // kernel first, then each initrd
  Digest initial_digest;
  uint64_t checkpoint_interval = 0;  // instructions; 0 = none
  std::string rewind_version;
  std::string digest_algorithm;
  bool operator==(const Header&) const = default;
};

// ---- Events ---------------------------------------------------------------

struct ConsoleInput {
  uint32_t console = 0;  // 0 = COM1
  uint8_t byte = 0;
  bool operator==(const ConsoleInput&) const = default;
};

struct WallClock {
  int64_t ns_since_epoch = 0;
  bool operator==(const WallClock&) const = default;
};

struct RandomValue {
  uint64_t value = 0;
  bool operator==(const RandomValue&) const = default;
};

struct UserRequest {
  enum class Kind : uint8_t { kQuit, kReset };
  Kind kind = Kind::kQuit;
  bool operator==(const UserRequest&) const = default;
};

struct StateDigest {
  Digest digest;
  bool operator==(const StateDigest&) const = default;
};

enum class StopReason : uint8_t {
  kGuestExit,
  kUserQuit,
  kReset,
  kHalted,
  kTripleFault,
  kInstructionLimit,
  kError,
};

struct RunEnd {
  StopReason reason = StopReason::kGuestExit;
  int32_t exit_status = 0;
  Digest final_digest;
  bool operator==(const RunEnd&) const = default;
};

// The alternatives' order is the schema's union order and EventKind's.
using EventData = std::variant<ConsoleInput, WallClock, RandomValue, UserRequest, StateDigest, RunEnd>;

enum class EventKind : uint8_t {
  kConsoleInput,
  kWallClock,
  kRandom,
  kUserRequest,
  kStateDigest,
  kRunEnd,
};
inline constexpr size_t kEventKindCount = std::variant_size_v<EventData>;

struct Event {
  uint64_t icount = 0;  // takes effect after exactly this many retired instructions
  EventData data;
  uint64_t idle_ns = 0;  // virtual clock idle time at delivery (schema: Event.idleNs)
  EventKind kind() const { return static_cast<EventKind>(data.index()); }
  bool operator==(const Event&) const = default;
};

// "console_input", "wall_clock", ... (the names used by dump and JSON).
const char* event_kind_name(EventKind kind);
const char* stop_reason_name(StopReason reason);

// ---- Checkpoints ----------------------------------------------------------

inline constexpr size_t kPageSize = 4096;

struct DeviceStateBlob {
  std::string name;
  Bytes state;
  bool operator==(const DeviceStateBlob&) const = default;
};

struct PageRef {
  uint64_t page_number = 0;  // guest-physical address / kPageSize
  uint32_t content = 0;      // index into Checkpoint::page_contents
  bool operator==(const PageRef&) const = default;
};

// The file stores equal page contents once (zeroed memory is common), and so
// does this struct: memory held by a checkpoint read from a file is bounded by
// what the file really contains. A recorder may add one content per page; the
// writer merges equal ones.
struct Checkpoint {
  uint64_t icount = 0;
  uint64_t idle_ns = 0;
  uint32_t cpu_state_version = 0;
  Bytes cpu_state;                    // vCPU 0
  std::vector<Bytes> more_cpu_states; // vCPUs 1..N-1
  std::vector<DeviceStateBlob> devices;
  // Pages written since the previous checkpoint, each page number once.
  std::vector<PageRef> pages;
  std::vector<Bytes> page_contents;  // each exactly kPageSize bytes
  Digest digest;
  // What ran and what was written since the previous checkpoint, in linear
  // addresses (core::ExecutionFootprint), when the recorder knew.
  struct CodeLines {
    uint64_t page = 0;   // linear page number
    uint64_t lines = 0;  // bit i: code ran in the page's 64-byte line i
    bool operator==(const CodeLines&) const = default;
  };
  bool footprint_known = false;
  std::vector<CodeLines> code_lines;   // pages ascending
  std::vector<uint64_t> written_pages; // linear page numbers, ascending

  void add_page(uint64_t page_number, const uint8_t* bytes) {
    pages.push_back({page_number, uint32_t(page_contents.size())});
    page_contents.emplace_back(bytes, bytes + kPageSize);
  }
  const Bytes& page_bytes(size_t i) const { return page_contents.at(pages.at(i).content); }
  bool operator==(const Checkpoint&) const = default;
};

}  // namespace rwd::traces
