#pragma once
// The sockets of one listener, one per I/O thread, for the HTTP and UDP
// listeners alike:
//
//   from systemd    one socket (socket activation), shared by every thread
//                   through its own descriptor (dup), so a restart refuses no
//                   connection and drops no datagram;
//   bound by pvcd   one socket per thread on the same address with
//                   SO_REUSEPORT (the kernel spreads connections and
//                   datagrams over them); port 0: the others join the port
//                   the kernel picked for the first.
//
// Why a plain bind first: the kernel lets any other socket that also sets
// SO_REUSEPORT, under the same user, join a port, so a second pvcd started
// by mistake on the same ports would silently take half the traffic instead
// of failing. A bind without SO_REUSEPORT (probe_free_address) turns that
// into a start-up error.
//
// Thread-safety: start-up only, on the main thread.
#include <sys/socket.h>

#include <cstddef>
#include <string>
#include <vector>

#include "core/config_values.hpp"

namespace pvc {

// Opens `threads` descriptors for `where` (SOCK_STREAM: listening; SOCK_DGRAM:
// bound, non-blocking), or adopts `inherited_fd` when it is >= 0. `bound` gets
// the address in use (the real port when 0 was asked). Returns "" or a
// one-line error naming the address; on error no descriptor stays open.
std::string open_listen_sockets(std::size_t threads, const endpoint& where, int socket_type,
                                int inherited_fd, std::vector<int>& fds, endpoint& bound);

// "" when nothing holds `address` for `socket_type`; otherwise why not, as
// strerror text. Call only for a fixed port: port 0 always succeeds. The
// probe is closed before returning (a race with another process starting at
// the same instant stays possible).
std::string probe_free_address(const sockaddr* address, socklen_t length, int socket_type);

}  // namespace pvc
