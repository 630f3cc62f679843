#include "replay/replayer.h"

#include <cstdio>
#include <cstring>

#include "replay/checkpoints.h"
#include "replay/state_digest.h"

namespace rwd::replay {

namespace {

class NullSink final : public ByteSink {
 public:
  void write(const uint8_t*, size_t) override {}
};

std::string hex(const traces::Bytes& b) {
  std::string s;
  char buf[3];
  for (uint8_t c : b) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    s += buf;
  }
  return s;
}

// Answers to a request a device makes while executing an instruction; all
// other events are delivered between instructions.
bool is_synchronous(traces::EventKind kind) {
  return kind == traces::EventKind::kWallClock || kind == traces::EventKind::kRandom;
}

// The recording ended for a reason outside the guest: replay stops there itself.
bool ended_from_outside(traces::StopReason reason) {
  return reason == traces::StopReason::kUserQuit || reason == traces::StopReason::kError ||
         reason == traces::StopReason::kInstructionLimit;
}

std::string describe(const traces::Event& e) {
  return std::string(traces::event_kind_name(e.kind())) + " at icount " + std::to_string(e.icount) +
         (e.idle_ns ? " (idle " + std::to_string(e.idle_ns) + " ns)" : "");
}

}  // namespace

Replayer::Replayer(traces::TraceReader& reader, ByteSink& console_out) : reader_(reader), console_out_(console_out) {}

void Replayer::attach(core::Machine& machine, size_t index) {
  machine_ = &machine;
  next_checkpoint_ = index + 1;
  machine.set_stop_points([this] { return next_stop(); });
}

void Replayer::reposition(size_t index) {
  reader_.position_after_checkpoint(index);
  set_position({reader_.cursor(), std::nullopt, false, index + 1});
}

void Replayer::set_position(const Position& position) {
  reader_.set_cursor(position.cursor);
  next_checkpoint_ = position.next_checkpoint;
  peeked_ = position.peeked;
  exhausted_ = position.exhausted;
  // The devices' restored state says whether they know the time (the RTC
  // asks once): one that asks again is before the answer's point, which the
  // trace then still holds.
  wall_clock_.reset();
  pending_request_ = UserRequest::kNone;
  recorded_end_.reset();
  stopped_at_recorded_end_ = false;
  ran_out_ = false;
  reached_stop_ = false;
  divergence_.clear();
  damage_.clear();
}

const traces::Event* Replayer::peek() {
  if (!peeked_ && !exhausted_) {
    try {
      peeked_ = reader_.next();
    } catch (const traces::TraceError& e) {
      // A damaged file is not a divergence: the run stops and says what is wrong.
      damage_ = e.what();
      exhausted_ = true;
      if (machine_) machine_->run_control().request_user_quit();
      return nullptr;
    }
    if (!peeked_) {
      exhausted_ = true;
      if (!recorded_end_) ran_out_ = true;
    }
  }
  return peeked_ ? &*peeked_ : nullptr;
}

bool Replayer::behind(const traces::Event& e) const {
  uint64_t icount = machine_->icount();
  return e.icount < icount || (e.icount == icount && e.idle_ns < machine_->clock().idle_ns());
}

bool Replayer::at_event_point(const traces::Event& e) const {
  return e.icount == machine_->icount() && e.idle_ns == machine_->clock().idle_ns();
}

uint64_t Replayer::next_stop() {
  uint64_t stop = ~0ull;
  if (const traces::Event* e = peek(); e && machine_) {
    if (behind(*e)) {
      // The run went past a point without stopping there (it could not,
      // or the recording lies): nothing later can match.
      diverge("the run passed " + describe(*e) + " without reaching it");
      return machine_->icount();
    }
    // An answer due here is handed out during the next instruction, and an
    // end the guest causes may come in it (a triple fault does not retire):
    // run exactly that one, then look again.
    bool during_next = is_synchronous(e->kind()) || e->kind() == traces::EventKind::kRunEnd;
    stop = during_next && at_event_point(*e) ? e->icount + 1 : e->icount;
  }
  const auto& cps = reader_.checkpoints();
  bool checkpoint_ahead = next_checkpoint_ < cps.size();
  if (checkpoint_ahead) stop = std::min(stop, cps[next_checkpoint_].icount);
  if (stop_at_) stop = std::min(stop, *stop_at_);
  // A trace cut short: every event written before a checkpoint precedes it in
  // the file, so whole checkpoint frames after the last readable event still
  // describe the run. Replay goes on to the last of them (verifying each) and
  // ends there, or at the last event when no checkpoint follows it.
  if (ran_out_ && !checkpoint_ahead && machine_) machine_->run_control().request_user_quit();
  return stop;
}

void Replayer::diverge(const std::string& what) {
  if (!divergence_.empty()) return;
  uint64_t icount = machine_ ? machine_->icount() : 0;
  divergence_ = "diverged at icount " + std::to_string(icount) + ": " + what;
  if (machine_) machine_->run_control().request_shutdown(divergence_);
}

const traces::Event* Replayer::expect_sync(traces::EventKind kind) {
  const traces::Event* e = peek();
  if (e && e->kind() == kind && at_event_point(*e)) {
    // The next event may be due sooner than the running budget assumed.
    machine_->run_control().request_attention(core::attention::kReplan);
    return e;
  }
  diverge(std::string("expected ") + (e ? describe(*e) : "the end of the trace") + ", got a request for " +
          traces::event_kind_name(kind));
  return nullptr;
}

