// libFuzzer target, structure-aware: a real recording (decoded once), changed
// field by field the way the input bytes dictate — header (guest RAM,
// devices, accelerator), checkpoints (CPU state bytes and fields with a
// matching digest, device states, pages, digests, icounts), events (kinds,
// icounts, values, removals) — then written back as a valid trace, every
// checksum right, and replayed in-process by `rewind replay` (with or
// without --to). Any exit status is acceptable but 6 (an internal error);
// a crash, a sanitizer report, an exception escaping the command or a hang
// is a bug.
//
// The recording to start from: $REWIND_FUZZ_BASE_TRACE (set by the test).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fuzzer/FuzzedDataProvider.h>
#include <memory>
#include <string>
#include <vector>

#include "core/machine.h"
#include "core/x86_cpu_state_io.h"
#include "replay/state_digest.h"
#include "tests/integration/trace_contents.h"
#include "tools/subcommands.h"

namespace {

using namespace rwd;
namespace tr = rwd::traces;

const testing::TraceContents& base() {
  static testing::TraceContents t = [] {
    const char* path = std::getenv("REWIND_FUZZ_BASE_TRACE");
    if (!path) {
      std::fprintf(stderr, "fuzz_trace_replay: set REWIND_FUZZ_BASE_TRACE to a recording\n");
      std::exit(2);
    }
    return testing::load_trace(path);
  }();
  return t;
}

tr::Bytes random_bytes(FuzzedDataProvider& in, size_t max) {
  return in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, max));
}

void mutate_bytes(FuzzedDataProvider& in, tr::Bytes& b) {
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0:
      if (!b.empty()) b[in.ConsumeIntegralInRange<size_t>(0, b.size() - 1)] ^= uint8_t(1u << in.ConsumeIntegralInRange(0, 7));
      break;
    case 1:
      b.resize(in.ConsumeIntegralInRange<size_t>(0, b.size()));
      break;
    case 2: {
      tr::Bytes more = random_bytes(in, 16);
      b.insert(b.end(), more.begin(), more.end());
      break;
    }
    default:
      if (!b.empty()) b[in.ConsumeIntegralInRange<size_t>(0, b.size() - 1)] = in.ConsumeIntegral<uint8_t>();
  }
}

// Changes one field of the decoded CPU state and keeps the checkpoint's
// digest true to it, so the replay runs from the odd state.
void mutate_cpu(FuzzedDataProvider& in, tr::Checkpoint& cp) {
  core::X86CpuState s;
  try {
    core::StateReader r(cp.cpu_state.data(), cp.cpu_state.size(), "cpu");
    s = core::load_cpu_state(r);
  } catch (const std::exception&) {
    return;
  }
  uint64_t v = in.ConsumeIntegral<uint64_t>();
  switch (in.ConsumeIntegralInRange(0, 11)) {
    case 0: s.rip = v; break;
    case 1: s.rflags = v; break;
    case 2: s.cr0 = v; break;
    case 3: s.cr3 = v; break;
    case 4: s.cr4 = v; break;
    case 5: s.efer = v; break;
    case 6: s.gpr[v % 16] = in.ConsumeIntegral<uint64_t>(); break;
    case 7: s.seg[v % 6].attrs = uint16_t(in.ConsumeIntegral<uint16_t>()); break;
    case 8: s.seg[v % 6].base = in.ConsumeIntegral<uint64_t>(); s.seg[v % 6].limit = uint32_t(v); break;
    case 9: s.halted = !s.halted; break;
    case 10: s.idtr.base = v; s.idtr.limit = uint16_t(v >> 48); break;
    default: s.icount = v; break;
  }
  core::StateWriter w;
  core::save_cpu_state(s, w);
  cp.cpu_state = w.take();
  static core::Machine scratch(2u << 20);
  cp.digest.registers = replay::compute_digest(s, scratch).registers;
}

