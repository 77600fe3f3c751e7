#pragma once
// The systemd integration, all optional: without systemd every call is a
// no-op and pvcd binds its own sockets.
//   - socket activation: listening sockets handed over by pvcd.socket,
//     recognised by FileDescriptorName= (http, admin, udp)
//   - sd_notify: READY=1, STOPPING=1, STATUS=..., WATCHDOG=1
//   - logs to the journal with priorities when stderr is the journal
#include <chrono>
#include <map>
#include <string>

namespace pvc::systemd {

// Sockets passed by systemd, by role ("http", "admin", "udp"); empty when
// pvcd was not socket-activated. Call once, before any thread starts.
// A socket named http, admin or udp (FileDescriptorName=) takes that role;
// any other is recognised by its type and port: a datagram socket is udp,
// a stream socket on `admin_port` is admin, any other stream socket http.
std::map<std::string, int> take_listen_fds(unsigned admin_port);

// Sends a state string to the service manager; no-op outside systemd.
void notify(const std::string& state);

// The interval at which WATCHDOG=1 is expected, or zero when no watchdog is set.
std::chrono::microseconds watchdog_interval();

// True when stderr is connected to the journal (JOURNAL_STREAM matches).
bool stderr_is_journal();

}  // namespace pvc::systemd
