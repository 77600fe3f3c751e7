#include "app/systemd.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include <cstdio>
#include <cstdlib>

namespace pvc::systemd {

namespace {

std::string role_of(int fd, const std::string& name, unsigned admin_port) {
  if (name == "http" || name == "admin" || name == "udp") return name;
  if (sd_is_socket(fd, AF_UNSPEC, SOCK_DGRAM, -1) > 0) return "udp";
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    unsigned port = 0;
    if (addr.ss_family == AF_INET) port = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (addr.ss_family == AF_INET6) port = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    if (port == admin_port) return "admin";
  }
  return "http";
}

}  // namespace

std::map<std::string, int> take_listen_fds(unsigned admin_port) {
  std::map<std::string, int> out;
  char** names = nullptr;
  // unset_environment=1: children (none today) must not think they were activated.
  const int n = sd_listen_fds_with_names(1, &names);
  for (int i = 0; i < n; ++i) {
    const int fd = SD_LISTEN_FDS_START + i;
    const std::string name = names && names[i] ? names[i] : "";
    out.emplace(role_of(fd, name, admin_port), fd);
  }
  if (names) {
    for (int i = 0; i < n; ++i)
      std::free(names[i]);
    std::free(names);
  }
  return out;
}

void notify(const std::string& state) {
  sd_notify(0, state.c_str());
}

std::chrono::microseconds watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0) return std::chrono::microseconds(0);
  return std::chrono::microseconds(usec);
}

bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (!stream) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (::fstat(2, &st) != 0) return false;
  return st.st_dev == dev && st.st_ino == ino;
}

}  // namespace pvc::systemd
