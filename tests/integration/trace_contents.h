// A whole trace in memory, for tests that read a recording, change it and
// write it back (damage that keeps every checksum valid). Header-only.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "traces/trace_reader.h"
#include "traces/trace_writer.h"

namespace rwd::testing {

struct TraceContents {
  traces::Header header;
  std::vector<traces::Event> events;
  std::vector<traces::Checkpoint> checkpoints;
  bool truncated = false;
};

inline TraceContents load_trace(const std::string& path) {
  TraceContents t;
  std::unique_ptr<traces::TraceReader> reader = traces::TraceReader::open(path);
  t.header = reader->header();
  t.truncated = reader->truncated();
  while (std::optional<traces::Event> e = reader->next()) t.events.push_back(std::move(*e));
  for (size_t i = 0; i < reader->checkpoints().size(); ++i) t.checkpoints.push_back(reader->read_checkpoint(i));
  return t;
}

// Writes `t` as a new, complete trace: the initial checkpoint (icount 0)
// first, then events and checkpoints in icount order, a checkpoint after
// every event at or before its icount (the recorder logs a point's inputs
// and their digest before it takes a checkpoint there).
inline void write_trace(const std::string& path, const TraceContents& t) {
  std::unique_ptr<traces::TraceWriter> writer = traces::TraceWriter::create(path, t.header);
  size_t next_cp = 0;
  while (next_cp < t.checkpoints.size() && t.checkpoints[next_cp].icount == 0)
    writer->write_checkpoint(t.checkpoints[next_cp++]);
  for (const traces::Event& e : t.events) {
    while (next_cp < t.checkpoints.size() && t.checkpoints[next_cp].icount < e.icount)
      writer->write_checkpoint(t.checkpoints[next_cp++]);
    writer->append(e);
  }
  while (next_cp < t.checkpoints.size()) writer->write_checkpoint(t.checkpoints[next_cp++]);
  writer->finish();
}

}  // namespace rwd::testing
