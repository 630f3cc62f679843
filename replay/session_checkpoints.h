// Checkpoints a debugging session adds in memory between the recording's
// own (every 10^7 instructions by default), so that going back to a point
// near one it passed before is a short replay: repeated reverse-stepi, or
// reverse-continue's return to its hit. Each holds the machine's state and
// the RAM pages written since the recording's checkpoint before it (its
// base), so restoring one is an in-place seek to the base (replay/
// checkpoints) plus those pages. They live within a byte budget; when a new
// one would pass it, the least recently used go first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <vector>

#include "core/machine.h"
#include "replay/checkpoints.h"
#include "replay/replayer.h"
#include "traces/trace_reader.h"

namespace rwd::replay {

class SessionCheckpoints {
 public:
  static constexpr size_t kDefaultBudgetBytes = size_t(256) << 20;

  explicit SessionCheckpoints(size_t budget_bytes = kDefaultBudgetBytes) : budget_(budget_bytes) {}

  // Takes one at the machine's current point: a replay stopped between
  // instructions, after everything the recording did there. Nothing when the
  // budget is 0 or too small for it, or one is already here.
  void take(core::Machine& machine, const Replayer& replayer);
  // The icount of the latest one at or before `icount`, if any.
  std::optional<uint64_t> latest_at_or_before(uint64_t icount) const;
  // Puts the replaying machine in the state it had at the one taken at
  // `icount` (latest_at_or_before's answer), in place.
  void restore(uint64_t icount, core::Machine& machine, traces::TraceReader& reader, const SeekIndex& index,
               Replayer& replayer);

  size_t count() const { return entries_.size(); }
  size_t bytes() const { return bytes_; }
  size_t budget_bytes() const { return budget_; }

 private:
  struct Entry {
    uint64_t icount = 0;
    traces::Checkpoint state;           // CPU, devices, clock
    Replayer::Position position;
    std::vector<uint64_t> page_numbers;  // written since the base checkpoint
    std::vector<uint8_t> pages;          // their bytes, 4096 each
    size_t bytes() const;
  };
  std::list<Entry>::iterator find(uint64_t icount);

  size_t budget_;
  size_t bytes_ = 0;
  std::list<Entry> entries_;  // most recently used first
};

}  // namespace rwd::replay
