#include "tools/gdbstub/tcp_transport.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace rwd::tools::gdb {

std::optional<Endpoint> parse_endpoint(const std::string& spec) {
  std::string rest = spec;
  Endpoint e{"", 0};
  if (rest.rfind("tcp:", 0) == 0) {
    rest = rest.substr(4);
    size_t colon = rest.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    e.host = rest.substr(0, colon);
    rest = rest.substr(colon + 1);
  }
  if (rest.empty() || rest.size() > 5 || rest.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  unsigned long port = std::stoul(rest);
  if (port > 65535) return std::nullopt;
  e.port = uint16_t(port);
  return e;
}

TcpTransport::TcpTransport(const Endpoint& endpoint) {
  const std::string where = (endpoint.host.empty() ? "" : endpoint.host) + ":" + std::to_string(endpoint.port);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(endpoint.port);
  const std::string host = endpoint.host.empty() || endpoint.host == "localhost" ? "127.0.0.1" : endpoint.host;
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    throw std::runtime_error("-gdb tcp:" + where + ": '" + endpoint.host + "' is not an IPv4 address");
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("-gdb: cannot create a socket: " + std::string(std::strerror(errno)));
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listen_fd_, 1) != 0) {
    std::string why = std::strerror(errno);
    close(listen_fd_);
    throw std::runtime_error("-gdb tcp:" + where + ": cannot listen: " + why);
  }
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
}

TcpTransport::~TcpTransport() {
  if (client_fd_ >= 0) close(client_fd_);
  if (listen_fd_ >= 0) close(listen_fd_);
}

bool TcpTransport::accept_client(const std::function<bool()>& quit) {
  while (!quit()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    client_fd_ = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client_fd_ < 0) continue;
    int one = 1;
    setsockopt(client_fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    close(listen_fd_);  // one debugger at a time
    listen_fd_ = -1;
    return true;
  }
  return false;
}

bool TcpTransport::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(client_fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(size_t(n));
  }
  return true;
}

std::optional<std::string> TcpTransport::receive(int timeout_ms) {
  pollfd p{client_fd_, POLLIN, 0};
  int ready = poll(&p, 1, timeout_ms);
  if (ready < 0 && errno == EINTR) return std::string();
  if (ready <= 0) return std::string();
  char buf[4096];
  ssize_t n = recv(client_fd_, buf, sizeof buf, 0);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return std::string();
  if (n <= 0) return std::nullopt;  // gone
  return std::string(buf, size_t(n));
}

}  // namespace rwd::tools::gdb
