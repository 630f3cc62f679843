#include "replay/checkpoints.h"

#include <cstring>

#include "core/x86_cpu_state_io.h"
#include "replay/state_digest.h"

namespace rwd::replay {

namespace {

void clear_dirty_log(core::Machine& machine) {
  machine.dirty_log().clear();
  for (unsigned i = 0; i < machine.cpu_count(); ++i) machine.vcpu(i).dirty_log_cleared();
}

// Everything but the pages.
traces::Checkpoint checkpoint_head(core::Machine& machine) {
  traces::Checkpoint cp;
  cp.icount = machine.icount();
  cp.idle_ns = machine.clock().idle_ns();
  cp.cpu_state_version = core::kCpuStateVersion;
  for (unsigned i = 0; i < machine.cpu_count(); ++i) {
    core::StateWriter cpu_out;
    core::save_cpu_state(machine.cpu_state(i), cpu_out);
    (i == 0 ? cp.cpu_state : cp.more_cpu_states.emplace_back()) = cpu_out.take();
  }
  for (auto& [name, bytes] : machine.save_states()) cp.devices.push_back({name, std::move(bytes)});
  cp.digest = compute_digest(machine);
  return cp;
}

}  // namespace

void write_checkpoint(core::Machine& machine, traces::TraceWriter& writer) {
  traces::Checkpoint head = checkpoint_head(machine);
  // Dirty pages straight from guest RAM, in increasing order.
  const core::DirtyLog& log = machine.dirty_log();
  const uint8_t* ram = machine.ram();
  uint64_t next = 0;
  writer.write_checkpoint(head, [&](uint64_t& page_number, const uint8_t*& bytes) {
    while (next < log.page_count() && !log.is_dirty(next)) ++next;
    if (next >= log.page_count()) return false;
    page_number = next;
    bytes = ram + next * core::DirtyLog::kPageSize;
    ++next;
    return true;
  });
  clear_dirty_log(machine);
}

traces::Digest checkpoint_digest_and_clear(core::Machine& machine) {
  traces::Digest d = compute_digest(machine);
  clear_dirty_log(machine);
  return d;
}

traces::Digest restore_checkpoint(core::Machine& machine, traces::TraceReader& reader, size_t index) {
  core::DirtyLog& log = machine.dirty_log();
  clear_dirty_log(machine);
  for (size_t i = 0; i <= index; ++i) {
    // The target's own pages are the ones its digest covers: leave them
    // marked, as they were when it was taken.
    if (i == index) clear_dirty_log(machine);
    reader.for_each_checkpoint_page(i, [&](uint64_t page, const uint8_t* bytes) {
      if (page >= log.page_count())
        throw traces::TraceError("checkpoint at icount " + std::to_string(reader.checkpoints()[i].icount) + ": page " +
                                 std::to_string(page) + " lies outside the machine's RAM");
      uint8_t* host = machine.ram() + page * core::DirtyLog::kPageSize;
      std::memcpy(host, bytes, core::DirtyLog::kPageSize);
      log.mark(host, core::DirtyLog::kPageSize);
    });
  }
  traces::Checkpoint cp = reader.read_checkpoint(index, false);
  // Traces before layout 3 named every layout 1; the bytes carry their own.
  if (cp.cpu_state_version == 0 || cp.cpu_state_version > core::kCpuStateVersion)
    throw traces::TraceError("checkpoint at icount " + std::to_string(cp.icount) + ": CPU state version " +
                             std::to_string(cp.cpu_state_version) + " (this rewind reads versions 1 to " +
                             std::to_string(core::kCpuStateVersion) + ")");
  if (1 + cp.more_cpu_states.size() != machine.cpu_count())
    throw traces::TraceError("checkpoint at icount " + std::to_string(cp.icount) + " holds " +
                             std::to_string(1 + cp.more_cpu_states.size()) + " vCPU states for a machine of " +
                             std::to_string(machine.cpu_count()));
  std::vector<core::X86CpuState> cpus;
  for (unsigned i = 0; i < machine.cpu_count(); ++i) {
    const traces::Bytes& bytes = i == 0 ? cp.cpu_state : cp.more_cpu_states[i - 1];
    core::StateReader in(bytes.data(), bytes.size(), i == 0 ? "cpu" : "cpu " + std::to_string(i));
    cpus.push_back(core::load_cpu_state(in));
    in.expect_end();
  }
  std::vector<core::Machine::NamedState> states;
  for (const auto& d : cp.devices) states.emplace_back(d.name, d.state);
  machine.load_states(states);
  for (unsigned i = 0; i < machine.cpu_count(); ++i) {
    machine.vcpu(i).state() = cpus[i];
    machine.vcpu(i).state_changed();
  }
  machine.resync_icount();
  traces::Digest got = compute_digest_like(cp.digest, machine);
  clear_dirty_log(machine);
  if (got != cp.digest)
    throw traces::TraceError("checkpoint at icount " + std::to_string(cp.icount) +
                             " does not match its own digest (first difference: " +
                             first_difference(cp.digest, got) + "): the trace is damaged");
  return got;
}

}  // namespace rwd::replay
