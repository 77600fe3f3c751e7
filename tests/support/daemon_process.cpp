#include "support/daemon_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace pvc::test {
namespace {

using clock = std::chrono::steady_clock;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The port of "event=listening transport=NAME address=HOST:PORT"; 0 if absent.
std::uint16_t listening_port(const std::string& log, const std::string& transport) {
  const std::string marker = "event=listening transport=" + transport + " address=";
  const std::size_t at = log.find(marker);
  if (at == std::string::npos) return 0;
  const std::size_t end = log.find_first_of(" \n", at + marker.size());
  const std::string address = log.substr(at + marker.size(), end - at - marker.size());
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) return 0;
  const long port = std::strtol(address.c_str() + colon + 1, nullptr, 10);
  return port > 0 && port < 65536 ? static_cast<std::uint16_t>(port) : 0;
}

}  // namespace

temp_dir::temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/pvcd-integ-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  path_ = pattern;
}

temp_dir::~temp_dir() {
  if (keep_) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

daemon_process::~daemon_process() {
  if (pid_ > 0) kill_hard();
}

bool daemon_process::start(const daemon_options& o, std::chrono::milliseconds ready_timeout) {
  if (pid_ > 0) {
    error_ = "already running";
    return false;
  }
  static std::atomic<int> runs{0};
  log_file_ = o.log_file;
  if (log_file_.empty()) {
    log_file_ = o.data_dir;
    log_file_ += "." + std::to_string(++runs) + ".log";
  }
  std::vector<std::string> argv = {pvcd_binary(),
                                   "--http",
                                   "127.0.0.1:0",
                                   "--udp",
                                   "127.0.0.1:0",
                                   "--admin",
                                   "127.0.0.1:0",
                                   "--data-dir",
                                   o.data_dir.string(),
                                   "--flush-interval",
                                   o.flush_interval,
                                   "--threads",
                                   std::to_string(o.threads),
                                   "--timezone",
                                   o.timezone};
  argv.insert(argv.end(), o.extra_args.begin(), o.extra_args.end());
  if (!o.env.empty()) {
    // env(1) sets them and execs pvcd in the same process (the same pid).
    std::vector<std::string> with_env = {"/usr/bin/env"};
    with_env.insert(with_env.end(), o.env.begin(), o.env.end());
    argv.insert(argv.begin(), with_env.begin(), with_env.end());
  }

  const int log_fd =
      ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    error_ = "cannot create " + log_file_.string() + ": " + std::strerror(errno);
    return false;
  }
  pid_ = spawn(argv, -1, log_fd, error_);
  ::close(log_fd);
  if (pid_ < 0) return false;

  const auto deadline = clock::now() + ready_timeout;
  for (;;) {
    const std::string log = log_text();
    if (log.find("event=ready") != std::string::npos) {
      ports_ = {listening_port(log, "http"), listening_port(log, "udp"),
                listening_port(log, "admin")};
      if (ports_.http && ports_.udp && ports_.admin) return true;
      error_ = "pvcd is ready but its log names no port for every listener:\n" + log;
      kill_hard();
      return false;
    }
    if (auto s = wait_for_exit(pid_, std::chrono::milliseconds(0))) {
      pid_ = -1;
      error_ = "pvcd " + s->describe() + " before it was ready; its stderr:\n" + log;
      return false;
    }
    if (clock::now() >= deadline) {
      kill_hard();
      error_ = "pvcd was not ready within " + std::to_string(ready_timeout.count()) +
               " ms; its stderr:\n" + log;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string daemon_process::log_text() const {
  return read_file(log_file_);
}

exit_status daemon_process::stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return {};
  ::kill(pid_, SIGTERM);
  auto s = wait_for_exit(pid_, timeout);
  if (!s) {
    kill_and_reap(pid_);
    s = exit_status{};
    s->timed_out = true;
  }
  pid_ = -1;
  return *s;
}

exit_status daemon_process::kill_hard() {
  if (pid_ <= 0) return {};
  exit_status s = kill_and_reap(pid_);
  pid_ = -1;
  return s;
}

std::int64_t utc_day_now() {
  using namespace std::chrono;
  return duration_cast<days>(system_clock::now().time_since_epoch()).count();
}

}  // namespace pvc::test
