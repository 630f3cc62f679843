#include "tools/gdbstub/server.h"

#include <cstdio>
#include <vector>

#include "tools/gdbstub/x86_target.h"

namespace rwd::tools::gdb {

namespace {

constexpr size_t kPacketSize = 0x4000;
constexpr const char* kReadOnly = "E.rewind replays a recording: writing to the guest would change it";

std::string hex_u64(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// A thread id as gdb writes it: hex, or -1 for all (0, or garbage: any).
int64_t parse_thread_id(const std::string& id) { return id == "-1" ? -1 : int64_t(parse_hex_u64(id).value_or(0)); }

// "ADDR,LEN" (and ",KIND" for Z packets: ignored).
bool parse_address_length(const std::string& args, uint64_t& address, uint64_t& length) {
  size_t comma = args.find(',');
  if (comma == std::string::npos) return false;
  size_t end = args.find_first_of(",;", comma + 1);
  auto a = parse_hex_u64(std::string_view(args).substr(0, comma));
  auto l = parse_hex_u64(std::string_view(args).substr(comma + 1, end == std::string::npos ? std::string::npos
                                                                                          : end - comma - 1));
  if (!a || !l) return false;
  address = *a;
  length = *l;
  return true;
}

}  // namespace

Server::End Server::serve() {
  std::vector<RspEvent> events;
  while (!end_) {
    if (quit_ && quit_()) return End::kQuit;
    std::optional<std::string> bytes = transport_.receive(200);
    if (!bytes) return End::kDisconnected;
    events.clear();
    reader_.feed(*bytes, events);
    for (const RspEvent& e : events) {
      switch (e.kind) {
        case RspEvent::Kind::kPacket:
          if (ack_mode_ && !transport_.send("+")) return End::kDisconnected;
          if (!send_packet(handle(e.payload))) return End::kDisconnected;
          if (end_) return *end_;
          break;
        case RspEvent::Kind::kBadChecksum:
        case RspEvent::Kind::kTooLong:
          if (ack_mode_ && !transport_.send("-")) return End::kDisconnected;
          break;
        case RspEvent::Kind::kAck:
        case RspEvent::Kind::kNak:
        case RspEvent::Kind::kInterrupt:  // the target is already stopped
          break;
      }
    }
  }
  return *end_;
}

bool Server::send_packet(const std::string& payload) {
  if (end_ == End::kKilled) return true;  // `k` has no reply
  return transport_.send(frame_reply(payload));
}

unsigned Server::thread_cpu(int64_t thread) const {
  if (thread <= 0 || uint64_t(thread) > target_.cpu_count()) return last_stop_.cpu;
  return unsigned(thread - 1);
}

std::string Server::handle(const std::string& p) {
  if (p.empty()) return "";
  switch (p[0]) {
    case '?': return stop_reply(last_stop_);
    case 'g': return to_hex(all_registers(arch_, target_.cpu(general_cpu_)));
    case 'p': {
      auto n = parse_hex_u64(std::string_view(p).substr(1));
      if (!n) return "E01";
      auto value = register_bytes(arch_, target_.cpu(general_cpu_), unsigned(*n));
      return value ? to_hex(*value) : "E01";
    }
    case 'G':
    case 'P':
    case 'M':
    case 'X':
      return kReadOnly;
    case 'm': return read_memory(p.substr(1));
    case 'H': {
      if (p.size() < 2) return "E01";
      if (p[1] == 'g') general_cpu_ = thread_cpu(parse_thread_id(p.substr(2)));
      // Hc: the thread s and bs step (gdb sends it before a reverse step);
      // 0 or -1 (any, all): the one gdb last looked at.
      if (p[1] == 'c') {
        const int64_t thread = parse_thread_id(p.substr(2));
        continue_cpu_ = thread > 0 ? std::optional<unsigned>(thread_cpu(thread)) : std::nullopt;
      }
      return "OK";
    }
    case 'T': {
      auto id = parse_hex_u64(std::string_view(p).substr(1));
      return id && *id >= 1 && *id <= target_.cpu_count() ? "OK" : "E01";
    }
    case 'Z':
    case 'z':
      return breakpoint(p[0] == 'Z', p.substr(1));
    case 's':
    case 'S':
    case 'c':
    case 'C': {
      // "c ADDR" resumes elsewhere: that would change the recording.
      const bool has_address = p[0] == 's' || p[0] == 'c' ? p.size() > 1 : p.find(';') != std::string::npos;
      if (has_address) return kReadOnly;
      return resume(p[0] == 's' || p[0] == 'S' ? std::optional<unsigned>(continue_cpu_.value_or(general_cpu_))
                                               : std::nullopt);
    }
    case 'v':
      if (p == "vCont?") return "vCont;c;C;s;S";
      if (starts_with(p, "vCont;")) return vcont(p.substr(6));
      return "";
    case 'b':
      if (p == "bs") return stopped(target_.reverse(continue_cpu_.value_or(general_cpu_), stop_asked()));
      if (p == "bc") return stopped(target_.reverse(std::nullopt, stop_asked()));
      return "";
    case 'k':
      end_ = End::kKilled;
      return "";
    case 'D':
      end_ = End::kDetached;
      return "OK";
    case 'q':
    case 'Q':
      return query(p);
    default:
      return "";
  }
}

std::string Server::query(const std::string& p) {
  if (starts_with(p, "qSupported"))
    return "PacketSize=" + hex_u64(kPacketSize) +
           ";qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;QStartNoAckMode+;ReverseStep+;ReverseContinue+";
  if (p == "QStartNoAckMode") {
    ack_mode_ = false;
    return "OK";
  }
  constexpr std::string_view kTargetXml = "qXfer:features:read:target.xml:";
  if (starts_with(p, kTargetXml.data())) {
    uint64_t offset = 0, length = 0;
    if (!parse_address_length(p.substr(kTargetXml.size()), offset, length)) return "E01";
    const std::string& xml = target_xml(arch_);
    if (offset > xml.size()) return "E01";
    std::string part = xml.substr(offset, std::min<uint64_t>(length, kPacketSize / 2));
    return (offset + part.size() < xml.size() ? "m" : "l") + part;
  }
  if (starts_with(p, "qXfer:")) return "";
  if (p == "qAttached") return "1";
  if (p == "qC") return "QC" + hex_u64(last_stop_.cpu + 1);
  if (p == "qfThreadInfo") {
    std::string list = "m";
    for (unsigned i = 0; i < target_.cpu_count(); ++i) list += (i ? "," : "") + hex_u64(i + 1);
    return list;
  }
  if (p == "qsThreadInfo") return "l";
  if (starts_with(p, "qSymbol")) return "OK";
  if (starts_with(p, "qRcmd,")) {
    std::string command = from_hex(p.substr(6)).value_or("");
    std::string out;
    if (command == "icount") {
      out = std::to_string(target_.icount()) + "\n";
    } else if (command.rfind("goto ", 0) == 0) {
      const std::string n = command.substr(5);
      if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos || n.size() > 19) {
        out = "monitor goto: '" + n + "' is not an instruction count\n";
      } else {
        std::string problem = target_.go_to(std::stoull(n));
        out = problem.empty() ? "at icount " + std::to_string(target_.icount()) + "\n" : problem + "\n";
        last_stop_ = {DebugTarget::StopKind::kStep, last_stop_.cpu};
      }
    } else if (command == "checkpoints") {
      out = target_.describe_checkpoints();
    } else if (command == "help" || command.empty()) {
      out = "monitor icount        the machine's instruction count here\n"
            "monitor goto N        to instruction N of the recording (breakpoints ignored;\n"
            "                      then maint flush register-cache)\n"
            "monitor checkpoints   the recording's checkpoints\n";
    } else {
      out = "unknown monitor command '" + command + "' (monitor help lists them)\n";
    }
    return to_hex(out);
  }
  return "";
}

std::string Server::read_memory(const std::string& args) {
  uint64_t address = 0, length = 0;
  if (!parse_address_length(args, address, length)) return "E01";
  length = std::min<uint64_t>(length, kPacketSize / 2);
  std::optional<std::string> bytes = target_.read_memory(general_cpu_, address, size_t(length));
  if (!bytes || bytes->empty()) return "E14";  // EFAULT
  return to_hex(*bytes);
}

std::string Server::breakpoint(bool insert, const std::string& args) {
  if (args.size() < 2 || args[0] < '0' || args[0] > '4' || args[1] != ',') return "";
  uint64_t address = 0, kind = 0;
  if (!parse_address_length(args.substr(2), address, kind)) return "E01";
  if (args[0] >= '2') {
    // Z2-Z4: `kind` is the watched length.
    const uint8_t type = uint8_t(args[0] - '0');
    auto same = [&](const DebugTarget::Watch& w) { return w.address == address && w.length == kind && w.kind == type; };
    std::erase_if(watches_, same);
    if (insert) watches_.push_back({address, kind ? kind : 1, type});
    target_.set_watchpoints(watches_);
    return "OK";
  }
  if (insert) breakpoints_.insert(address);
  else breakpoints_.erase(address);
  target_.set_breakpoints(std::vector<uint64_t>(breakpoints_.begin(), breakpoints_.end()));
  return "OK";
}

std::string Server::vcont(const std::string& actions) {
  // The first action that names a thread to step steps it; anything else
  // continues (a replay runs every vCPU as recorded either way).
  std::optional<unsigned> step;
  size_t at = 0;
  while (at <= actions.size()) {
    size_t end = actions.find(';', at);
    std::string action = actions.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (!action.empty() && (action[0] == 's' || action[0] == 'S') && !step) {
      size_t colon = action.find(':');
      step = thread_cpu(colon == std::string::npos ? -1 : parse_thread_id(action.substr(colon + 1)));
    }
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return resume(step);
}

std::function<bool()> Server::stop_asked() {
  // While the guest runs, only Ctrl-C (0x03) is expected from gdb.
  return [this]() {
    std::optional<std::string> bytes = transport_.receive(0);
    if (!bytes) return true;  // gdb went away: stop, serve() notices
    std::vector<RspEvent> events;
    reader_.feed(*bytes, events);
    for (const RspEvent& e : events)
      if (e.kind == RspEvent::Kind::kInterrupt) return true;
    return false;
  };
}

std::string Server::resume(std::optional<unsigned> step_cpu) { return stopped(target_.resume(step_cpu, stop_asked())); }

std::string Server::stopped(const DebugTarget::Stop& stop) {
  last_stop_ = stop;
  general_cpu_ = stop.cpu;
  return stop_reply(stop);
}

std::string Server::stop_reply(const DebugTarget::Stop& stop) {
  const std::string thread = "thread:" + hex_u64(stop.cpu + 1) + ";";
  switch (stop.kind) {
    case DebugTarget::StopKind::kStep: return "T05" + thread;
    case DebugTarget::StopKind::kBreakpoint: return "T05swbreak:;" + thread;
    case DebugTarget::StopKind::kInterrupted: return "T02" + thread;
    case DebugTarget::StopKind::kEndOfHistory: return "T05replaylog:end;" + thread;
    case DebugTarget::StopKind::kStartOfHistory: return "T05replaylog:begin;" + thread;
    case DebugTarget::StopKind::kWatchpoint: {
      const char* what = stop.watch_kind == core::DebugTraps::kWatchRead     ? "rwatch"
                       : stop.watch_kind == core::DebugTraps::kWatchAccess ? "awatch"
                                                                           : "watch";
      return "T05" + std::string(what) + ":" + hex_u64(stop.watch_address) + ";" + thread;
    }
  }
  return "T05" + thread;
}

}  // namespace rwd::tools::gdb
