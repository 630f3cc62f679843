#include "replay/session_checkpoints.h"

#include <cstring>

namespace rwd::replay {

size_t SessionCheckpoints::Entry::bytes() const {
  size_t n = sizeof(Entry) + pages.size() + page_numbers.size() * sizeof(uint64_t) + state.cpu_state.size();
  for (const auto& more : state.more_cpu_states) n += more.size();
  for (const auto& d : state.devices) n += d.name.size() + d.state.size();
  return n;
}

std::list<SessionCheckpoints::Entry>::iterator SessionCheckpoints::find(uint64_t icount) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it)
    if (it->icount == icount) return it;
  return entries_.end();
}

void SessionCheckpoints::take(core::Machine& machine, const Replayer& replayer) {
  if (budget_ == 0 || find(machine.icount()) != entries_.end()) return;
  Entry e;
  e.icount = machine.icount();
  e.state = capture_state(machine);
  e.position = replayer.position();
  // The dirty log holds exactly the pages written since the last checkpoint
  // the replay passed (its verification cleared the log).
  const core::DirtyLog& log = machine.dirty_log();
  log.for_each_dirty([&](uint64_t page) { e.page_numbers.push_back(page); });
  e.pages.resize(e.page_numbers.size() * core::DirtyLog::kPageSize);
  for (size_t i = 0; i < e.page_numbers.size(); ++i)
    std::memcpy(e.pages.data() + i * core::DirtyLog::kPageSize,
                machine.ram() + e.page_numbers[i] * core::DirtyLog::kPageSize, core::DirtyLog::kPageSize);
  const size_t size = e.bytes();
  if (size > budget_) return;
  while (bytes_ + size > budget_) {
    bytes_ -= entries_.back().bytes();
    entries_.pop_back();
  }
  bytes_ += size;
  entries_.push_front(std::move(e));
}

std::optional<uint64_t> SessionCheckpoints::latest_at_or_before(uint64_t icount) const {
  std::optional<uint64_t> best;
  for (const Entry& e : entries_)
    if (e.icount <= icount && (!best || e.icount > *best)) best = e.icount;
  return best;
}

void SessionCheckpoints::restore(uint64_t icount, core::Machine& machine, traces::TraceReader& reader,
                                 const SeekIndex& index, Replayer& replayer) {
  auto it = find(icount);
  if (it == entries_.end()) throw traces::TraceError("no session checkpoint at icount " + std::to_string(icount));
  entries_.splice(entries_.begin(), entries_, it);  // most recently used
  const Entry& e = *it;
  // RAM as at the base checkpoint (the dirty log then clear), then the pages
  // written since, marked again as the straight replay has them.
  seek_to_checkpoint(machine, reader, index, replayer.last_checkpoint(), e.position.next_checkpoint - 1);
  core::DirtyLog& log = machine.dirty_log();
  for (size_t i = 0; i < e.page_numbers.size(); ++i) {
    uint8_t* host = machine.ram() + e.page_numbers[i] * core::DirtyLog::kPageSize;
    std::memcpy(host, e.pages.data() + i * core::DirtyLog::kPageSize, core::DirtyLog::kPageSize);
    log.mark(host, core::DirtyLog::kPageSize);
  }
  load_state(machine, e.state);
  replayer.set_position(e.position);
}

}  // namespace rwd::replay
