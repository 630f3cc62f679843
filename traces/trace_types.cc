#include "traces/trace_types.h"

namespace rwd::traces {

const char* event_kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::kConsoleInput: return "console_input";
    case EventKind::kWallClock: return "wall_clock";
    case EventKind::kRandom: return "random";
    case EventKind::kUserRequest: return "user_request";
    case EventKind::kStateDigest: return "state_digest";
    case EventKind::kRunEnd: return "run_end";
  }
  return "unknown";
}

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::kGuestExit: return "guest_exit";
    case StopReason::kUserQuit: return "user_quit";
    case StopReason::kReset: return "reset";
    case StopReason::kHalted: return "halted";
    case StopReason::kTripleFault: return "triple_fault";
    case StopReason::kInstructionLimit: return "instruction_limit";
    case StopReason::kError: return "error";
  }
  return "unknown";
}

}  // namespace rwd::traces
