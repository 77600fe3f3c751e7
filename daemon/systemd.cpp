#include "systemd.hpp"

#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include <cstdio>
#include <cstdlib>

namespace pvc::systemd {

std::map<std::string, int> take_listen_fds() {
  std::map<std::string, int> out;
  char** names = nullptr;
  // unset_environment=1: children (none today) must not think they were activated.
  const int n = sd_listen_fds_with_names(1, &names);
  for (int i = 0; i < n; ++i) {
    const std::string name = names && names[i] ? names[i] : "unknown";
    out[name] = SD_LISTEN_FDS_START + i;
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
