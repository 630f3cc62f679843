// What the guest did between two checkpoints, in linear addresses: which
// 64-byte lines of code ran and which pages were written. The recorder keeps
// one with each checkpoint (traces: Checkpoint.footprint); a debugger going
// backwards through a recording replays only the intervals whose footprint
// reaches one of its breakpoints or write watchpoints. So a footprint may say
// more than happened (that costs a replayed interval), never less.
// Linear addresses, as the debugger's traps (core::DebugTraps) see them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace rwd::core {

struct ExecutionFootprint {
  static constexpr unsigned kPageShift = 12;
  static constexpr unsigned kLineShift = 6;  // 64 lines of 64 bytes a page: one word

  std::unordered_map<uint64_t, uint64_t> code_lines;  // linear page -> lines that ran
  std::unordered_set<uint64_t> written_pages;         // linear pages written

  // Code ran (or may have run) in [linear, linear + length).
  void add_code(uint64_t linear, uint64_t length) {
    if (length == 0) return;
    const uint64_t last = linear + length - 1;
    for (uint64_t line = linear >> kLineShift; line <= last >> kLineShift; ++line)
      code_lines[line >> (kPageShift - kLineShift)] |= 1ull << (line & 63);
  }
  void add_write(uint64_t linear) { written_pages.insert(linear >> kPageShift); }
  void merge(const ExecutionFootprint& other) {
    for (const auto& [page, lines] : other.code_lines) code_lines[page] |= lines;
    written_pages.insert(other.written_pages.begin(), other.written_pages.end());
  }
  void clear() {
    code_lines.clear();
    written_pages.clear();
  }

  // The lines as (page, mask) and the written pages, each ascending: the
  // order a trace stores them in.
  std::vector<std::pair<uint64_t, uint64_t>> sorted_code_lines() const {
    std::vector<std::pair<uint64_t, uint64_t>> out(code_lines.begin(), code_lines.end());
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<uint64_t> sorted_written_pages() const {
    std::vector<uint64_t> out(written_pages.begin(), written_pages.end());
    std::sort(out.begin(), out.end());
    return out;
  }
};

}  // namespace rwd::core
