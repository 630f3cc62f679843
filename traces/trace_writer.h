// TraceWriter: streams a run's events and checkpoints into a trace file.
//
// FILE LAYOUT (format 1.0; little-endian; traces/README.md has the picture)
//
//   preamble  "RWNDTRC\0" | u16 major | u16 minor | u32 header length H |
//             u32 CRC32C of the header bytes | H bytes: Header message
//             (unpacked, uncompressed Cap'n Proto, rewind_trace.capnp)
//   frames    any number of:
//             u32 kind ("EVTS", "CKPG", "CKPT") | u32 compressed length C |
//             u32 uncompressed length U | u64 first icount |
//             u32 CRC32C of the 20 bytes before it and of the payload |
//             C bytes: zstd frame of a U-byte Cap'n Proto message
//             (EventBatch for EVTS, Checkpoint for CKPT, CheckpointPages for
//             CKPG: the pages of a checkpoint too large for one frame, in the
//             frames right before its CKPT)
//   footer    one frame of kind "FOOT" holding a Footer message (the index)
//   trailer   u64 offset of the footer frame | "RWNDEND\0"
//
// Every frame is independent (its own zstd frame, its own message, its own
// checksum), and each is written with a single write(2) once complete, so a
// run killed at any point leaves a file whose whole frames are all readable;
// only the footer and trailer, written by finish(), mark it complete.
//
// Events are buffered and written as one frame when the batch reaches
// Options::batch_events events or Options::batch_bytes encoded bytes, when a
// checkpoint is written (so file order is stream order), and at flush(). The
// caller should flush() every few hundred ms of host time so a crash loses
// little. icounts must never decrease along the stream, checkpoints included.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "traces/trace_format.h"
#include "traces/trace_types.h"

namespace rwd::traces {

namespace codec {
class Compressor;
}

class TraceWriter {
 public:
  struct Options {
    size_t batch_events = 4096;
    size_t batch_bytes = 256 * 1024;  // estimated encoded size of a batch
    int zstd_level = 3;               // 1..19
  };

  struct Stats {
    std::array<uint64_t, kEventKindCount> events_by_kind{};
    uint64_t events = 0;
    uint64_t checkpoints = 0;
    uint64_t frames = 0;            // event and checkpoint frames
    uint64_t raw_bytes = 0;         // payloads before compression
    uint64_t compressed_bytes = 0;  // payloads after compression
    uint64_t file_bytes = 0;        // everything written so far
  };

  // Creates (or truncates) `path` and writes the preamble and header.
  static std::unique_ptr<TraceWriter> create(const std::string& path, const Header& header);
  static std::unique_ptr<TraceWriter> create(const std::string& path, const Header& header,
                                             const Options& options);
  // Without finish(), writes any pending events (best effort) and closes the
  // file, which then reads as a cut-off trace.
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  void append(const Event& event);
  // Writes pending events, then the checkpoint: one frame of its own, or,
  // when its pages exceed kPagesPerFrame, checkpoint-pages frames and then
  // the checkpoint frame (pages must then come in increasing order).
  void write_checkpoint(const Checkpoint& checkpoint);
  // The same with more pages than `head` holds, pulled from `more_pages`
  // until it returns false: a checkpoint of all guest RAM passes through a
  // frame's worth of memory. The bytes must stay valid until the next call.
  using PageProducer = std::function<bool(uint64_t& page_number, const uint8_t*& bytes)>;
  void write_checkpoint(const Checkpoint& head, const PageProducer& more_pages);
  // Writes pending events as a frame now.
  void flush();
  // Flushes, writes the footer and trailer, closes the file. Nothing may be
  // written after it.
  void finish();

  const Stats& stats() const { return stats_; }
  uint64_t last_icount() const { return last_icount_; }
  const std::string& path() const { return path_; }

 private:
  TraceWriter(int fd, std::string path, const Options& options);
  void check_open(const char* what) const;
  void check_icount(uint64_t icount, const char* what);
  void write_frame(FrameKind kind, uint64_t first_icount, const Bytes& raw, uint32_t max_raw);
  void write_all(const uint8_t* data, size_t len);

  int fd_;
  std::string path_;
  Options options_;
  std::unique_ptr<codec::Compressor> compressor_;
  std::vector<Event> pending_;
  size_t pending_bytes_ = 0;
  uint64_t offset_ = 0;  // bytes written so far = where the next frame starts
  uint64_t last_icount_ = 0;
  bool failed_ = false;  // a write failed: the file ends at its last whole frame
  bool finished_ = false;
  std::vector<FrameRef> frames_;
  std::vector<CheckpointRef> checkpoints_;
  Stats stats_;
};

}  // namespace rwd::traces
