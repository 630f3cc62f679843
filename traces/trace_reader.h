// TraceReader: reads a trace written by TraceWriter (layout in
// trace_writer.h and traces/README.md).
//
// open() validates the preamble and header and builds the frame index: from
// the footer when the trailer is present, else by scanning frames from the
// start and stopping at the last whole one (a trace cut off by a crash or a
// kill), in which case truncated() is true and readable_end() /
// last_icount() say where the readable part ends.
//
// Events come out in file order through next(); checkpoints are read by index
// or by seeking, which also positions next() just after the checkpoint.
// Every problem in the file is a TraceError with a one-line message naming
// the byte offset; nothing in a file, however hostile, makes the reader
// crash or allocate more than the format's limits (trace_format.h) allow.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "traces/trace_format.h"
#include "traces/trace_types.h"

namespace rwd::traces {

namespace codec {
class Decompressor;
class AlignedBuffer;
}  // namespace codec

class TraceReader {
 public:
  static std::unique_ptr<TraceReader> open(const std::string& path);
  ~TraceReader();
  TraceReader(const TraceReader&) = delete;
  TraceReader& operator=(const TraceReader&) = delete;

  const Header& header() const { return header_; }

  // The next event in file order, or nullopt at the end of the readable part.
  std::optional<Event> next();
  // Where next() is: saved and put back to read the same events again.
  struct Cursor {
    size_t frame = 0;  // the frame next() reads from (or loads next)
    size_t event = 0;  // events of it already read
  };
  Cursor cursor() const;
  void set_cursor(const Cursor& cursor);
  // Back to the first event.
  void restart();

  const std::vector<FrameRef>& frames() const { return frames_; }
  const std::vector<CheckpointRef>& checkpoints() const { return checkpoints_; }
  // Checkpoint `index` with all its pages (which may be all of guest RAM:
  // for tests and small traces), or without them.
  Checkpoint read_checkpoint(size_t index, bool with_pages = true);
  // Each page of checkpoint `index`, in file order, one frame in memory at a
  // time: f(page_number, 4096 bytes). `head`, when given, receives the
  // checkpoint without its pages (as read_checkpoint(index, false)).
  void for_each_checkpoint_page(size_t index, const std::function<void(uint64_t, const uint8_t*)>& f,
                                Checkpoint* head = nullptr);
  // The last checkpoint at or before `icount`, or nullopt when there is none.
  std::optional<size_t> checkpoint_at_or_before(uint64_t icount) const;
  // next() then returns the events written after checkpoint `index`.
  void position_after_checkpoint(size_t index);
  // The last checkpoint at or before `icount`; next() then returns the events
  // written after it. nullopt when there is none: next() then starts from the
  // first event (replay starts from the initial state).
  std::optional<Checkpoint> seek_checkpoint_at_or_before(uint64_t icount);

  struct FrameSizes {
    uint32_t compressed = 0;
    uint32_t uncompressed = 0;
  };
  // Payload sizes of frames()[index], from its header alone.
  FrameSizes frame_sizes(size_t index);

  // True when the trailer is missing: the file was cut off, and everything
  // from readable_end() on is ignored.
  bool truncated() const { return truncated_; }
  // Byte offset just past the last whole frame (the footer's offset when the
  // trace is complete).
  uint64_t readable_end() const { return data_end_; }
  // The highest icount of any readable event or checkpoint.
  uint64_t last_icount() const { return last_icount_; }
  uint64_t file_size() const { return file_size_; }

 private:
  explicit TraceReader(int fd, std::string path);
  void read_preamble();
  bool try_footer();
  void scan_frames();
  void check_index();
  // Reads and checks frames_[index] (or the frame at `offset` when scanning)
  // and leaves its decompressed message in `out`.
  struct RawFrame {
    FrameKind kind;
    uint32_t compressed;
    uint32_t uncompressed;
    uint64_t first_icount;
    uint32_t crc;
  };
  RawFrame read_frame_header(uint64_t offset);
  void read_payload(uint64_t offset, const RawFrame& f, codec::AlignedBuffer& out);
  uint64_t frame_end(size_t index) const;
  void load_frame(size_t index, codec::AlignedBuffer& out);
  // The checkpoint frame of checkpoint `index`, decoded (inline pages
  // included), and the index of its first page frame (== its own when none).
  Checkpoint decode_checkpoint_frame(size_t index, size_t& first_page_frame);
  void check_page_order(const Checkpoint& cp, size_t from, uint64_t& last, bool& any) const;
  void pread_exact(uint64_t offset, void* buf, size_t len, const char* what);

  int fd_;
  std::string path_;
  uint64_t file_size_ = 0;
  uint64_t data_start_ = 0;  // first frame
  uint64_t data_end_ = 0;    // past the last whole event/checkpoint frame
  Header header_;
  bool truncated_ = false;
  uint64_t last_icount_ = 0;
  std::vector<FrameRef> frames_;
  std::vector<CheckpointRef> checkpoints_;
  std::vector<size_t> checkpoint_frames_;  // index into frames_ of each checkpoint
  std::unique_ptr<codec::Decompressor> decompressor_;
  std::unique_ptr<codec::AlignedBuffer> scratch_;
  Bytes compressed_;

  // Event iteration state: batch_ holds frame next_frame_ - 1 while
  // batch_pos_ < batch_.size().
  void load_next_batch();
  size_t next_frame_ = 0;
  std::vector<Event> batch_;
  size_t batch_pos_ = 0;
};

}  // namespace rwd::traces
