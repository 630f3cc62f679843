// Record mode of the door: every input passes through from the host Inputs
// unchanged and is logged, stamped with the point of the run where it took
// effect; checkpoints are taken every `checkpoint_interval` instructions.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/machine.h"
#include "replay/inputs.h"
#include "traces/trace_writer.h"

namespace rwd::replay {

class Recorder final : public Inputs {
 public:
  // `host` supplies the inputs; the trace is created by attach().
  Recorder(Inputs& host, uint64_t checkpoint_interval);
  ~Recorder() override;
  // Host seconds (from replay/host, which alone reads the host clock): with
  // it, logged events are also flushed at least every kFlushPeriodSeconds.
  static constexpr double kFlushPeriodSeconds = 0.25;
  void set_host_clock(std::function<double()> host_seconds) { host_seconds_ = std::move(host_seconds); }

  // Once the machine is built and its vCPU attached (icount 0): creates the
  // trace with `header` (its initial digest is filled in here), writes the
  // initial checkpoint and hooks the machine's stop points. Throws
  // traces::TraceError when the file cannot be created.
  void attach(core::Machine& machine, const std::string& path, traces::Header header);
  // Logs how the run ended with the final digest and completes the file.
  void finish(const core::RunOutcome& outcome);
  // The run failed inside rewind (an exception escaped the main loop): logs
  // an `error` end with `exit_status` at the point (icount, idle ns) the run
  // had reached, with no digest (the state may be half way through an
  // instruction), and completes the file, best effort: it never throws, and
  // a trace it cannot finish stays readable up to its last whole frame. It
  // does not touch the machine, so the caller may free that first (after
  // running out of memory, finishing needs some).
  void finish_after_error(int exit_status, uint64_t icount, uint64_t idle_ns) noexcept;

  int64_t start_wall_clock_ns() override;
  uint64_t random_u64() override;
  ByteSink& attach_console(unsigned index, ByteReceiver* receiver) override;
  bool poll(uint64_t icount, uint64_t max_wait_ns) override;
  UserRequest take_user_request() override;
  bool input_may_arrive() const override { return host_.input_may_arrive(); }

  const traces::TraceWriter* writer() const { return writer_.get(); }

 private:
  // Sits between the host and a device's receiver, logging what it accepts.
  class Tap final : public ByteReceiver {
   public:
    Recorder* recorder = nullptr;
    ByteReceiver* device = nullptr;
    unsigned console = 0;
    bool can_receive() const override { return device && device->can_receive(); }
    void receive(uint8_t byte) override;
  };

  void log(traces::EventData data);
  void log_digest();
  void flush();

  Inputs& host_;
  uint64_t checkpoint_interval_;
  uint64_t next_checkpoint_ = 0;
  core::Machine* machine_ = nullptr;
  std::unique_ptr<traces::TraceWriter> writer_;
  // Events logged since the last flush, and when (host seconds) it was:
  // typed input reaches the file within kFlushPeriodSeconds of host time, and
  // before the host waits for an idle guest, so a crash or a kill loses none
  // of it.
  bool unflushed_ = false;
  std::function<double()> host_seconds_;
  double last_flush_ = 0;
  std::array<Tap, 4> taps_;
  bool logged_since_digest_ = false;
  std::optional<int64_t> wall_clock_;
};

}  // namespace rwd::replay
