// The door: the only way devices and accelerators receive data from outside the
// guest. A device gets an Inputs& at construction and asks it for host time,
// random numbers, and attaches itself as the receiver of a console's input.
// Implementations: pass-through to the host (replay/host/), and later record
// (pass-through plus logging) and replay (from a trace, the host never touched).
#pragma once

// NOTE: the project namespace is `rwd` (rwd::core, rwd::hw, rwd::tcg, rwd::replay),
// not `rewind`: <cstdio> declares the C function ::rewind(FILE*), which a
// namespace of that name would collide with.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/entropy.h"

namespace rwd::replay {

// The receiving end of an asynchronous byte stream (a UART's RX side).
// Bytes are delivered only between instructions, by Inputs::poll(), and only
// while can_receive() is true, so a slow guest never loses input.
class ByteReceiver {
 public:
  virtual ~ByteReceiver() = default;
  virtual bool can_receive() const = 0;
  virtual void receive(uint8_t byte) = 0;
};

// Where a console's output goes (terminal, file, nowhere). Output is not an
// input, but it is host I/O, so it is reached through the same layer.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(const uint8_t* data, size_t len) = 0;
};

enum class UserRequest : uint8_t { kNone, kQuit, kReset };

class Inputs : public core::EntropySource {
 public:
  virtual ~Inputs() = default;

  // Wall-clock time, in ns since the Unix epoch, at the moment the run started.
  // Devices add virtual time to it (an RTC never reads the host clock again).
  virtual int64_t start_wall_clock_ns() = 0;
  // Entropy for devices that need it (virtio-rng, RDRAND).
  uint64_t random_u64() override = 0;

  // Console `index` (0 = COM1): its input goes to `receiver`; its output to the
  // returned sink, which lives as long as the Inputs.
  virtual ByteSink& attach_console(unsigned index, ByteReceiver* receiver) = 0;

  // Deliver pending asynchronous input (console bytes, user requests) now,
  // waiting up to max_wait_ns of host time for some when there is none (the
  // guest is idle). Called by the main loop between instructions; `icount`
  // stamps the delivery. Returns input_may_arrive().
  virtual bool poll(uint64_t icount, uint64_t max_wait_ns) = 0;
  // A pending request from the user (Ctrl-C, a monitor command), consumed.
  virtual UserRequest take_user_request() = 0;
  // True while some input may still arrive (an open terminal or pipe), so the
  // main loop knows whether an idle guest can ever make progress.
  virtual bool input_may_arrive() const = 0;
};

}  // namespace rwd::replay
