// Helpers behind `rewind trace info` and `rewind trace dump`: a summary of a
// whole trace and one-line renderings of events, in text and JSON, so the CLI
// only chooses which to print.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "traces/trace_reader.h"
#include "traces/trace_types.h"

namespace rwd::traces {

struct TraceSummary {
  std::string path;
  Header header;
  uint64_t instructions = 0;  // highest icount in the readable part
  std::array<uint64_t, kEventKindCount> events_by_kind{};
  uint64_t events = 0;
  uint64_t checkpoints = 0;
  uint64_t frames = 0;            // event and checkpoint frames
  uint64_t raw_bytes = 0;         // frame payloads before compression
  uint64_t compressed_bytes = 0;  // frame payloads as stored
  uint64_t file_bytes = 0;
  bool truncated = false;
  uint64_t readable_end = 0;      // byte offset where the readable part ends
  std::optional<RunEnd> run_end;  // the last run_end event, if any
};

// Reads every event frame (checkpoint frames by their headers only), then
// restarts the reader. Throws TraceError on damage, like the reader.
TraceSummary summarize(TraceReader& reader, const std::string& path);

// Multi-line, human-readable; no trailing newline.
std::string to_text(const TraceSummary& summary);
// One JSON object on one line.
std::string to_json(const TraceSummary& summary);
std::string to_json(const Header& header);

// One line, e.g. `icount=1234 console_input console=0 byte=0x61 'a'`.
std::string to_text(const Event& event);
// One JSON object on one line, e.g.
// {"icount":1234,"kind":"console_input","console":0,"byte":97}.
std::string to_json(const Event& event);

// A JSON string literal for arbitrary bytes (invalid UTF-8 and controls
// escaped as \u00XX), quotes included.
std::string json_string(const std::string& s);
// Arbitrary bytes made safe to print on a terminal: valid UTF-8 as is,
// controls, stray bytes and NUL as \xNN, a backslash doubled.
std::string printable(const std::string& s);

}  // namespace rwd::traces
