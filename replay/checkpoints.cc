#include "replay/checkpoints.h"

#include <cstring>

#include "core/x86_cpu_state_io.h"
#include "replay/state_digest.h"

namespace rwd::replay {

namespace {

void clear_dirty_log(core::Machine& machine) {
  machine.dirty_log().clear();
  machine.vcpu().dirty_log_cleared();
}

}  // namespace

traces::Checkpoint take_checkpoint(core::Machine& machine) {
  core::X86CpuState& cpu = machine.vcpu().state();
  traces::Checkpoint cp;
  cp.icount = cpu.icount;
  cp.idle_ns = machine.clock().idle_ns();
  core::StateWriter cpu_out;
  core::save_cpu_state(cpu, cpu_out);
  cp.cpu_state_version = 1;
  cp.cpu_state = cpu_out.take();
  for (auto& [name, bytes] : machine.save_states()) cp.devices.push_back({name, std::move(bytes)});
  const uint8_t* ram = machine.ram();
  machine.dirty_log().for_each_dirty(
      [&](uint64_t page) { cp.add_page(page, ram + page * core::DirtyLog::kPageSize); });
  cp.digest = compute_digest(cpu, machine);
  clear_dirty_log(machine);
  return cp;
}

traces::Digest checkpoint_digest_and_clear(core::Machine& machine) {
  traces::Digest d = compute_digest(machine.vcpu().state(), machine);
  clear_dirty_log(machine);
  return d;
}

void apply_checkpoint_pages(core::Machine& machine, const traces::Checkpoint& cp) {
  for (size_t i = 0; i < cp.pages.size(); ++i) {
    uint64_t page = cp.pages[i].page_number;
    if (page >= machine.dirty_log().page_count())
      throw traces::TraceError("checkpoint at icount " + std::to_string(cp.icount) + ": page " + std::to_string(page) +
                               " lies outside the machine's RAM");
    std::memcpy(machine.ram() + page * core::DirtyLog::kPageSize, cp.page_bytes(i).data(), core::DirtyLog::kPageSize);
  }
}

void restore_checkpoint_state(core::Machine& machine, const traces::Checkpoint& cp) {
  core::StateReader in(cp.cpu_state.data(), cp.cpu_state.size(), "cpu");
  core::X86CpuState cpu = core::load_cpu_state(in);
  in.expect_end();
  std::vector<core::Machine::NamedState> states;
  for (const auto& d : cp.devices) states.emplace_back(d.name, d.state);
  machine.load_states(states);
  machine.vcpu().state() = cpu;
  machine.vcpu().state_changed();
  machine.dirty_log().clear();
  machine.vcpu().dirty_log_cleared();
}

}  // namespace rwd::replay
