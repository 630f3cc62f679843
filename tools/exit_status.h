// rewind's own exit statuses. The guest's isa-debug-exit statuses are always
// odd ((value << 1) | 1), so rewind's are even and can never be confused with them.
#pragma once

namespace rwd::tools {

inline constexpr int kExitOk = 0;            // the run ended normally (user quit, reset with -no-reboot)
inline constexpr int kExitBadInput = 2;      // bad flag, missing or unusable file
inline constexpr int kExitGuestCrashed = 4;  // triple fault, or a guest halted forever
inline constexpr int kExitInternalError = 6; // a bug in rewind: please report
inline constexpr int kExitDiverged = 8;      // a replay did not match its recording

}  // namespace rwd::tools
