#include "ingest/listen_sockets.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pvc {
namespace {

// How the errors of each kind of listener read (start-up tests match them).
std::string failure(int socket_type, const endpoint& where, const std::string& why) {
  return (socket_type == SOCK_STREAM ? "cannot listen on " : "cannot bind UDP ") +
         format_endpoint(where) + ": " + why;
}

bool to_sockaddr(const endpoint& where, sockaddr_storage& out, socklen_t& len) {
  out = {};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  if (::inet_pton(AF_INET, where.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(where.port);
    len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (::inet_pton(AF_INET6, where.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(where.port);
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

std::uint16_t port_of(int fd, std::string& host) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    host = text;
    return ntohs(v6->sin6_port);
  }
  const auto* v4 = reinterpret_cast<const sockaddr_in*>(&addr);
  ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
  host = text;
  return ntohs(v4->sin_port);
}

// One socket of the group: SO_REUSEPORT, bound, listening (stream) or
// non-blocking (datagram). -1 and `why` on failure.
int open_one(const sockaddr_storage& addr, socklen_t len, int socket_type, std::string& why) {
  const int fd = ::socket(addr.ss_family, socket_type | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    why = std::strerror(errno);
    return -1;
  }
  int one = 1;
  bool ok = true;
  // Stream: connections of an earlier run in TIME_WAIT do not block the port.
  if (socket_type == SOCK_STREAM)
    ok = ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0;
  ok = ok && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0;
  ok = ok && ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) == 0;
  if (ok && socket_type == SOCK_STREAM) ok = ::listen(fd, SOMAXCONN) == 0;
  if (ok && socket_type == SOCK_DGRAM) ok = ::fcntl(fd, F_SETFL, O_NONBLOCK) == 0;
  if (!ok) {
    why = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::string probe_free_address(const sockaddr* address, socklen_t length, int socket_type) {
  const int fd = ::socket(address->sa_family, socket_type | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::strerror(errno);
  if (socket_type == SOCK_STREAM) {
    // As the real listeners do: connections of an earlier run still in
    // TIME_WAIT do not make the port busy; a listener does.
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  std::string why;
  if (::bind(fd, address, length) != 0) why = std::strerror(errno);
  ::close(fd);
  return why;
}

std::string open_listen_sockets(std::size_t threads, const endpoint& where, int socket_type,
                                int inherited_fd, std::vector<int>& fds, endpoint& bound) {
  fds.clear();
  bound = where;
  if (inherited_fd >= 0) {
    for (std::size_t i = 0; i < threads; ++i) {
      const int fd = i == 0 ? inherited_fd : ::dup(inherited_fd);
      if (fd < 0) {
        const std::string why = std::strerror(errno);
        for (int open : fds)
          if (open != inherited_fd) ::close(open);
        fds.clear();
        return "cannot use the socket passed by systemd: " + why;
      }
      fds.push_back(fd);
    }
    bound.port = port_of(inherited_fd, bound.host);
    return {};
  }
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (!to_sockaddr(where, addr, len)) return "bad address " + where.host;
  if (where.port != 0) {
    if (auto why = probe_free_address(reinterpret_cast<const sockaddr*>(&addr), len, socket_type);
        !why.empty()) {
      return failure(socket_type, where, why) + (socket_type == SOCK_STREAM
                                                     ? " (another process listens there)"
                                                     : " (another process has that port)");
    }
  }
  for (std::size_t i = 0; i < threads; ++i) {
    std::string why;
    const int fd = open_one(addr, len, socket_type, why);
    if (fd < 0) {
      for (int open : fds)
        ::close(open);
      fds.clear();
      return failure(socket_type, where, why);
    }
    fds.push_back(fd);
    if (i == 0) {
      // Port 0: the others join the port the kernel picked for the first.
      std::string host;
      bound.port = port_of(fd, host);
      if (addr.ss_family == AF_INET6) {
        reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = htons(bound.port);
      } else {
        reinterpret_cast<sockaddr_in*>(&addr)->sin_port = htons(bound.port);
      }
    }
  }
  return {};
}

}  // namespace pvc
