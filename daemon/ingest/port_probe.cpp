#include "ingest/port_probe.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pvc {

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

}  // namespace pvc