void mutate(FuzzedDataProvider& in, testing::TraceContents& t) {
  auto pick_cp = [&]() -> tr::Checkpoint* {
    if (t.checkpoints.empty()) return nullptr;
    return &t.checkpoints[in.ConsumeIntegralInRange<size_t>(0, t.checkpoints.size() - 1)];
  };
  switch (in.ConsumeIntegralInRange(0, 12)) {
    case 0: {
      static const uint64_t kSizes[] = {0, 4096, 2u << 20, (2u << 20) + 1, 128u << 20, 64ull << 30,
                                        (64ull << 30) + 4096, 1ull << 47, ~0ull};
      t.header.machine.ram_size = in.ConsumeBool() ? kSizes[in.ConsumeIntegralInRange<size_t>(0, 8)]
                                                   : in.ConsumeIntegral<uint64_t>();
      break;
    }
    case 1: {
      tr::DeviceSpec d{in.ConsumeBool() ? "isa-debug-exit" : in.ConsumeRandomLengthString(16), {}};
      for (int i = in.ConsumeIntegralInRange(0, 3); i > 0; --i)
        d.properties.emplace_back(in.ConsumeRandomLengthString(8), in.ConsumeRandomLengthString(24));
      t.header.machine.devices.push_back(std::move(d));
      break;
    }
    case 2:
      t.header.machine.accel = in.ConsumeBool() ? "kvm" : in.ConsumeRandomLengthString(8);
      t.header.machine.no_reboot = in.ConsumeBool();
      break;
    case 3:
      if (tr::Checkpoint* cp = pick_cp()) mutate_bytes(in, cp->cpu_state);
      break;
    case 4:
      if (tr::Checkpoint* cp = pick_cp()) mutate_cpu(in, *cp);
      break;
    case 5:
      if (tr::Checkpoint* cp = pick_cp(); cp && !cp->devices.empty()) {
        auto& d = cp->devices[in.ConsumeIntegralInRange<size_t>(0, cp->devices.size() - 1)];
        switch (in.ConsumeIntegralInRange(0, 3)) {
          case 0: mutate_bytes(in, d.state); break;
          case 1: d.name = in.ConsumeRandomLengthString(16); break;
          case 2: cp->devices.erase(cp->devices.begin()); break;
          default: cp->devices.push_back(d); break;
        }
      }
      break;
    case 6:
      if (tr::Checkpoint* cp = pick_cp(); cp && !cp->pages.empty()) {
        size_t i = in.ConsumeIntegralInRange<size_t>(0, cp->pages.size() - 1);
        switch (in.ConsumeIntegralInRange(0, 3)) {
          case 0: cp->pages[i].page_number = in.ConsumeIntegral<uint64_t>() >> in.ConsumeIntegralInRange(0, 63); break;
          case 1: cp->pages.erase(cp->pages.begin() + long(i)); break;
          case 2: mutate_bytes(in, cp->page_contents[cp->pages[i].content]); break;
          default: {
            tr::Bytes page(tr::kPageSize, in.ConsumeIntegral<uint8_t>());
            cp->add_page(cp->pages[i].page_number + 1 + in.ConsumeIntegralInRange(0, 64), page.data());
          }
        }
      }
      break;
    case 7:
      if (tr::Checkpoint* cp = pick_cp()) mutate_bytes(in, in.ConsumeBool() ? cp->digest.registers : cp->digest.pages);
      break;
    case 8:
      if (tr::Checkpoint* cp = pick_cp()) {
        if (in.ConsumeBool()) cp->icount += in.ConsumeIntegralInRange<uint64_t>(0, 100000);
        else cp->idle_ns = in.ConsumeIntegral<uint64_t>();
      }
      break;
    case 9:
      if (!t.events.empty()) {
        auto& e = t.events[in.ConsumeIntegralInRange<size_t>(0, t.events.size() - 1)];
        switch (in.ConsumeIntegralInRange(0, 6)) {
          case 0: e.data = tr::WallClock{in.ConsumeIntegral<int64_t>()}; break;
          case 1: e.data = tr::RandomValue{in.ConsumeIntegral<uint64_t>()}; break;
          case 2: e.data = tr::UserRequest{in.ConsumeBool() ? tr::UserRequest::Kind::kQuit : tr::UserRequest::Kind::kReset}; break;
          case 3: e.data = tr::ConsoleInput{in.ConsumeIntegralInRange<uint32_t>(0, 5), in.ConsumeIntegral<uint8_t>()}; break;
          case 4: e.data = tr::StateDigest{{random_bytes(in, 64), random_bytes(in, 64)}}; break;
          case 5:
            e.data = tr::RunEnd{tr::StopReason(in.ConsumeIntegralInRange(0, 6)), in.ConsumeIntegral<int32_t>(), {}};
            break;
          default: e.idle_ns = in.ConsumeIntegral<uint64_t>() >> in.ConsumeIntegralInRange(0, 63); break;
        }
      }
      break;
    case 10:
      if (!t.events.empty()) {
        size_t i = in.ConsumeIntegralInRange<size_t>(0, t.events.size() - 1);
        if (in.ConsumeBool()) t.events.erase(t.events.begin() + long(i));
        else t.events.insert(t.events.begin() + long(i), t.events[i]);
      }
      break;
    case 11:
      if (!t.events.empty()) {
        // Moved to another point: later, or to where an earlier event is.
        size_t i = in.ConsumeIntegralInRange<size_t>(0, t.events.size() - 1);
        uint64_t lo = i ? t.events[i - 1].icount : 0;
        uint64_t hi = i + 1 < t.events.size() ? t.events[i + 1].icount : t.events[i].icount + 100000;
        t.events[i].icount = in.ConsumeIntegralInRange<uint64_t>(lo, hi);
      }
      break;
    default:
      if (t.checkpoints.size() > 1) {
        size_t i = in.ConsumeIntegralInRange<size_t>(1, t.checkpoints.size() - 1);
        t.checkpoints.erase(t.checkpoints.begin() + long(i));
      }
      break;
  }
}

