#include "replay/checkpoints.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

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
  traces::Checkpoint cp = capture_state(machine);
  cp.digest = compute_digest(machine);
  core::ExecutionFootprint footprint;
  cp.footprint_known = true;
  for (unsigned i = 0; i < machine.cpu_count(); ++i)
    cp.footprint_known = machine.vcpu(i).add_footprint(footprint) && cp.footprint_known;
  if (cp.footprint_known) {
    for (const auto& [page, lines] : footprint.sorted_code_lines()) cp.code_lines.push_back({page, lines});
    cp.written_pages = footprint.sorted_written_pages();
  }
  return cp;
}

// A page number a checkpoint may hold.
void check_page(core::Machine& machine, traces::TraceReader& reader, size_t checkpoint, uint64_t page) {
  if (page >= machine.dirty_log().page_count())
    throw traces::TraceError("checkpoint at icount " + std::to_string(reader.checkpoints()[checkpoint].icount) +
                             ": page " + std::to_string(page) + " lies outside the machine's RAM");
}

}  // namespace

traces::Checkpoint capture_state(core::Machine& machine) {
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
  return cp;
}

void load_state(core::Machine& machine, const traces::Checkpoint& cp) {
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
}

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

namespace {

// The CPU, machine and device state of checkpoint `index`, once RAM holds its
// pages and the dirty log exactly its own; checks its digest, then clears the log.
traces::Digest load_checkpoint_state(core::Machine& machine, traces::TraceReader& reader, size_t index) {
  traces::Checkpoint cp = reader.read_checkpoint(index, false);
  load_state(machine, cp);
  traces::Digest got = compute_digest_like(cp.digest, machine);
  clear_dirty_log(machine);
  if (got != cp.digest)
    throw traces::TraceError("checkpoint at icount " + std::to_string(cp.icount) +
                             " does not match its own digest (first difference: " +
                             first_difference(cp.digest, got) + "): the trace is damaged");
  return got;
}

}  // namespace

traces::Digest restore_checkpoint(core::Machine& machine, traces::TraceReader& reader, size_t index) {
  core::DirtyLog& log = machine.dirty_log();
  clear_dirty_log(machine);
  for (size_t i = 0; i <= index; ++i) {
    // The target's own pages are the ones its digest covers: leave them
    // marked, as they were when it was taken.
    if (i == index) clear_dirty_log(machine);
    reader.for_each_checkpoint_page(i, [&](uint64_t page, const uint8_t* bytes) {
      check_page(machine, reader, i, page);
      uint8_t* host = machine.ram() + page * core::DirtyLog::kPageSize;
      std::memcpy(host, bytes, core::DirtyLog::kPageSize);
      log.mark(host, core::DirtyLog::kPageSize);
    });
  }
  return load_checkpoint_state(machine, reader, index);
}

SeekIndex::SeekIndex(traces::TraceReader& reader) {
  const size_t count = reader.checkpoints().size();
  pages_.resize(count);
  footprints_.resize(count);
  for (size_t i = 0; i < count; ++i) {
    traces::Checkpoint head;
    reader.for_each_checkpoint_page(
        i,
        [&](uint64_t page, const uint8_t*) {
          pages_[i].push_back(page);
          holders_[page].push_back(uint32_t(i));
        },
        &head);
    std::sort(pages_[i].begin(), pages_[i].end());
    Footprint& f = footprints_[i];
    f.known = head.footprint_known;
    f.code_lines = std::move(head.code_lines);
    f.written_pages = std::move(head.written_pages);
    // The recorder writes them sorted; a reader that searches them makes sure.
    auto by_page = [](const auto& a, const auto& b) { return a.page < b.page; };
    if (!std::is_sorted(f.code_lines.begin(), f.code_lines.end(), by_page))
      std::sort(f.code_lines.begin(), f.code_lines.end(), by_page);
    if (!std::is_sorted(f.written_pages.begin(), f.written_pages.end()))
      std::sort(f.written_pages.begin(), f.written_pages.end());
  }
}

