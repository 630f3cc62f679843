#include "traces/trace_reader.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "traces/crc32c.h"
#include "traces/trace_codec.h"

namespace rwd::traces {
namespace {

// A fuzzer cannot forge CRC32Cs, so with checksums enforced its mutations
// would almost never reach zstd and Cap'n Proto decoding. The libFuzzer
// convention FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION (set only by
// tests/fuzz) makes a mismatch non-fatal there; every other check stays.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
constexpr bool kTrustChecksumsForFuzzing = true;
#else
constexpr bool kTrustChecksumsForFuzzing = false;
#endif

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08" PRIx32, v);
  return buf;
}

std::string at(uint64_t offset) { return "trace frame at offset " + std::to_string(offset); }

bool valid_kind(uint32_t k) {
  return k == uint32_t(FrameKind::kEvents) || k == uint32_t(FrameKind::kCheckpoint) ||
         k == uint32_t(FrameKind::kCheckpointPages) || k == uint32_t(FrameKind::kFooter);
}

uint32_t max_uncompressed(FrameKind k) {
  switch (k) {
    case FrameKind::kEvents: return kMaxEventFrameBytes;
    case FrameKind::kCheckpoint: return kMaxCheckpointFrameBytes;
    case FrameKind::kCheckpointPages: return kMaxCheckpointFrameBytes;
    case FrameKind::kFooter: return kMaxFooterFrameBytes;
  }
  return 0;
}

}  // namespace