int64_t Replayer::start_wall_clock_ns() {
  if (!wall_clock_) {
    const traces::Event* e = expect_sync(traces::EventKind::kWallClock);
    wall_clock_ = e ? std::get<traces::WallClock>(e->data).ns_since_epoch : 0;
    if (e) consume();
  }
  return *wall_clock_;
}

uint64_t Replayer::random_u64() {
  const traces::Event* e = expect_sync(traces::EventKind::kRandom);
  if (!e) return 0;
  uint64_t v = std::get<traces::RandomValue>(e->data).value;
  consume();
  return v;
}

ByteSink& Replayer::attach_console(unsigned index, ByteReceiver* receiver) {
  static NullSink nowhere;
  if (index >= receivers_.size()) return nowhere;
  receivers_[index] = receiver;
  return index == 0 ? console_out_ : nowhere;
}

void Replayer::verify_checkpoint() {
  size_t index = next_checkpoint_++;
  traces::Checkpoint expected = reader_.read_checkpoint(index, false);
  traces::Digest got = compute_digest_like(expected.digest, *machine_);
  if (got != expected.digest) {
    std::string what = first_difference(expected.digest, got);
    if (what.rfind("pages", 0) == 0) {
      // The checkpoint holds the pages themselves: name the first that differs.
      bool found = false;
      reader_.for_each_checkpoint_page(index, [&](uint64_t page, const uint8_t* bytes) {
        if (found || page >= machine_->dirty_log().page_count()) return;
        if (std::memcmp(machine_->ram() + page * core::DirtyLog::kPageSize, bytes, core::DirtyLog::kPageSize) != 0) {
          char offset[32];
          std::snprintf(offset, sizeof offset, "0x%llx", (unsigned long long)(page * core::DirtyLog::kPageSize));
          what = "RAM page " + std::to_string(page) + " (offset " + offset + ")";
          found = true;
        }
      });
    }
    diverge("checkpoint digest: expected " + hex(expected.digest.registers) + "/" + hex(expected.digest.pages) +
            ", got " + hex(got.registers) + "/" + hex(got.pages) + "; first difference: " + what);
  }
  checkpoint_digest_and_clear(*machine_);
}

bool Replayer::poll(uint64_t icount, uint64_t max_wait_ns) {
  if (!machine_) return false;
  while (const traces::Event* e = peek()) {
    if (behind(*e)) {
      if (is_synchronous(e->kind()))
        diverge("expected a device to ask for " + describe(*e) + " during the instruction that ran there, but none did");
      else
        diverge("the run passed " + describe(*e) + " without reaching it");
      return false;
    }
    if (!at_event_point(*e)) break;
    // Answers wait for the device that asks for them (the next instruction);
    // the end stays in place for the caller to compare.
    if (is_synchronous(e->kind())) break;
    if (e->kind() == traces::EventKind::kRunEnd) {
      recorded_end_ = std::get<traces::RunEnd>(e->data);
      if (ended_from_outside(recorded_end_->reason)) {
        stopped_at_recorded_end_ = true;
        machine_->run_control().request_user_quit();
      }
      break;
    }
    switch (e->kind()) {
      case traces::EventKind::kConsoleInput: {
        const auto& in = std::get<traces::ConsoleInput>(e->data);
        ByteReceiver* r = in.console < receivers_.size() ? receivers_[in.console] : nullptr;
        if (!r || !r->can_receive()) {
          diverge("expected console " + std::to_string(in.console) + " to accept a byte, but it cannot");
          return false;
        }
        r->receive(in.byte);
        break;
      }
      case traces::EventKind::kUserRequest:
        pending_request_ = std::get<traces::UserRequest>(e->data).kind == traces::UserRequest::Kind::kQuit
                               ? UserRequest::kQuit
                               : UserRequest::kReset;
        break;
      case traces::EventKind::kStateDigest: {
        const auto& want = std::get<traces::StateDigest>(e->data).digest;
        traces::Digest got = compute_digest_like(want, *machine_);
        if (got != want) {
          diverge("state digest after the inputs at this point: expected " + hex(want.registers) + ", got " +
                  hex(got.registers) + "; first difference: " + first_difference(want, got));
          return false;
        }
        break;
      }
      default:
        break;
    }
    consume();
  }
  const auto& cps = reader_.checkpoints();
  if (divergence_.empty() && next_checkpoint_ < cps.size() && cps[next_checkpoint_].icount == icount) verify_checkpoint();
  if (max_wait_ns == core::Machine::kWaitForever && divergence_.empty()) {
    // The guest halted with no timer armed: only an event delivered at this
    // very point can wake it. One further ahead can never be reached, and an
    // answer due here can never be asked for (no instruction runs).
    const traces::Event* e = peek();
    if (e && (!at_event_point(*e) || is_synchronous(e->kind())))
      diverge("the guest halted with no timer armed, but the recording continues with " + describe(*e) +
              ": nothing can wake the guest to reach it");
  }
  if (stop_at_ && icount >= *stop_at_) {
    // The target point is after everything the recording did there (inputs,
    // checkpoint), so a seek restored from a checkpoint at this very icount
    // and a straight replay stop in the same state.
    reached_stop_ = true;
    machine_->run_control().request_user_quit();
  }
  return input_may_arrive();
}

UserRequest Replayer::take_user_request() {
  UserRequest r = pending_request_;
  pending_request_ = UserRequest::kNone;
  return r;
}

bool Replayer::input_may_arrive() const {
  // Nothing is delivered after the end.
  if (peeked_) return peeked_->kind() != traces::EventKind::kRunEnd;
  return !exhausted_;
}

}  // namespace rwd::replay
