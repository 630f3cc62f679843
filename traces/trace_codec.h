// Internal to traces/: conversion between the plain C++ data model
// (trace_types.h) and Cap'n Proto messages, and zstd (de)compression of frame
// payloads. This header names neither library, so the writer and reader stay
// readable and no public header drags generated code in.
//
// Every decode function validates what the schema's "Must" comments demand
// and throws TraceError (never kj::Exception, never a crash) on bad input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "traces/trace_format.h"
#include "traces/trace_types.h"

namespace rwd::traces::codec {

// A word-aligned byte buffer: Cap'n Proto reads messages in place only from
// 8-byte aligned memory.
class AlignedBuffer {
 public:
  void resize(size_t bytes) {
    words_.resize((bytes + 7) / 8);
    size_ = bytes;
  }
  uint8_t* data() { return reinterpret_cast<uint8_t*>(words_.data()); }
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(words_.data()); }
  size_t size() const { return size_; }
  void clear() {
    words_.clear();
    words_.shrink_to_fit();
    size_ = 0;
  }

 private:
  std::vector<uint64_t> words_;
  size_t size_ = 0;
};

Bytes encode_header(const Header& header);
Header decode_header(const AlignedBuffer& message);

Bytes encode_events(const Event* events, size_t count);
// Appends the batch's events to `out`; `first_icount` is the frame header's,
// which the first event must carry.
void decode_events(const AlignedBuffer& message, uint64_t first_icount, std::vector<Event>& out);

// Merges equal page contents and drops unreferenced ones while encoding.
// `page_frames`: how many checkpoint-pages frames precede this one.
Bytes encode_checkpoint(const Checkpoint& checkpoint, uint32_t page_frames = 0);
Checkpoint decode_checkpoint(const AlignedBuffer& message, uint32_t* page_frames = nullptr);
// A checkpoint-pages frame: the pages (and contents) of `chunk`, nothing else.
Bytes encode_checkpoint_pages(const Checkpoint& chunk);
void decode_checkpoint_pages(const AlignedBuffer& message, uint64_t icount, Checkpoint& out);

struct FooterData {
  std::vector<FrameRef> frames;
  std::vector<CheckpointRef> checkpoints;
  uint64_t event_count = 0;
  uint64_t last_icount = 0;
};
Bytes encode_footer(const FooterData& footer);
FooterData decode_footer(const AlignedBuffer& message);

// zstd at `level` (clamped to 1..19 so the window never exceeds what the
// reader accepts).
class Compressor {
 public:
  explicit Compressor(int level);
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;
  Bytes compress(const Bytes& raw);

 private:
  void* ctx_;  // ZSTD_CCtx
  int level_;
};

// Decompresses exactly `expected` bytes into `out`, growing it only as output
// is really produced, so a lying length costs nothing. `where` prefixes errors.
class Decompressor {
 public:
  Decompressor();
  ~Decompressor();
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;
  void decompress(const uint8_t* data, size_t len, size_t expected, AlignedBuffer& out,
                  const std::string& where);

 private:
  void* ctx_;  // ZSTD_DCtx
};

// The worst case of compress() for `raw` bytes (zstd's bound).
size_t compress_bound(size_t raw);

}  // namespace rwd::traces::codec
