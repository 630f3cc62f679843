// Replay mode of the door: inputs come from a trace, never from the host.
// Each logged event is delivered at exactly the point of the run where it was
// recorded; state digests and checkpoints are compared as the run passes
// them, and the first mismatch stops the run with "diverged at icount N:
// expected X, got Y".
#pragma once

#include <array>
#include <optional>
#include <string>

#include "core/machine.h"
#include "replay/inputs.h"
#include "traces/trace_reader.h"

namespace rwd::replay {

class Replayer final : public Inputs {
 public:
  // `console_out` receives the guest's console output (the user's terminal).
  Replayer(traces::TraceReader& reader, ByteSink& console_out);

  // The machine was restored from checkpoint `index` (replay/checkpoints.h;
  // index 0 for a replay from the start) and the reader positioned after it:
  // hooks the machine's stop points, and replay continues from there.
  void attach(core::Machine& machine, size_t index);
  // After an in-place seek to checkpoint `index` (seek_to_checkpoint): the
  // reader goes back after it and replay goes on from there, its verdicts
  // (divergence, end reached, stop reached) forgotten.
  void reposition(size_t index);
  // Where the replay is in the recording, to come back to with the machine
  // in the state it had here (replay/session_checkpoints).
  struct Position {
    traces::TraceReader::Cursor cursor;
    std::optional<traces::Event> peeked;
    bool exhausted = false;
    size_t next_checkpoint = 0;
  };
  Position position() const { return {reader_.cursor(), peeked_, exhausted_, next_checkpoint_}; }
  // Like reposition, to a saved position.
  void set_position(const Position& position);
  // The last checkpoint the replay restored or passed.
  size_t last_checkpoint() const { return next_checkpoint_ - 1; }
  // End the run when it reaches exactly this icount (replay --to).
  void stop_at(uint64_t icount) {
    stop_at_ = icount;
    reached_stop_ = false;
  }
  void clear_stop_at() {
    stop_at_.reset();
    reached_stop_ = false;
  }
  bool reached_stop() const { return reached_stop_; }

  int64_t start_wall_clock_ns() override;
  uint64_t random_u64() override;
  ByteSink& attach_console(unsigned index, ByteReceiver* receiver) override;
  bool poll(uint64_t icount, uint64_t max_wait_ns) override;
  UserRequest take_user_request() override;
  bool input_may_arrive() const override;

  // The first divergence, empty while replay agrees with the recording.
  const std::string& divergence() const { return divergence_; }
  // Why the trace could not be read further (damage), empty when it could.
  const std::string& damage() const { return damage_; }
  // The recording's end, once replay has reached its point.
  const std::optional<traces::RunEnd>& recorded_end() const { return recorded_end_; }
  // True when the replay stopped itself at the recording's end because the
  // recording ended for a reason outside the guest (the user quit, an
  // internal error): the replay's status is then the recorded one.
  bool stopped_at_recorded_end() const { return stopped_at_recorded_end_; }
  // True when the trace was cut short and replay ran out of it: the run then
  // ends at the later of the last readable event and the last readable
  // checkpoint (which it verifies on the way).
  bool ran_out_of_trace() const { return ran_out_; }
  // After the run: the next undelivered event (a complete recording's RunEnd,
  // never consumed).
  const traces::Event* next_event() { return peek(); }

 private:
  const traces::Event* peek();
  void consume() { peeked_.reset(); }
  bool at_event_point(const traces::Event& e) const;
  // The run is past the event's point (icount, idle ns).
  bool behind(const traces::Event& e) const;
  // The next event must be a synchronous one of this kind, right here.
  const traces::Event* expect_sync(traces::EventKind kind);
  void diverge(const std::string& what);
  void verify_checkpoint();
  uint64_t next_stop() ;

  traces::TraceReader& reader_;
  ByteSink& console_out_;
  core::Machine* machine_ = nullptr;
  std::array<ByteReceiver*, 4> receivers_{};
  std::optional<traces::Event> peeked_;
  bool exhausted_ = false;
  size_t next_checkpoint_ = 0;  // index into reader_.checkpoints()
  std::optional<int64_t> wall_clock_;
  UserRequest pending_request_ = UserRequest::kNone;
  std::optional<traces::RunEnd> recorded_end_;
  bool stopped_at_recorded_end_ = false;
  std::string divergence_;
  std::string damage_;
  bool ran_out_ = false;
  std::optional<uint64_t> stop_at_;
  bool reached_stop_ = false;
};

}  // namespace rwd::replay
