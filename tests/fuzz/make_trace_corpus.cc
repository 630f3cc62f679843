// Writes the fuzzer's seed corpus: small traces of every shape the reader
// handles (complete, cut off, with checkpoints, empty, every event kind), so
// fuzzing starts from valid structure instead of having to discover it.
// Usage: make_trace_corpus DIR   (creates DIR/seeds, DIR/work, DIR/artifacts)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "traces/trace_writer.h"

using namespace rwd::traces;
namespace fs = std::filesystem;

namespace {

Header small_header() {
  Header h;
  h.machine.kernel = "guest.elf";
  h.machine.ram_size = 1 << 20;
  h.machine.accel = "tcg";
  h.machine.devices = {{"isa-debug-exit", {{"iobase", "0xf4"}}}};
  h.command_line = {"rewind", "record", "-kernel", "guest.elf"};
  h.images = {{"guest.elf", 3, {}}};
  h.initial_digest.registers = {1, 2, 3, 4};
  h.checkpoint_interval = 1000;
  h.digest_algorithm = "xxh64";
  return h;
}

std::vector<Event> some_events(uint64_t base) {
  return {
      {base, WallClock{1'700'000'000'000'000'000}},
      {base + 3, ConsoleInput{0, 'h'}},
      {base + 9, ConsoleInput{0, 'i'}},
      {base + 12, RandomValue{0x0123456789abcdefull}},
      {base + 20, StateDigest{{{9, 9}, {8, 8}}}},
      {base + 21, UserRequest{UserRequest::Kind::kReset}},
  };
}

Checkpoint small_checkpoint(uint64_t icount) {
  Checkpoint cp;
  cp.icount = icount;
  cp.cpu_state_version = 1;
  cp.cpu_state.assign(64, 0x11);
  cp.devices = {{"serial0", {1, 2}}};
  std::vector<uint8_t> page(kPageSize, 0);
  cp.add_page(0, page.data());
  page[7] = 0x42;
  cp.add_page(3, page.data());
  cp.add_page(4, page.data());
  cp.digest.pages = {5, 5};
  return cp;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  fs::path dir = argv[1];
  for (const char* sub : {"seeds", "work", "artifacts"}) fs::create_directories(dir / sub);
  fs::path seeds = dir / "seeds";
  try {
    {
      auto w = TraceWriter::create((seeds / "events.rwt").string(), small_header());
      for (const Event& e : some_events(0)) w->append(e);
      w->append({30, RunEnd{StopReason::kGuestExit, 3, {}}});
      w->finish();
    }
    {
      TraceWriter::Options o;
      o.batch_events = 2;
      auto w = TraceWriter::create((seeds / "checkpoints.rwt").string(), small_header(), o);
      for (const Event& e : some_events(0)) w->append(e);
      w->write_checkpoint(small_checkpoint(1000));
      for (const Event& e : some_events(1000)) w->append(e);
      w->write_checkpoint(small_checkpoint(2000));
      w->append({2500, RunEnd{StopReason::kUserQuit, 0, {{1}, {2}}}});
      w->finish();
    }
    TraceWriter::create((seeds / "empty.rwt").string(), Header{})->finish();
    {
      // Dropped without finish(): no footer, no trailer.
      auto w = TraceWriter::create((seeds / "cut.rwt").string(), small_header());
      for (const Event& e : some_events(0)) w->append(e);
      w->write_checkpoint(small_checkpoint(100));
    }
    {
      // The same, also cut inside its last frame.
      fs::path p = seeds / "cut-mid-frame.rwt";
      fs::copy_file(seeds / "checkpoints.rwt", p, fs::copy_options::overwrite_existing);
      fs::resize_file(p, fs::file_size(p) - 40);
    }
  } catch (const TraceError& e) {
    std::fprintf(stderr, "make_trace_corpus: %s\n", e.what());
    return 1;
  }
  return 0;
}
