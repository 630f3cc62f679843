#include "traces/trace_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "traces/crc32c.h"
#include "traces/trace_codec.h"

namespace rwd::traces {
namespace {

// Encoded size of an event, for deciding when a batch is full: a list element
// is 4 words (icount, union tag and value, one pointer), plus digest bytes.
size_t estimated_size(const Event& e) {
  size_t n = 32;
  if (auto* d = std::get_if<StateDigest>(&e.data)) n += 16 + d->digest.registers.size() + d->digest.pages.size();
  if (auto* r = std::get_if<RunEnd>(&e.data)) n += 24 + r->final_digest.registers.size() + r->final_digest.pages.size();
  return n;
}

}  // namespace

std::unique_ptr<TraceWriter> TraceWriter::create(const std::string& path, const Header& header) {
  return create(path, header, Options{});
}

std::unique_ptr<TraceWriter> TraceWriter::create(const std::string& path, const Header& header,
                                                 const Options& options) {
  // Encode first: a header we cannot write should not leave an empty file.
  Bytes body = codec::encode_header(header);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw TraceError("cannot create trace " + path + ": " + std::strerror(errno));
  std::unique_ptr<TraceWriter> w(new TraceWriter(fd, path, options));

  Bytes preamble(kPreambleSize);
  std::memcpy(preamble.data(), kFileMagic, 8);
  put_le(&preamble[8], kFormatMajor, 2);
  put_le(&preamble[10], kFormatMinor, 2);
  put_le(&preamble[12], body.size(), 4);
  put_le(&preamble[16], crc32c(0, body.data(), body.size()), 4);
  preamble.insert(preamble.end(), body.begin(), body.end());
  w->write_all(preamble.data(), preamble.size());
  return w;
}

TraceWriter::TraceWriter(int fd, std::string path, const Options& options)
    : fd_(fd), path_(std::move(path)), options_(options),
      compressor_(std::make_unique<codec::Compressor>(options.zstd_level)) {
  if (options_.batch_events == 0) options_.batch_events = 1;
  options_.batch_events = std::min(options_.batch_events, kMaxEventsPerFrame);
  // Keep the estimate well under the reader's limit for an event frame.
  options_.batch_bytes = std::min<size_t>(options_.batch_bytes, kMaxEventFrameBytes / 4);
}

TraceWriter::~TraceWriter() {
  if (fd_ < 0) return;
  if (!finished_ && !failed_) {
    try {
      flush();
    } catch (const TraceError&) {
      // Destructors must not throw; the file still ends at a whole frame.
    }
  }
  ::close(fd_);
}

void TraceWriter::check_open(const char* what) const {
  if (finished_) throw TraceError(std::string("trace ") + path_ + ": " + what + " after finish()");
  if (failed_) throw TraceError(std::string("trace ") + path_ + ": " + what + " after a failed write");
}

void TraceWriter::check_icount(uint64_t icount, const char* what) {
  if (icount < last_icount_)
    throw TraceError(std::string("trace ") + path_ + ": " + what + " at icount " + std::to_string(icount) +
                     " after icount " + std::to_string(last_icount_) + " (icounts must not decrease)");
  last_icount_ = icount;
}

void TraceWriter::append(const Event& event) {
  check_open("append");
  check_icount(event.icount, "event");
  pending_.push_back(event);
  pending_bytes_ += estimated_size(event);
  ++stats_.events;
  ++stats_.events_by_kind[size_t(event.kind())];
  if (pending_.size() >= options_.batch_events || pending_bytes_ >= options_.batch_bytes) flush();
}

void TraceWriter::flush() {
  check_open("flush");
  if (pending_.empty()) return;
  Bytes raw = codec::encode_events(pending_.data(), pending_.size());
  uint64_t first = pending_.front().icount;
  pending_.clear();
  pending_bytes_ = 0;
  write_frame(FrameKind::kEvents, first, raw, kMaxEventFrameBytes);
}

void TraceWriter::write_checkpoint(const Checkpoint& checkpoint) { write_checkpoint(checkpoint, nullptr); }

void TraceWriter::write_checkpoint(const Checkpoint& head, const PageProducer& more_pages) {
  check_open("write_checkpoint");
  check_icount(head.icount, "checkpoint");
  flush();
  // Pages gather in `chunk`; each time it is full it becomes a CKPG frame,
  // and the last (partial) chunk goes into the CKPT frame itself.
  Checkpoint chunk;
  chunk.icount = head.icount;
  uint32_t page_frames = 0;
  bool increasing = true;
  uint64_t last_page = 0;
  auto add = [&](uint64_t page_number, const uint8_t* bytes) {
    if (chunk.pages.size() == kPagesPerFrame) {
      if (!increasing)
        throw TraceError("trace " + path_ + ": checkpoint at icount " + std::to_string(head.icount) +
                         ": a checkpoint of more than " + std::to_string(kPagesPerFrame) +
                         " pages must list them in increasing order");
      write_frame(FrameKind::kCheckpointPages, head.icount, codec::encode_checkpoint_pages(chunk),
                  kMaxCheckpointFrameBytes);
      ++page_frames;
      chunk.pages.clear();
      chunk.page_contents.clear();
    }
    if (!chunk.pages.empty() || page_frames) increasing = increasing && page_number > last_page;
    last_page = page_number;
    chunk.add_page(page_number, bytes);
  };
  try {
    for (size_t i = 0; i < head.pages.size(); ++i) {
      if (head.pages[i].content >= head.page_contents.size() || head.page_bytes(i).size() != kPageSize)
        throw TraceError("trace " + path_ + ": checkpoint at icount " + std::to_string(head.icount) + ": page " +
                         std::to_string(head.pages[i].page_number) + " has no 4096-byte content");
      add(head.pages[i].page_number, head.page_bytes(i).data());
    }
    uint64_t page_number;
    const uint8_t* bytes;
    while (more_pages && more_pages(page_number, bytes)) add(page_number, bytes);
    if (page_frames && !increasing)
      throw TraceError("trace " + path_ + ": checkpoint at icount " + std::to_string(head.icount) +
                       ": pages out of order across frames");
    Checkpoint last = head;
    last.pages = std::move(chunk.pages);
    last.page_contents = std::move(chunk.page_contents);
    Bytes raw = codec::encode_checkpoint(last, page_frames);
    checkpoints_.push_back({head.icount, offset_});
    write_frame(FrameKind::kCheckpoint, head.icount, raw, kMaxCheckpointFrameBytes);
  } catch (...) {
    // Page frames without their checkpoint frame: nothing more may follow
    // them (a reader drops such a tail as cut off).
    if (page_frames) failed_ = true;
    throw;
  }
  ++stats_.checkpoints;
}

void TraceWriter::finish() {
  check_open("finish");
  flush();
  codec::FooterData footer{frames_, checkpoints_, stats_.events, last_icount_};
  uint64_t footer_offset = offset_;
  write_frame(FrameKind::kFooter, 0, codec::encode_footer(footer), kMaxFooterFrameBytes);
  uint8_t trailer[kTrailerSize];
  put_le(trailer, footer_offset, 8);
  std::memcpy(trailer + 8, kEndMagic, 8);
  write_all(trailer, sizeof trailer);
  finished_ = true;
  if (::close(fd_) != 0) {
    fd_ = -1;
    throw TraceError("trace " + path_ + ": close failed: " + std::strerror(errno));
  }
  fd_ = -1;
}

void TraceWriter::write_frame(FrameKind kind, uint64_t first_icount, const Bytes& raw, uint32_t max_raw) {
  if (raw.size() > max_raw)
    throw TraceError("trace " + path_ + ": frame of " + std::to_string(raw.size()) +
                     " bytes exceeds the format's limit of " + std::to_string(max_raw));
  Bytes compressed = compressor_->compress(raw);
  // Header and payload in one buffer, one write: a kill leaves either the
  // whole frame or a short tail the reader recognises as cut off.
  Bytes frame(kFrameHeaderSize + compressed.size());
  put_le(&frame[0], uint32_t(kind), 4);
  put_le(&frame[4], compressed.size(), 4);
  put_le(&frame[8], raw.size(), 4);
  put_le(&frame[12], first_icount, 8);
  uint32_t crc = crc32c(0, frame.data(), 20);
  crc = crc32c(crc, compressed.data(), compressed.size());
  put_le(&frame[20], crc, 4);
  std::memcpy(frame.data() + kFrameHeaderSize, compressed.data(), compressed.size());
  uint64_t offset = offset_;
  write_all(frame.data(), frame.size());
  if (kind != FrameKind::kFooter) {
    frames_.push_back({kind, offset, first_icount});
    ++stats_.frames;
    stats_.raw_bytes += raw.size();
    stats_.compressed_bytes += compressed.size();
  }
}

void TraceWriter::write_all(const uint8_t* data, size_t len) {
  while (len > 0) {
    ssize_t n = ::write(fd_, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      failed_ = true;
      throw TraceError("trace " + path_ + ": write failed at offset " + std::to_string(offset_) + ": " +
                       std::strerror(err));
    }
    data += n;
    len -= size_t(n);
    offset_ += uint64_t(n);
    stats_.file_bytes += uint64_t(n);
  }
}

}  // namespace rwd::traces