bool SeekIndex::may_have_run(size_t checkpoint, uint64_t linear) const {
  const Footprint& f = footprints_.at(checkpoint);
  if (!f.known) return true;
  const uint64_t page = linear >> core::ExecutionFootprint::kPageShift;
  const unsigned line = unsigned(linear >> core::ExecutionFootprint::kLineShift) & 63;
  auto it = std::lower_bound(f.code_lines.begin(), f.code_lines.end(), page,
                             [](const traces::Checkpoint::CodeLines& c, uint64_t p) { return c.page < p; });
  for (; it != f.code_lines.end() && it->page == page; ++it)
    if ((it->lines >> line) & 1) return true;
  return false;
}

bool SeekIndex::may_have_written(size_t checkpoint, uint64_t linear, uint64_t length) const {
  const Footprint& f = footprints_.at(checkpoint);
  if (!f.known) return true;
  const uint64_t first = linear >> core::ExecutionFootprint::kPageShift;
  const uint64_t last = (linear + (length ? length - 1 : 0)) >> core::ExecutionFootprint::kPageShift;
  if (last < first) return true;  // wraps around the address space: not worth the care
  auto it = std::lower_bound(f.written_pages.begin(), f.written_pages.end(), first);
  return it != f.written_pages.end() && *it <= last;
}

std::optional<size_t> SeekIndex::holder(uint64_t page, size_t at) const {
  auto it = holders_.find(page);
  if (it == holders_.end()) return std::nullopt;
  const std::vector<uint32_t>& list = it->second;  // ascending
  auto after = std::upper_bound(list.begin(), list.end(), uint32_t(at));
  if (after == list.begin()) return std::nullopt;
  return size_t(*(after - 1));
}

traces::Digest seek_to_checkpoint(core::Machine& machine, traces::TraceReader& reader, const SeekIndex& index,
                                  size_t from, size_t to) {
  core::DirtyLog& log = machine.dirty_log();
  // The pages that may differ from checkpoint `to`: those written since the
  // machine's last checkpoint, and those of every checkpoint between the two.
  std::set<uint64_t> changed;
  log.for_each_dirty([&](uint64_t page) { changed.insert(page); });
  for (size_t i = std::min(from, to) + 1; i <= std::max(from, to); ++i)
    changed.insert(index.pages_of(i).begin(), index.pages_of(i).end());
  // Each from the latest checkpoint at or before `to` that holds it; one
  // that none holds was never written by then: zero, as RAM starts.
  std::map<size_t, std::set<uint64_t>> by_source;
  for (uint64_t page : changed) {
    if (page >= log.page_count())
      throw traces::TraceError("page " + std::to_string(page) + " lies outside the machine's RAM");
    if (std::optional<size_t> source = index.holder(page, to)) by_source[*source].insert(page);
    else std::memset(machine.ram() + page * core::DirtyLog::kPageSize, 0, core::DirtyLog::kPageSize);
  }
  for (const auto& [source, pages] : by_source) {
    reader.for_each_checkpoint_page(source, [&](uint64_t page, const uint8_t* bytes) {
      if (pages.count(page))
        std::memcpy(machine.ram() + page * core::DirtyLog::kPageSize, bytes, core::DirtyLog::kPageSize);
    });
  }
  // Code the vCPUs translated and pages they map may be gone.
  for (unsigned i = 0; i < machine.cpu_count(); ++i) machine.vcpu(i).memory_map_changed();
  // The dirty log as a replay reaching `to` has it: that checkpoint's pages.
  clear_dirty_log(machine);
  for (uint64_t page : index.pages_of(to))
    log.mark(machine.ram() + page * core::DirtyLog::kPageSize, core::DirtyLog::kPageSize);
  return load_checkpoint_state(machine, reader, to);
}

}  // namespace rwd::replay
