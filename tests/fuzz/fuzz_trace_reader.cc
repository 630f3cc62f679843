// libFuzzer target: any byte string, opened as a trace file and read the way
// replay and `rewind trace info/dump` read it. The only acceptable failure is
// a TraceError; a crash, a sanitizer report, another exception, a hang or an
// out-of-memory is a bug in the reader.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

#include "traces/trace_info.h"
#include "traces/trace_reader.h"

namespace {

// One in-memory file for all inputs: no disk traffic, no leftovers.
int trace_fd() {
  static int fd = memfd_create("fuzz-trace", MFD_CLOEXEC);
  return fd;
}

void exercise(const std::string& path) {
  using namespace rwd::traces;
  auto reader = TraceReader::open(path);
  (void)to_json(reader->header());
  size_t events = 0;
  while (auto e = reader->next()) {
    if (events++ < 64) {
      (void)to_text(*e);
      (void)to_json(*e);
    }
  }
  size_t n = reader->checkpoints().size();
  for (size_t i = 0; i < n && i < 8; ++i) (void)reader->read_checkpoint(i);
  for (uint64_t at : {uint64_t(0), reader->last_icount() / 2, reader->last_icount(), UINT64_MAX}) {
    if (reader->seek_checkpoint_at_or_before(at)) (void)reader->next();
  }
  TraceSummary s = summarize(*reader, path);
  (void)to_text(s);
  (void)to_json(s);
}

// Outcomes, printed when the fuzzer ends (scripts/fuzz.sh reports them).
struct Outcomes {
  uint64_t read = 0, refused = 0;
  ~Outcomes() {
    std::fprintf(stderr, "fuzz_trace_reader: %llu inputs read through, %llu refused with a TraceError\n",
                 (unsigned long long)read, (unsigned long long)refused);
  }
};
Outcomes outcomes;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = trace_fd();
  if (fd < 0) __builtin_trap();
  if (ftruncate(fd, 0) != 0) __builtin_trap();
  for (size_t done = 0; done < size;) {
    ssize_t n = pwrite(fd, data + done, size - done, off_t(done));
    if (n <= 0) __builtin_trap();
    done += size_t(n);
  }
  try {
    exercise("/proc/self/fd/" + std::to_string(fd));
    ++outcomes.read;
  } catch (const rwd::traces::TraceError&) {
    ++outcomes.refused;  // expected for almost every input
  }
  return 0;
}
