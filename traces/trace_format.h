// The byte layout of a trace file (see traces/README.md for the picture):
// constants shared by the writer, the reader and tests that craft files by
// hand. Every multi-byte integer outside the Cap'n Proto messages is
// little-endian.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace rwd::traces {

inline constexpr uint16_t kFormatMajor = 1;
inline constexpr uint16_t kFormatMinor = 2;

// Preamble: magic, u16 major, u16 minor, u32 header length, u32 CRC32C of the
// header bytes, then the header (an unpacked, uncompressed Cap'n Proto message).
inline constexpr char kFileMagic[8] = {'R', 'W', 'N', 'D', 'T', 'R', 'C', '\0'};
inline constexpr size_t kPreambleSize = 8 + 2 + 2 + 4 + 4;

// Frame header: u32 kind, u32 compressed length, u32 uncompressed length,
// u64 first icount, u32 CRC32C; the CRC covers the 20 header bytes before it
// and the compressed payload, so a damaged length or icount is caught too.
inline constexpr size_t kFrameHeaderSize = 4 + 4 + 4 + 8 + 4;

// Frame kinds are four ASCII letters read as a little-endian u32, so a hex
// dump of the file shows them.
constexpr uint32_t fourcc(const char (&s)[5]) {
  return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
         uint32_t(uint8_t(s[3])) << 24;
}
enum class FrameKind : uint32_t {
  kEvents = fourcc("EVTS"),
  kCheckpoint = fourcc("CKPT"),
  kCheckpointPages = fourcc("CKPG"),  // format 1.1: pages of the CKPT frame that follows
  kFooter = fourcc("FOOT"),
};

// Trailer: u64 offset of the footer frame, then this magic. Its presence is
// what makes a trace complete.
inline constexpr char kEndMagic[8] = {'R', 'W', 'N', 'D', 'E', 'N', 'D', '\0'};
inline constexpr size_t kTrailerSize = 8 + 8;

// Limits the reader enforces before it allocates anything, so a hostile file
// cannot make it ask for more than these (the writer refuses to exceed them).
inline constexpr uint32_t kMaxHeaderBytes = 1u << 20;
inline constexpr uint32_t kMaxEventFrameBytes = 64u << 20;        // uncompressed
inline constexpr uint32_t kMaxCheckpointFrameBytes = 1u << 30;    // uncompressed
inline constexpr uint32_t kMaxFooterFrameBytes = 256u << 20;      // uncompressed
inline constexpr size_t kMaxDigestBytes = 64;
inline constexpr size_t kMaxEventsPerFrame = 1u << 18;
inline constexpr size_t kMaxDevicesPerCheckpoint = 1u << 12;
inline constexpr size_t kMaxCpusPerCheckpoint = 255;
// The writer puts at most this many pages in one frame (16 MiB raw), so a
// checkpoint of all guest RAM streams through bounded memory; the rest goes
// into checkpoint-pages frames before it.
inline constexpr size_t kPagesPerFrame = 4096;

// One entry of the index (the footer, or the reader's scan of a cut-off file).
struct FrameRef {
  FrameKind kind = FrameKind::kEvents;
  uint64_t offset = 0;        // of the frame header, from the start of the file
  uint64_t first_icount = 0;  // first event's icount, or the checkpoint's
  bool operator==(const FrameRef&) const = default;
};

struct CheckpointRef {
  uint64_t icount = 0;
  uint64_t offset = 0;
  bool operator==(const CheckpointRef&) const = default;
};

// Little-endian field access for the fixed parts of the layout.
inline void put_le(uint8_t* p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) p[i] = uint8_t(v >> (8 * i));
}
inline uint64_t get_le(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t(p[i]) << (8 * i);
  return v;
}

}  // namespace rwd::traces
