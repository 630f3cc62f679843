// The GDB remote serial protocol over a connection: the packets gdb sends a
// stub for a system-mode target, answered from a DebugTarget. A replay is
// read-only, so writes to registers and memory are refused with a message.
//
// The target description is x86-64 when vCPU 0 is in long mode as gdb
// connects, i386 otherwise (tools/gdbstub/x86_target.h).
// Threads: each vCPU is a thread, ids 1..N. Supported: qSupported,
// QStartNoAckMode, qXfer:features:read (target.xml), ?, g, p, m, H, T,
// qfThreadInfo/qsThreadInfo, qC, qAttached, Z0/z0 and Z1/z1 (both are
// breakpoints the vCPUs check themselves), Z2-Z4/z2-z4 (write, read and
// access watchpoints), s, c, vCont (c, s), bs and bc
// (reverse step and continue), Ctrl-C, k, D, and monitor commands (qRcmd).
// Anything else gets the empty reply ("not supported"), as the protocol
// asks.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <set>
#include <vector>
#include <string>

#include "tools/gdbstub/debug_target.h"
#include "tools/gdbstub/rsp.h"
#include "tools/gdbstub/x86_target.h"

namespace rwd::tools::gdb {

// The transport: bytes to gdb, bytes from it (blocking until some arrive,
// or `timeout_ms` passes: "" then; nullopt when the peer is gone).
class Transport {
 public:
  virtual ~Transport() = default;
  virtual bool send(std::string_view bytes) = 0;
  virtual std::optional<std::string> receive(int timeout_ms) = 0;
};

class Server {
 public:
  // `quit` (optional) is asked while waiting for gdb: the user quitting rewind.
  // The description (x86-64 or i386) follows vCPU 0's mode now.
  Server(Transport& transport, DebugTarget& target, std::function<bool()> quit = {})
      : transport_(transport), target_(target), quit_(std::move(quit)), arch_(gdb_arch_for(target.cpu(0))) {}

  // Serves until gdb detaches, kills or goes away. Returns how it ended.
  enum class End { kDetached, kKilled, kDisconnected, kQuit };
  End serve();

 private:
  // One packet's reply; sets end_ for k and D.
  std::string handle(const std::string& packet);
  std::string stop_reply(const DebugTarget::Stop& stop);
  // The target stopped: it is what ? reports, its vCPU the current thread.
  std::string stopped(const DebugTarget::Stop& stop);
  std::string resume(std::optional<unsigned> step_cpu);
  // Whether gdb sent Ctrl-C (or went away), for a target that runs.
  std::function<bool()> stop_asked();
  std::string read_registers(unsigned cpu);
  std::string read_memory(const std::string& args);
  std::string breakpoint(bool insert, const std::string& args);
  std::string vcont(const std::string& actions);
  std::string query(const std::string& packet);
  bool send_packet(const std::string& payload);
  unsigned thread_cpu(int64_t thread) const;  // gdb's id (0 or -1: any) to a vCPU

  Transport& transport_;
  DebugTarget& target_;
  std::function<bool()> quit_;
  GdbArch arch_;
  PacketReader reader_;
  bool ack_mode_ = true;
  bool interrupted_ = false;
  unsigned general_cpu_ = 0;  // Hg
  std::optional<unsigned> continue_cpu_;  // Hc, when it names one
  std::set<uint64_t> breakpoints_;
  std::vector<DebugTarget::Watch> watches_;
  std::optional<End> end_;
  DebugTarget::Stop last_stop_{DebugTarget::StopKind::kInterrupted, 0};
};

}  // namespace rwd::tools::gdb
