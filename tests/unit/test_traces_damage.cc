// Damaged and hostile trace files: a cut at every byte, a flipped byte
// anywhere, an unknown major version, random garbage, and lengths that lie.
// The reader must say what is wrong in one line and never crash, hang or
// allocate beyond the format's limits.
#define BOOST_TEST_MODULE traces_damage
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <regex>

#include "test_traces_util.h"
#include "traces/crc32c.h"
#include "traces/trace_codec.h"
#include "traces/trace_format.h"
#include "traces/trace_info.h"

// GCC cannot see that the replaced operator delete below pairs with the
// replaced operator new, which also uses malloc.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// Allocation watch: the largest single operator-new request while armed.
// Containers and Cap'n Proto allocate through operator new; zstd's own
// workspace is bounded separately by the reader's window limit.
namespace {
std::atomic<bool> g_watch{false};
std::atomic<size_t> g_largest{0};
void note(size_t n) {
  if (!g_watch.load(std::memory_order_relaxed)) return;
  size_t cur = g_largest.load(std::memory_order_relaxed);
  while (n > cur && !g_largest.compare_exchange_weak(cur, n)) {
  }
}
}  // namespace

void* operator new(std::size_t n) {
  note(n);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace rwd::traces;
using namespace rwd::traces::test;

namespace {

ScratchDir scratch;

// Frames of the small trace below, in order: events of each, or -1 for a
// checkpoint.
const std::vector<int> kFrameEvents = {3, -1, 3, 2};

std::string small_trace() {
  std::string path = scratch.path("small.rwt");
  auto w = TraceWriter::create(path, sample_header());
  std::vector<Event> ev = every_kind(0);
  for (int i = 0; i < 3; ++i) w->append(ev[i]);
  w->write_checkpoint(sample_checkpoint(20, 3));
  for (int i = 3; i < 6; ++i) w->append(ev[i]);
  w->flush();
  for (int i = 6; i < 8; ++i) w->append(ev[i]);
  w->finish();
  return path;
}

// Opens and reads everything a replay or `trace info` would.
void read_everything(const std::string& path) {
  auto r = TraceReader::open(path);
  read_all(*r);
  for (size_t i = 0; i < r->checkpoints().size(); ++i) r->read_checkpoint(i);
  summarize(*r, path);
}

// A frame with a correct checksum around `payload`.
Bytes make_frame(FrameKind kind, uint64_t first_icount, const Bytes& payload, uint32_t uncompressed) {
  Bytes f(kFrameHeaderSize);
  put_le(&f[0], uint32_t(kind), 4);
  put_le(&f[4], payload.size(), 4);
  put_le(&f[8], uncompressed, 4);
  put_le(&f[12], first_icount, 8);
  uint32_t crc = crc32c(crc32c(0, f.data(), 20), payload.data(), payload.size());
  put_le(&f[20], crc, 4);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

// The preamble and header of a valid trace, to put hostile frames after.
Bytes valid_prefix() {
  std::string path = scratch.path("prefix.rwt");
  TraceWriter::create(path, sample_header())->flush();  // destroyed unfinished
  return read_file(path);
}

std::string with_frames(const std::string& name, const std::vector<Bytes>& frames) {
  Bytes file = valid_prefix();
  for (const Bytes& f : frames) file.insert(file.end(), f.begin(), f.end());
  std::string path = scratch.path(name);
  write_file(path, file, file.size());
  return path;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_cut_at_every_byte_leaves_exactly_the_whole_frames_before_it) {
  std::string path = small_trace();
  Bytes full = read_file(path);
  auto complete = TraceReader::open(path);
  const std::vector<FrameRef> frames = complete->frames();
  BOOST_REQUIRE_EQUAL(frames.size(), kFrameEvents.size());
  const uint64_t footer = complete->readable_end();
  const uint64_t data_start = frames[0].offset;
  const std::vector<Event> all = every_kind(0);
  std::string cut = scratch.path("cut.rwt");
  std::printf("traces: cutting a %zu-byte trace at every length\n", full.size());

  for (size_t len = 0; len < full.size(); ++len) {
    write_file(cut, full, len);
    if (len < data_start) {
      std::string msg = error_of([&] { TraceReader::open(cut); });
      BOOST_TEST(!msg.empty(), "length " << len << " opened");
      continue;
    }
    std::unique_ptr<TraceReader> r;
    std::string msg = error_of([&] { r = TraceReader::open(cut); });
    BOOST_REQUIRE_MESSAGE(msg.empty(), "length " << len << ": " << msg);
    // Whole frames: those ending at or before the cut.
    size_t whole = 0, events = 0, checkpoints = 0;
    uint64_t end = data_start;
    for (size_t i = 0; i < frames.size(); ++i) {
      uint64_t frame_end = i + 1 < frames.size() ? frames[i + 1].offset : footer;
      if (frame_end > len) break;
      ++whole;
      end = frame_end;
      if (kFrameEvents[i] < 0) ++checkpoints; else events += size_t(kFrameEvents[i]);
    }
    BOOST_TEST(r->truncated());
    BOOST_TEST(r->frames().size() == whole, "length " << len);
    BOOST_TEST(r->readable_end() == end, "length " << len);
    BOOST_TEST(r->checkpoints().size() == checkpoints, "length " << len);
    std::vector<Event> got = read_all(*r);
    BOOST_REQUIRE_EQUAL(got.size(), events);
    BOOST_TEST((got == std::vector<Event>(all.begin(), all.begin() + long(events))), "length " << len);
    if (events > 0) BOOST_TEST(r->last_icount() == std::max<uint64_t>(got.back().icount, checkpoints ? 20 : 0));
  }
}

BOOST_AUTO_TEST_CASE(a_flipped_byte_in_a_frame_names_the_frame_and_both_checksums) {
  std::string path = small_trace();
  Bytes file = read_file(path);
  uint64_t offset;
  {
    auto r = TraceReader::open(path);
    offset = r->frames()[2].offset;  // the second events frame
  }
  file[offset + kFrameHeaderSize + 5] ^= 0x40;
  std::string bad = scratch.path("flipped.rwt");
  write_file(bad, file, file.size());
  auto r = TraceReader::open(bad);  // the index alone is intact
  std::string msg = error_of([&] { read_all(*r); });
  std::regex expected("trace frame at offset " + std::to_string(offset) +
                      ": checksum mismatch \\(expected 0x[0-9a-f]{8}, got 0x[0-9a-f]{8}\\)");
  BOOST_TEST(std::regex_match(msg, expected), msg);
  // Frames before it still read.
  r->restart();
  BOOST_TEST(r->next().has_value());
}

BOOST_AUTO_TEST_CASE(every_single_byte_flip_is_detected) {
  std::string path = small_trace();
  const Bytes file = read_file(path);
  std::string bad = scratch.path("flip-any.rwt");
  for (size_t pos = 0; pos < file.size(); ++pos) {
    Bytes damaged = file;
    damaged[pos] ^= 0x01;
    write_file(bad, damaged, damaged.size());
    std::unique_ptr<TraceReader> r;
    std::string msg = error_of([&] {
      read_everything(bad);
      r = TraceReader::open(bad);
    });
    if (!msg.empty()) {
      BOOST_TEST(msg.find('\n') == std::string::npos);
      continue;
    }
    // Only a damaged end magic goes unnoticed as damage: the trace then
    // reads as cut off, with all its frames.
    BOOST_TEST((r->truncated() && pos >= file.size() - 8), "flip at " << pos << " went unnoticed");
  }
}

BOOST_AUTO_TEST_CASE(an_unknown_major_version_is_refused_by_name) {
  Bytes file = read_file(small_trace());
  put_le(&file[8], 2, 2);
  put_le(&file[10], 3, 2);
  std::string path = scratch.path("v2.rwt");
  write_file(path, file, file.size());
  BOOST_TEST(error_of([&] { TraceReader::open(path); }) ==
             "unsupported trace format version 2.3 (this rewind reads major 1)");
  // A newer minor is read (it only adds fields), but must agree with the header.
  put_le(&file[8], kFormatMajor, 2);
  write_file(path, file, file.size());
  std::string msg = error_of([&] { TraceReader::open(path); });
  BOOST_TEST(msg.find("but the preamble says 1.3") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(not_a_trace_and_short_files) {
  std::string path = scratch.path("text.rwt");
  std::string text = "hello, this is not a trace at all\n";
  write_file(path, Bytes(text.begin(), text.end()), text.size());
  BOOST_TEST(error_of([&] { TraceReader::open(path); }) == "not a rewind trace (bad magic)");
  write_file(path, Bytes(), 0);
  BOOST_TEST(error_of([&] { TraceReader::open(path); }) == "not a rewind trace: 0 bytes long");
  BOOST_TEST(error_of([&] { TraceReader::open(scratch.path("nope.rwt")); }).find("cannot open trace") == 0u);
}

BOOST_AUTO_TEST_CASE(random_garbage_is_a_trace_error_never_a_crash) {
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return uint8_t(state >> 56);
  };
  const Bytes prefix = valid_prefix();
  codec::Compressor zstd(3);
  std::string path = scratch.path("garbage.rwt");
  for (int round = 0; round < 600; ++round) {
    Bytes file;
    size_t len = 1 + size_t(next()) * 8 + next();
    Bytes junk(len);
    for (uint8_t& b : junk) b = next();
    switch (round % 4) {
      case 0:  // garbage from the first byte, sometimes behind the magic
        file = junk;
        if (round % 8 == 0) std::memcpy(file.data(), kFileMagic, std::min<size_t>(8, file.size()));
        break;
      case 1:  // a valid header, then garbage where frames should be
        file = prefix;
        file.insert(file.end(), junk.begin(), junk.end());
        break;
      case 2:  // a frame with a valid checksum around garbage
        file = prefix;
        for (const Bytes& f : {make_frame(round % 3 ? FrameKind::kEvents : FrameKind::kCheckpoint, 0, junk,
                                          uint32_t(junk.size() * 4))})
          file.insert(file.end(), f.begin(), f.end());
        break;
      case 3: {  // valid zstd of garbage: reaches the Cap'n Proto decoder
        junk.resize((junk.size() + 7) / 8 * 8);
        file = prefix;
        Bytes f = make_frame(round % 3 ? FrameKind::kEvents : FrameKind::kCheckpoint, 0, zstd.compress(junk),
                             uint32_t(junk.size()));
        file.insert(file.end(), f.begin(), f.end());
        break;
      }
    }
    write_file(path, file, file.size());
    try {
      read_everything(path);
    } catch (const TraceError& e) {
      BOOST_TEST(std::string(e.what()).find('\n') == std::string::npos, e.what());
    }
  }
}

BOOST_AUTO_TEST_CASE(lying_lengths_cost_no_memory) {
  codec::Compressor zstd(3);
  struct Case {
    const char* name;
    std::vector<Bytes> frames;
    const char* expect;
  };
  // A tiny valid zstd frame of 64 bytes.
  Bytes small = zstd.compress(Bytes(64, 0));
  // 1 MiB of zeros compresses to a few hundred bytes.
  Bytes mib = zstd.compress(Bytes(1 << 20, 0));
  // An event batch whose list claims 2^18 - 1 zero-sized elements in a
  // 32-byte message (a Cap'n Proto amplification attempt).
  Bytes amplified(32, 0);
  put_le(&amplified[4], 3, 4);                              // one segment of 3 words
  put_le(&amplified[8], uint64_t(1) << 48, 8);              // root: struct, 0 data, 1 pointer
  put_le(&amplified[16], 1 | (uint64_t(7) << 32), 8);       // list, inline composite, 0 words
  put_le(&amplified[24], uint64_t((1 << 18) - 1) << 2, 8);  // tag: that many 0-word elements
  const std::vector<Case> cases = {
      {"events-64MiB", {make_frame(FrameKind::kEvents, 0, small, kMaxEventFrameBytes)}, "decompresses to 64 bytes"},
      {"ckpt-1GiB", {make_frame(FrameKind::kCheckpoint, 0, mib, kMaxCheckpointFrameBytes)}, "decompresses to 1048576"},
      {"over-limit", {make_frame(FrameKind::kEvents, 0, small, kMaxEventFrameBytes + 1)}, "exceeds the limit"},
      {"amplified", {make_frame(FrameKind::kEvents, 0, zstd.compress(amplified), 32)}, "event batch"},
  };
  for (const Case& c : cases) {
    std::string path = with_frames(std::string(c.name) + ".rwt", c.frames);
    g_largest = 0;
    g_watch = true;
    std::string msg = error_of([&] { read_everything(path); });
    g_watch = false;
    BOOST_TEST(msg.find(c.expect) != std::string::npos, c.name << ": " << msg);
    BOOST_TEST(g_largest.load() < size_t(8u << 20), c.name << ": largest allocation " << g_largest.load());
  }

  // A compressed length far beyond the file: with a trailer it is an error,
  // without one the frame counts as cut off. Neither reads it.
  Bytes huge = make_frame(FrameKind::kEvents, 0, small, 64);
  put_le(&huge[4], 0x7fffffff, 4);
  std::string path = with_frames("huge.rwt", {huge});
  g_largest = 0;
  g_watch = true;
  std::string msg = error_of([&] { read_everything(path); });
  g_watch = false;
  BOOST_TEST(msg.find("compressed length 2147483647 out of range") != std::string::npos, msg);
  BOOST_TEST(g_largest.load() < size_t(1u << 20));

  // A header claiming 4 GiB.
  Bytes file = valid_prefix();
  put_le(&file[12], 0xfffffff8u, 4);
  path = scratch.path("header.rwt");
  write_file(path, file, file.size());
  BOOST_TEST(error_of([&] { TraceReader::open(path); }) == "trace header: length 4294967288 out of range");
}

BOOST_AUTO_TEST_CASE(a_zeroed_tail_after_a_crash_reads_as_cut_off) {
  std::string path = small_trace();
  Bytes file = read_file(path);
  uint64_t footer;
  {
    auto r = TraceReader::open(path);
    footer = r->readable_end();
  }
  file.resize(footer);
  file.resize(footer + 4096, 0);  // as a filesystem may leave it after power loss
  std::string bad = scratch.path("zero-tail.rwt");
  write_file(bad, file, file.size());
  auto r = TraceReader::open(bad);
  BOOST_TEST(r->truncated());
  BOOST_TEST(r->readable_end() == footer);
  BOOST_TEST(read_all(*r).size() == 8u);
}
