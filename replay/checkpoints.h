// Taking a checkpoint of a running machine and putting one back: CPU state,
// machine and device state, and the RAM pages written since the previous
// checkpoint (the dirty log), which is cleared afterwards. Record and replay
// both go through here, so both logs evolve identically. Pages stream
// between guest RAM and the trace a frame at a time: a checkpoint of all
// guest RAM never needs a second copy of it in memory.
#pragma once

#include "core/machine.h"
#include "traces/trace_reader.h"
#include "traces/trace_types.h"
#include "traces/trace_writer.h"

namespace rwd::replay {

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

}  // namespace rwd::replay