std::unique_ptr<TraceReader> TraceReader::open(const std::string& path) {
  // Non-blocking: opening a FIFO for reading would otherwise wait for a writer.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) throw TraceError("cannot open trace " + path + ": " + std::strerror(errno));
  std::unique_ptr<TraceReader> r(new TraceReader(fd, path));
  struct stat st;
  if (::fstat(fd, &st) != 0) throw TraceError("cannot stat trace " + path + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw TraceError("trace " + path + " is a directory, not a file");
  if (!S_ISREG(st.st_mode)) throw TraceError("trace " + path + " is not a regular file (a FIFO, socket or device)");
  r->file_size_ = uint64_t(st.st_size);
  r->read_preamble();
  if (!r->try_footer()) r->scan_frames();
  return r;
}

TraceReader::TraceReader(int fd, std::string path)
    : fd_(fd), path_(std::move(path)), decompressor_(std::make_unique<codec::Decompressor>()),
      scratch_(std::make_unique<codec::AlignedBuffer>()) {}

TraceReader::~TraceReader() { ::close(fd_); }

void TraceReader::pread_exact(uint64_t offset, void* buf, size_t len, const char* what) {
  auto* p = static_cast<uint8_t*>(buf);
  while (len > 0) {
    ssize_t n = ::pread(fd_, p, len, off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw TraceError(path_ + ": read of " + what + " failed: " + std::strerror(errno));
    if (n == 0) throw TraceError(path_ + ": file shrank while reading " + what);
    p += n;
    len -= size_t(n);
    offset += uint64_t(n);
  }
}

void TraceReader::read_preamble() {
  uint8_t pre[kPreambleSize];
  if (file_size_ < 8) throw TraceError("not a rewind trace: " + std::to_string(file_size_) + " bytes long");
  pread_exact(0, pre, std::min<uint64_t>(file_size_, kPreambleSize), "the preamble");
  if (std::memcmp(pre, kFileMagic, 8) != 0) throw TraceError("not a rewind trace (bad magic)");
  if (file_size_ < kPreambleSize) throw TraceError("trace ends inside its preamble");
  unsigned major = unsigned(get_le(pre + 8, 2)), minor = unsigned(get_le(pre + 10, 2));
  if (major != kFormatMajor)
    throw TraceError("unsupported trace format version " + std::to_string(major) + "." + std::to_string(minor) +
                     " (this rewind reads major " + std::to_string(kFormatMajor) + ")");
  uint32_t len = uint32_t(get_le(pre + 12, 4));
  uint32_t crc = uint32_t(get_le(pre + 16, 4));
  if (len > kMaxHeaderBytes || len % 8 != 0)
    throw TraceError("trace header: length " + std::to_string(len) + " out of range");
  if (kPreambleSize + uint64_t(len) > file_size_)
    throw TraceError("trace ends inside its header (" + std::to_string(file_size_ - kPreambleSize) + " of " +
                     std::to_string(len) + " bytes)");
  codec::AlignedBuffer body;
  body.resize(len);
  pread_exact(kPreambleSize, body.data(), len, "the header");
  uint32_t got = crc32c(0, body.data(), len);
  if (got != crc && !kTrustChecksumsForFuzzing) throw TraceError("trace header: checksum mismatch (expected " + hex32(crc) + ", got " + hex32(got) + ")");
  header_ = codec::decode_header(body);
  if (header_.format_major != major || header_.format_minor != minor)
    throw TraceError("trace header says format " + std::to_string(header_.format_major) + "." +
                     std::to_string(header_.format_minor) + " but the preamble says " + std::to_string(major) +
                     "." + std::to_string(minor));
  data_start_ = kPreambleSize + len;
}

TraceReader::RawFrame TraceReader::read_frame_header(uint64_t offset) {
  uint8_t h[kFrameHeaderSize];
  pread_exact(offset, h, sizeof h, "a frame header");
  uint32_t kind = uint32_t(get_le(h, 4));
  if (!valid_kind(kind)) throw TraceError(at(offset) + ": unknown frame kind " + hex32(kind));
  RawFrame f{FrameKind(kind), uint32_t(get_le(h + 4, 4)), uint32_t(get_le(h + 8, 4)), get_le(h + 12, 8),
             uint32_t(get_le(h + 20, 4))};
  if (f.uncompressed > max_uncompressed(f.kind))
    throw TraceError(at(offset) + ": uncompressed length " + std::to_string(f.uncompressed) +
                     " exceeds the limit of " + std::to_string(max_uncompressed(f.kind)));
  if (f.compressed == 0 || f.compressed > codec::compress_bound(f.uncompressed))
    throw TraceError(at(offset) + ": compressed length " + std::to_string(f.compressed) + " out of range for " +
                     std::to_string(f.uncompressed) + " bytes");
  return f;
}

void TraceReader::read_payload(uint64_t offset, const RawFrame& f, codec::AlignedBuffer& out) {
  // The caller has checked that the payload lies inside the file, so this
  // allocation is bounded by bytes that really exist.
  compressed_.resize(f.compressed);
  pread_exact(offset + kFrameHeaderSize, compressed_.data(), f.compressed, "a frame");
  uint8_t h[20];
  put_le(h, uint32_t(f.kind), 4);
  put_le(h + 4, f.compressed, 4);
  put_le(h + 8, f.uncompressed, 4);
  put_le(h + 12, f.first_icount, 8);
  uint32_t got = crc32c(crc32c(0, h, sizeof h), compressed_.data(), compressed_.size());
  if (got != f.crc && !kTrustChecksumsForFuzzing)
    throw TraceError(at(offset) + ": checksum mismatch (expected " + hex32(f.crc) + ", got " + hex32(got) + ")");
  decompressor_->decompress(compressed_.data(), compressed_.size(), f.uncompressed, out, at(offset));
  if (compressed_.capacity() > (16u << 20)) Bytes().swap(compressed_);
}

bool TraceReader::try_footer() {
  if (file_size_ < data_start_ + kFrameHeaderSize + kTrailerSize) return false;
  uint8_t trailer[kTrailerSize];
  pread_exact(file_size_ - kTrailerSize, trailer, sizeof trailer, "the trailer");
  if (std::memcmp(trailer + 8, kEndMagic, 8) != 0) return false;
  // The trailer says the trace is complete: from here on, damage is an error.
  uint64_t footer_offset = get_le(trailer, 8);
  uint64_t footer_end = file_size_ - kTrailerSize;
  if (footer_offset < data_start_ || footer_offset > footer_end - kFrameHeaderSize)
    throw TraceError("trace trailer: footer offset " + std::to_string(footer_offset) + " out of range");
  RawFrame f = read_frame_header(footer_offset);
  if (f.kind != FrameKind::kFooter) throw TraceError(at(footer_offset) + ": expected the footer frame");
  if (footer_offset + kFrameHeaderSize + f.compressed != footer_end)
    throw TraceError(at(footer_offset) + ": footer length " + std::to_string(f.compressed) +
                     " does not reach the trailer");
  read_payload(footer_offset, f, *scratch_);
  codec::FooterData footer;
  try {
    footer = codec::decode_footer(*scratch_);
  } catch (const TraceError& e) {
    throw TraceError(at(footer_offset) + ": " + e.what());
  }
  scratch_->clear();
  frames_ = std::move(footer.frames);
  data_end_ = footer_offset;
  truncated_ = false;
  std::vector<CheckpointRef> listed = std::move(footer.checkpoints);
  check_index();
  if (listed != checkpoints_)
    throw TraceError(at(footer_offset) + ": the footer's checkpoint list disagrees with its frame list");
  if (footer.last_icount < last_icount_)
    throw TraceError(at(footer_offset) + ": footer's last icount " + std::to_string(footer.last_icount) +
                     " precedes its last frame's " + std::to_string(last_icount_));
  last_icount_ = footer.last_icount;
  return true;
}

void TraceReader::scan_frames() {
  truncated_ = true;
  frames_.clear();
  uint64_t off = data_start_;
  while (off + kFrameHeaderSize <= file_size_) {
    uint8_t raw[4];
    pread_exact(off, raw, 4, "a frame header");
    if (get_le(raw, 4) == 0) break;  // zeros where a frame should start: a tail lost in a crash
    RawFrame f = read_frame_header(off);
    if (off + kFrameHeaderSize + f.compressed > file_size_) break;  // cut off inside this frame
    read_payload(off, f, *scratch_);
    if (f.kind == FrameKind::kFooter) break;  // complete but for the trailer
    frames_.push_back({f.kind, off, f.first_icount});
    off += kFrameHeaderSize + f.compressed;
  }
  scratch_->clear();
  data_end_ = off;
  // Page frames whose checkpoint frame was cut off are not readable.
  while (!frames_.empty() && frames_.back().kind == FrameKind::kCheckpointPages) {
    data_end_ = frames_.back().offset;
    frames_.pop_back();
  }
  check_index();
  // The readable part ends inside its last event frame: decode that one.
  for (size_t i = frames_.size(); i-- > 0;) {
    if (frames_[i].kind != FrameKind::kEvents) continue;
    std::vector<Event> events;
    load_frame(i, *scratch_);
    try {
      codec::decode_events(*scratch_, frames_[i].first_icount, events);
    } catch (const TraceError& e) {
      throw TraceError(at(frames_[i].offset) + ": " + e.what());
    }
    scratch_->clear();
    last_icount_ = std::max(last_icount_, events.back().icount);
    break;
  }
}

void TraceReader::check_index() {
  checkpoints_.clear();
  checkpoint_frames_.clear();
  uint64_t prev_offset = 0, prev_icount = 0;
  for (size_t i = 0; i < frames_.size(); ++i) {
    const FrameRef& f = frames_[i];
    bool placed = i == 0 ? f.offset == data_start_ : f.offset > prev_offset;
    if (!placed || f.offset + kFrameHeaderSize > data_end_)
      throw TraceError("trace index: frame " + std::to_string(i) + " at offset " + std::to_string(f.offset) +
                       " out of place");
    if (f.first_icount < prev_icount)
      throw TraceError("trace index: frame " + std::to_string(i) + " starts at icount " +
                       std::to_string(f.first_icount) + ", before the previous frame's " + std::to_string(prev_icount));
    if (f.kind == FrameKind::kFooter) throw TraceError("trace index: frame " + std::to_string(i) + " is a footer");
    if (f.kind == FrameKind::kCheckpointPages) {
      // Pages come right before their checkpoint frame, at its icount.
      bool followed = i + 1 < frames_.size() && frames_[i + 1].first_icount == f.first_icount &&
                      (frames_[i + 1].kind == FrameKind::kCheckpointPages || frames_[i + 1].kind == FrameKind::kCheckpoint);
      if (!followed)
        throw TraceError("trace index: checkpoint pages at offset " + std::to_string(f.offset) +
                         " are not followed by their checkpoint");
    }
    if (f.kind == FrameKind::kCheckpoint) {
      checkpoints_.push_back({f.first_icount, f.offset});
      checkpoint_frames_.push_back(i);
    }
    prev_offset = f.offset;
    prev_icount = f.first_icount;
  }
  last_icount_ = prev_icount;
}

uint64_t TraceReader::frame_end(size_t index) const {
  return index + 1 < frames_.size() ? frames_[index + 1].offset : data_end_;
}

void TraceReader::load_frame(size_t index, codec::AlignedBuffer& out) {
  const FrameRef& ref = frames_[index];
  RawFrame f = read_frame_header(ref.offset);
  if (f.kind != ref.kind || f.first_icount != ref.first_icount)
    throw TraceError(at(ref.offset) + ": frame header disagrees with the index");
  if (ref.offset + kFrameHeaderSize + f.compressed != frame_end(index))
    throw TraceError(at(ref.offset) + ": compressed length " + std::to_string(f.compressed) +
                     " does not end where the next frame starts (offset " + std::to_string(frame_end(index)) + ")");
  read_payload(ref.offset, f, out);
}

std::optional<Event> TraceReader::next() {
  while (batch_pos_ >= batch_.size()) {
    while (next_frame_ < frames_.size() && frames_[next_frame_].kind != FrameKind::kEvents) ++next_frame_;
    if (next_frame_ >= frames_.size()) return std::nullopt;
    load_next_batch();
  }
  return std::move(batch_[batch_pos_++]);
}

TraceReader::Cursor TraceReader::cursor() const {
  if (batch_pos_ < batch_.size()) return {next_frame_ - 1, batch_pos_};
  return {next_frame_, 0};
}

void TraceReader::set_cursor(const Cursor& cursor) {
  if (cursor.frame > frames_.size() ||
      (cursor.event && (cursor.frame == frames_.size() || frames_[cursor.frame].kind != FrameKind::kEvents)))
    throw TraceError("no events frame " + std::to_string(cursor.frame) + " to read from");
  next_frame_ = cursor.frame;
  batch_.clear();
  batch_pos_ = 0;
  if (cursor.event == 0) return;
  load_next_batch();
  batch_pos_ = std::min(cursor.event, batch_.size());
}

// Reads the events frame next_frame_ into batch_ and moves on past it.
void TraceReader::load_next_batch() {
  batch_.clear();
  batch_pos_ = 0;
  const FrameRef& ref = frames_[next_frame_];
  load_frame(next_frame_, *scratch_);
  try {
    codec::decode_events(*scratch_, ref.first_icount, batch_);
  } catch (const TraceError& e) {
    batch_.clear();
    throw TraceError(at(ref.offset) + ": " + e.what());
  }
  // Events never go backwards across frames either.
  if (next_frame_ + 1 < frames_.size() && batch_.back().icount > frames_[next_frame_ + 1].first_icount) {
    uint64_t last = batch_.back().icount;
    batch_.clear();
    throw TraceError(at(ref.offset) + ": last event at icount " + std::to_string(last) +
                     " is after the next frame's first icount " + std::to_string(frames_[next_frame_ + 1].first_icount));
  }
  ++next_frame_;
}

void TraceReader::restart() {
  next_frame_ = 0;
  batch_.clear();
  batch_pos_ = 0;
}

Checkpoint TraceReader::decode_checkpoint_frame(size_t index, size_t& first_page_frame) {
  if (index >= checkpoints_.size())
    throw TraceError("checkpoint " + std::to_string(index) + " does not exist (the trace has " +
                     std::to_string(checkpoints_.size()) + ")");
  size_t fi = checkpoint_frames_[index];
  // A buffer of its own: checkpoints are large and should not stay resident.
  codec::AlignedBuffer buf;
  load_frame(fi, buf);
  Checkpoint cp;
  uint32_t page_frames = 0;
  try {
    cp = codec::decode_checkpoint(buf, &page_frames);
  } catch (const TraceError& e) {
    throw TraceError(at(frames_[fi].offset) + ": " + e.what());
  }
  if (cp.icount != frames_[fi].first_icount)
    throw TraceError(at(frames_[fi].offset) + ": checkpoint icount " + std::to_string(cp.icount) +
                     " but the frame says " + std::to_string(frames_[fi].first_icount));
  // Exactly page_frames page frames of this checkpoint come right before it.
  size_t before = 0;
  while (before < fi && frames_[fi - before - 1].kind == FrameKind::kCheckpointPages) ++before;
  if (before != page_frames)
    throw TraceError(at(frames_[fi].offset) + ": the checkpoint says " + std::to_string(page_frames) +
                     " page frames precede it, the file has " + std::to_string(before));
  first_page_frame = fi - before;
  return cp;
}

void TraceReader::check_page_order(const Checkpoint& cp, size_t from, uint64_t& last, bool& any) const {
  for (size_t i = from; i < cp.pages.size(); ++i) {
    uint64_t page = cp.pages[i].page_number;
    if (any && page <= last)
      throw TraceError("checkpoint at icount " + std::to_string(cp.icount) + ": page " + std::to_string(page) +
                       " after page " + std::to_string(last) + " (a checkpoint over several frames lists pages in increasing order)");
    last = page;
    any = true;
  }
}

Checkpoint TraceReader::read_checkpoint(size_t index, bool with_pages) {
  size_t first;
  Checkpoint cp = decode_checkpoint_frame(index, first);
  size_t fi = checkpoint_frames_[index];
  if (!with_pages) {
    cp.pages.clear();
    cp.page_contents.clear();
    return cp;
  }
  if (first == fi) return cp;
  Checkpoint all;
  uint64_t last = 0;
  bool any = false;
  codec::AlignedBuffer buf;
  for (size_t f = first; f < fi; ++f) {
    load_frame(f, buf);
    size_t from = all.pages.size();
    try {
      codec::decode_checkpoint_pages(buf, cp.icount, all);
    } catch (const TraceError& e) {
      throw TraceError(at(frames_[f].offset) + ": " + e.what());
    }
    check_page_order(all, from, last, any);
  }
  size_t base = all.page_contents.size();
  check_page_order(cp, 0, last, any);
  for (PageRef p : cp.pages) all.pages.push_back({p.page_number, uint32_t(base + p.content)});
  for (Bytes& c : cp.page_contents) all.page_contents.push_back(std::move(c));
  cp.pages = std::move(all.pages);
  cp.page_contents = std::move(all.page_contents);
  return cp;
}

void TraceReader::for_each_checkpoint_page(size_t index, const std::function<void(uint64_t, const uint8_t*)>& f,
                                           Checkpoint* head) {
  size_t first;
  Checkpoint cp = decode_checkpoint_frame(index, first);
  size_t fi = checkpoint_frames_[index];
  uint64_t last = 0;
  bool any = false;
  codec::AlignedBuffer buf;
  for (size_t frame = first; frame < fi; ++frame) {
    load_frame(frame, buf);
    Checkpoint chunk;
    try {
      codec::decode_checkpoint_pages(buf, cp.icount, chunk);
    } catch (const TraceError& e) {
      throw TraceError(at(frames_[frame].offset) + ": " + e.what());
    }
    check_page_order(chunk, 0, last, any);
    for (size_t i = 0; i < chunk.pages.size(); ++i) f(chunk.pages[i].page_number, chunk.page_bytes(i).data());
  }
  if (first != fi) check_page_order(cp, 0, last, any);
  for (size_t i = 0; i < cp.pages.size(); ++i) f(cp.pages[i].page_number, cp.page_bytes(i).data());
  if (head) {
    cp.pages.clear();
    cp.page_contents.clear();
    *head = std::move(cp);
  }
}

std::optional<size_t> TraceReader::checkpoint_at_or_before(uint64_t icount) const {
  auto it = std::upper_bound(checkpoints_.begin(), checkpoints_.end(), icount,
                             [](uint64_t v, const CheckpointRef& c) { return v < c.icount; });
  if (it == checkpoints_.begin()) return std::nullopt;
  return size_t(it - checkpoints_.begin()) - 1;
}

void TraceReader::position_after_checkpoint(size_t index) {
  next_frame_ = checkpoint_frames_.at(index) + 1;
  batch_.clear();
  batch_pos_ = 0;
}

std::optional<Checkpoint> TraceReader::seek_checkpoint_at_or_before(uint64_t icount) {
  std::optional<size_t> index = checkpoint_at_or_before(icount);
  if (!index) {
    restart();
    return std::nullopt;
  }
  Checkpoint cp = read_checkpoint(*index);
  position_after_checkpoint(*index);
  return cp;
}

TraceReader::FrameSizes TraceReader::frame_sizes(size_t index) {
  if (index >= frames_.size()) throw TraceError("frame " + std::to_string(index) + " does not exist");
  RawFrame f = read_frame_header(frames_[index].offset);
  return {f.compressed, f.uncompressed};
}

}  // namespace rwd::traces
