#pragma once
// Is a listening address free? pvcd binds every listener with SO_REUSEPORT
// (one socket per I/O thread on the same port), and the kernel lets any
// other socket that also sets SO_REUSEPORT, under the same user, join that
// port: a second pvcd started by mistake on the same ports would silently
// take half the traffic instead of failing. A plain bind first, without
// SO_REUSEPORT, turns that into a start-up error.
#include <sys/socket.h>

#include <string>

namespace pvc {

// "" when nothing holds `address` for `socket_type` (SOCK_STREAM: a
// listener; SOCK_DGRAM: a bound socket); otherwise why not, as strerror
// text. Call only for a fixed port: port 0 always succeeds. The probe is
// closed before returning (a race with another process starting at the same
// instant stays possible).
std::string probe_free_address(const sockaddr* address, socklen_t length, int socket_type);

}  // namespace pvc
