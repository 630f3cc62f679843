// Taking a checkpoint of a running machine and putting one back: CPU state,
// machine and device state, and the RAM pages written since the previous
// checkpoint (the dirty log), which is cleared afterwards. Record and replay
// both go through here, so both logs evolve identically. Pages stream
// between guest RAM and the trace a frame at a time: a checkpoint of all
// guest RAM never needs a second copy of it in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/machine.h"
#include "traces/trace_reader.h"
#include "traces/trace_types.h"
#include "traces/trace_writer.h"

namespace rwd::replay {

// The machine's CPU, device and clock state: a checkpoint without pages,
// digest or footprint.
traces::Checkpoint capture_state(core::Machine& machine);
// Puts such a state (captured, or read from a trace) into the machine's
// vCPUs and devices. Throws traces::TraceError for a CPU state layout or a
// vCPU count the machine cannot take, core::SnapshotError for malformed state.
void load_state(core::Machine& machine, const traces::Checkpoint& state);

// Writes the checkpoint at the machine's current point into `writer`, then
// clears the dirty log (and the vCPU's writable mappings with it).
void write_checkpoint(core::Machine& machine, traces::TraceWriter& writer);

// The digest part of write_checkpoint without capturing anything; clears the
// dirty log the same way (replay verifying a recorded checkpoint).
traces::Digest checkpoint_digest_and_clear(core::Machine& machine);

// Puts a machine whose vCPU has not run yet (so it holds no translations of
// the old RAM contents) in the state of checkpoint `index`: the pages of
// every checkpoint up to it (each holds the pages written since the previous
// one), then its CPU, machine and device state. Checks that the result
// matches the checkpoint's own digest, and returns that digest. Throws
// traces::TraceError for a page outside RAM or a checkpoint that does not
// match its digest, core::SnapshotError for malformed state.
traces::Digest restore_checkpoint(core::Machine& machine, traces::TraceReader& reader, size_t index);

// Which checkpoint of a trace holds which RAM pages, and what ran between
// checkpoints (their footprints), read once (every checkpoint's pages are
// decompressed to learn their numbers).
class SeekIndex {
 public:
  explicit SeekIndex(traces::TraceReader& reader);
  // Whether, between checkpoint `checkpoint - 1` and `checkpoint`, an
  // instruction at `linear` may have run / an instruction may have written
  // [linear, linear + length): false only when that checkpoint's footprint
  // says it did not; true for an interval the recorder could not describe.
  bool may_have_run(size_t checkpoint, uint64_t linear) const;
  bool may_have_written(size_t checkpoint, uint64_t linear, uint64_t length) const;
  // Checkpoint `checkpoint`'s page numbers, ascending.
  const std::vector<uint64_t>& pages_of(size_t checkpoint) const { return pages_.at(checkpoint); }
  // The latest checkpoint at or before `at` that holds `page`; nullopt when
  // none does (the page was never written by then).
  std::optional<size_t> holder(uint64_t page, size_t at) const;

 private:
  std::vector<std::vector<uint64_t>> pages_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> holders_;  // page -> checkpoints, ascending
  struct Footprint {
    bool known = false;
    std::vector<traces::Checkpoint::CodeLines> code_lines;  // pages ascending
    std::vector<uint64_t> written_pages;                    // ascending
  };
  std::vector<Footprint> footprints_;
};

// Seeking in place: `machine` replays `reader` and is somewhere after
// checkpoint `from` (the last one it restored or passed, so RAM is that
// checkpoint's plus the pages its dirty log marks); puts it in checkpoint
// `to`'s state, before or after, and drops what its vCPUs cached. Rewrites
// only the pages that can differ -- written since `from`, or held by a
// checkpoint between the two -- each from the latest checkpoint at or
// before `to` that holds it (zero when none does), so the cost follows how
// much RAM changed between the two points, not where they lie. Checks and
// returns the checkpoint's digest like restore_checkpoint. The caller puts
// the replay's reader and events back in step (Replayer::reposition).
traces::Digest seek_to_checkpoint(core::Machine& machine, traces::TraceReader& reader, const SeekIndex& index,
                                  size_t from, size_t to);

}  // namespace rwd::replay
