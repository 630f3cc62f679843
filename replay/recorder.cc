#include "replay/recorder.h"

#include "replay/checkpoints.h"
#include "replay/state_digest.h"

namespace rwd::replay {

Recorder::Recorder(Inputs& host, uint64_t checkpoint_interval)
    : host_(host), checkpoint_interval_(checkpoint_interval) {}

Recorder::~Recorder() = default;

void Recorder::attach(core::Machine& machine, const std::string& path, traces::Header header) {
  machine_ = &machine;
  header.checkpoint_interval = checkpoint_interval_;
  header.digest_algorithm = kDigestAlgorithm;
  header.initial_digest = compute_digest(machine);
  writer_ = traces::TraceWriter::create(path, header);
  // The initial checkpoint holds the loaded images (every page written so far),
  // so seeking never needs the image files.
  write_checkpoint(machine, *writer_);
  next_checkpoint_ = checkpoint_interval_ ? machine.icount() + checkpoint_interval_ : ~0ull;
  machine.set_stop_points([this] { return next_checkpoint_; });
}

void Recorder::log(traces::EventData data) {
  if (!writer_) return;
  traces::Event e;
  e.icount = machine_->icount();
  e.idle_ns = machine_->clock().idle_ns();
  e.data = std::move(data);
  writer_->append(e);
  logged_since_digest_ = true;
  unflushed_ = true;
}

void Recorder::log_digest() {
  logged_since_digest_ = false;
  log(traces::StateDigest{compute_digest(*machine_, DigestScope::kWithoutPages)});
  logged_since_digest_ = false;
}

int64_t Recorder::start_wall_clock_ns() {
  if (!wall_clock_) {
    wall_clock_ = host_.start_wall_clock_ns();
    log(traces::WallClock{*wall_clock_});
  }
  return *wall_clock_;
}

uint64_t Recorder::random_u64() {
  uint64_t v = host_.random_u64();
  log(traces::RandomValue{v});
  return v;
}

ByteSink& Recorder::attach_console(unsigned index, ByteReceiver* receiver) {
  if (index >= taps_.size()) return host_.attach_console(index, receiver);
  Tap& tap = taps_[index];
  tap.recorder = this;
  tap.device = receiver;
  tap.console = index;
  return host_.attach_console(index, &tap);
}

void Recorder::Tap::receive(uint8_t byte) {
  recorder->log(traces::ConsoleInput{console, byte});
  device->receive(byte);
}

bool Recorder::poll(uint64_t icount, uint64_t max_wait_ns) {
  // Host time decides only when bytes reach the disk, never what they are.
  // Before the host waits for the idle guest's next event, what was logged
  // goes to disk: the wait may be long and end in a crash or a kill.
  if (writer_ && unflushed_ && max_wait_ns != 0) flush();
  bool alive = host_.poll(icount, max_wait_ns);
  // A digest after each batch of input lets replay name the point where it
  // first went wrong, not just the next checkpoint.
  if (logged_since_digest_) log_digest();
  if (machine_ && icount >= next_checkpoint_) {
    write_checkpoint(*machine_, *writer_);
    flush();
    next_checkpoint_ = icount + checkpoint_interval_;
  }
  if (writer_ && unflushed_ && host_seconds_ && host_seconds_() - last_flush_ >= kFlushPeriodSeconds) flush();
  return alive;
}

void Recorder::flush() {
  writer_->flush();
  unflushed_ = false;
  if (host_seconds_) last_flush_ = host_seconds_();
}

UserRequest Recorder::take_user_request() {
  UserRequest r = host_.take_user_request();
  if (r != UserRequest::kNone)
    log(traces::UserRequest{r == UserRequest::kQuit ? traces::UserRequest::Kind::kQuit : traces::UserRequest::Kind::kReset});
  return r;
}

void Recorder::finish(const core::RunOutcome& outcome) {
  if (!writer_) return;
  traces::RunEnd end;
  switch (outcome.reason) {
    case core::StopReason::kGuestExit: end.reason = traces::StopReason::kGuestExit; break;
    case core::StopReason::kUserQuit: end.reason = traces::StopReason::kUserQuit; break;
    case core::StopReason::kReset: end.reason = traces::StopReason::kReset; break;
    case core::StopReason::kShutdown:
      // A halt nothing can end (the CPU is halted) or a shutdown (triple fault, exception storm).
      end.reason = machine_->vcpu().state().halted ? traces::StopReason::kHalted : traces::StopReason::kTripleFault;
      break;
    case core::StopReason::kNone:
    case core::StopReason::kDebugTrap:  // no debugger drives a recording
      end.reason = traces::StopReason::kError;
      break;
  }
  end.exit_status = outcome.exit_status;
  end.final_digest = compute_digest(*machine_);
  log(end);
  writer_->finish();
}

}  // namespace rwd::replay

namespace rwd::replay {

void Recorder::finish_after_error(int exit_status, uint64_t icount, uint64_t idle_ns) noexcept {
  if (!writer_) return;
  machine_ = nullptr;
  try {
    traces::Event e;
    e.icount = icount;
    e.idle_ns = idle_ns;
    e.data = traces::RunEnd{traces::StopReason::kError, exit_status, {}};
    writer_->append(e);
    writer_->finish();
  } catch (...) {
  }
}

}  // namespace rwd::replay
