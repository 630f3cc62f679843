// Taking a checkpoint of a running machine and putting one back: CPU state,
// machine and device state, and the RAM pages written since the previous
// checkpoint (the dirty log), which is cleared afterwards. Record and replay
// both go through here, so both logs evolve identically.
#pragma once

#include "core/machine.h"
#include "traces/trace_types.h"

namespace rwd::replay {

// Captures the checkpoint at the machine's current point, then clears the
// dirty log (and the vCPU's writable mappings with it).
traces::Checkpoint take_checkpoint(core::Machine& machine);

// The digest part of take_checkpoint without capturing anything; clears the
// dirty log the same way (replay verifying a recorded checkpoint).
traces::Digest checkpoint_digest_and_clear(core::Machine& machine);

// Writes a checkpoint's pages into RAM (pages are RAM-block page indexes).
// Throws traces::TraceError for a page outside RAM.
void apply_checkpoint_pages(core::Machine& machine, const traces::Checkpoint& checkpoint);
// Restores CPU, machine and device state (after the pages of every checkpoint
// up to this one were applied), on a machine whose vCPU has not run yet (so it
// holds no translations of the old RAM contents). Throws core::SnapshotError
// on malformed state.
void restore_checkpoint_state(core::Machine& machine, const traces::Checkpoint& checkpoint);

}  // namespace rwd::replay
