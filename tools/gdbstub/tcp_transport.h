// The gdbstub's TCP endpoint, QEMU's -gdb tcp:[HOST]:PORT: listens, takes
// one debugger, then stops listening (a second one is refused by the
// system, never disturbs the first). An empty HOST listens on the loopback
// interface only: a replay's memory is not for the network.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tools/gdbstub/server.h"

namespace rwd::tools::gdb {

// "tcp::1234", "tcp:127.0.0.1:1234", or "1234"; nullopt when it is none.
struct Endpoint {
  std::string host;
  uint16_t port;
};
std::optional<Endpoint> parse_endpoint(const std::string& spec);

class TcpTransport final : public Transport {
 public:
  // Throws std::runtime_error with a one-line message when it cannot listen.
  explicit TcpTransport(const Endpoint& endpoint);
  ~TcpTransport() override;
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  uint16_t port() const { return port_; }  // the one bound (port 0 asks the system for one)
  // Waits for the debugger. Returns false when a quit signal came first.
  bool accept_client(const std::function<bool()>& quit);

  bool send(std::string_view bytes) override;
  std::optional<std::string> receive(int timeout_ms) override;

 private:
  int listen_fd_ = -1;
  int client_fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace rwd::tools::gdb
