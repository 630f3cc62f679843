// The GDB remote serial protocol's framing (GDB manual, "Remote Protocol",
// Overview): what travels on the debugger's connection, independent of what
// the packets mean.
//
//   $payload#cs   a packet; cs is the payload's byte sum modulo 256 in two
//                 hex digits. The receiver answers '+' (good) or '-' (send
//                 it again), until QStartNoAckMode turns acknowledgements off.
//   0x03          outside a packet: the user pressed Ctrl-C.
//   }x            inside a payload: the byte x ^ 0x20 ('#', '$', '}' and, in
//                 replies, '*' are always sent so).
//   c*n           in a reply: c repeated n - 29 more times (run-length
//                 encoding; n is printable and never '#' or '$').
//
// PacketReader turns the byte stream from the debugger into events; it never
// trusts the peer (a packet longer than the limit, garbage, a bad checksum
// are events, never a crash). frame_reply() builds what the stub sends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rwd::tools::gdb {

struct RspEvent {
  enum class Kind : uint8_t {
    kPacket,       // a well-formed packet: payload holds its raw bytes (escapes still in)
    kAck,          // '+'
    kNak,          // '-': send the last reply again
    kInterrupt,    // 0x03 between packets
    kBadChecksum,  // a packet whose checksum does not match: answer '-'
    kTooLong,      // a packet over the size limit, dropped whole: answer '-'
  };
  Kind kind;
  std::string payload;
};

class PacketReader {
 public:
  // The largest payload accepted (what qSupported's PacketSize announces).
  explicit PacketReader(size_t max_payload = 16384) : max_payload_(max_payload) {}

  // Feeds bytes as they arrive (any split), appending completed events.
  void feed(std::string_view bytes, std::vector<RspEvent>& out);

 private:
  enum class State : uint8_t { kIdle, kPayload, kChecksum1, kChecksum2 };
  size_t max_payload_;
  State state_ = State::kIdle;
  std::string payload_;
  bool too_long_ = false;
  uint8_t sum_ = 0;
  int checksum_ = 0;
};

// The payload's byte sum modulo 256.
uint8_t rsp_checksum(std::string_view payload);

// "$...#cs" for a reply: the payload's special bytes escaped, runs of four
// or more equal bytes run-length encoded.
std::string frame_reply(std::string_view payload);

// The payload of a binary packet (X, vFile:pwrite) with its escapes undone;
// nullopt when it ends in a lone '}'.
std::optional<std::string> unescape_binary(std::string_view raw);

// Lower-case hex of bytes, and back (nullopt for odd length or a non-hex digit).
std::string to_hex(std::string_view bytes);
std::optional<std::string> from_hex(std::string_view hex);
// A hex number as the protocol writes addresses and lengths (1-16 digits).
std::optional<uint64_t> parse_hex_u64(std::string_view hex);

}  // namespace rwd::tools::gdb