int trace_fd() {
  static int fd = memfd_create("fuzz-replay", MFD_CLOEXEC);
  return fd;
}

// Outcomes by exit status, printed when the fuzzer ends (scripts/fuzz.sh
// reports them).
struct Outcomes {
  uint64_t refused_by_writer = 0;
  uint64_t by_status[256] = {};
  ~Outcomes() {
    std::fprintf(stderr, "fuzz_trace_replay: %llu traces the writer refused; replays by exit status:",
                 (unsigned long long)refused_by_writer);
    for (int i = 0; i < 256; ++i)
      if (by_status[i]) std::fprintf(stderr, " %d: %llu", i, (unsigned long long)by_status[i]);
    std::fprintf(stderr, "\n");
  }
};
Outcomes outcomes;

// stderr to /dev/null around a replay: one line per run would drown the log.
struct QuietStderr {
  int saved = dup(2);
  QuietStderr() {
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    dup2(null, 2);
    close(null);
  }
  ~QuietStderr() {
    dup2(saved, 2);
    close(saved);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  testing::TraceContents t = base();
  for (int n = in.ConsumeIntegralInRange(1, 6); n > 0; --n) mutate(in, t);
  std::string path = "/proc/self/fd/" + std::to_string(trace_fd());
  try {
    testing::write_trace(path, t);
  } catch (const tr::TraceError&) {
    ++outcomes.refused_by_writer;
    return 0;  // the writer refuses what no recorder writes (icounts going back)
  }
  std::vector<std::string> args = {path, "-serial", "none"};
  if (in.ConsumeBool()) args.insert(args.end(), {"--to", std::to_string(in.ConsumeIntegralInRange<uint64_t>(0, 2000000))});
  // To look at an input's trace: REWIND_FUZZ_SAVE_TRACE=FILE keeps it there
  // and prints the replay's arguments instead of replaying.
  if (const char* save = std::getenv("REWIND_FUZZ_SAVE_TRACE")) {
    testing::write_trace(save, t);
    std::fprintf(stderr, "fuzz_trace_replay: wrote %s; replay arguments:", save);
    for (size_t i = 1; i < args.size(); ++i) std::fprintf(stderr, " %s", args[i].c_str());
    std::fprintf(stderr, "\n");
    return 0;
  }
  int status;
  {
    QuietStderr quiet;
    try {
      status = tools::replay_command(args);
    } catch (...) {
      __builtin_trap();  // main() would report this as an internal error
    }
  }
  ++outcomes.by_status[status & 0xff];
  if (status == 6) __builtin_trap();
  return 0;
}
