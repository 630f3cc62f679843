// State digests for divergence detection: what the recorder stores in the
// trace at checkpoints and events, and what replay recomputes and compares.
//
// registers: one 16-bit hash per architectural field group (each GPR, RIP,
//   RFLAGS, control registers, segments, ...), so a mismatch names the first
//   field that differs, not just "something".
// pages: a 64-bit hash of the RAM pages written since the last checkpoint
//   (page index and contents, in page order); left out of the digests logged
//   after input (kWithoutPages), which come often.
// devices: a 64-bit hash of every device's checkpoint state.
#pragma once

#include <string>

#include "core/machine.h"
#include "core/x86_cpu_state.h"
#include "traces/trace_types.h"

namespace rwd::replay {

inline constexpr const char* kDigestAlgorithm = "rwd-fields16-pages64-v1";

// The digest of one vCPU's state and the machine's RAM.
traces::Digest compute_digest(const core::X86CpuState& cpu, const core::Machine& machine);
// Every vCPU's state (each field group covers the group of all vCPUs; for one
// vCPU the same as above), the devices' state and the machine's RAM.
enum class DigestScope { kFull, kWithoutPages };
traces::Digest compute_digest(const core::Machine& machine, DigestScope scope = DigestScope::kFull);
// What a replay compares with `expected`: the parts the recorder computed.
traces::Digest compute_digest_like(const traces::Digest& expected, const core::Machine& machine);

// "" when equal; else what differs first, e.g. "register rax" or "pages written".
std::string first_difference(const traces::Digest& expected, const traces::Digest& got);

// A fast 64-bit hash (not cryptographic: divergence is an accident, not an attack).
uint64_t hash64(const void* data, size_t size, uint64_t seed);

}  // namespace rwd::replay
