#pragma once
// A real pvcd for a test: a temp directory, the daemon started on ephemeral
// loopback ports with its data dir inside it, the ports read from its log,
// and an RAII owner that never leaves the process running.
//
//   temp_dir dir;                       // removed with everything in it
//   daemon_process d;
//   if (!d.start({.data_dir = dir.path() / "data"})) FAIL() << d.error();
//   ... talk to d.ports().http / .udp / .admin ...
//   exit_status s = d.stop();           // SIGTERM, bounded wait
//
// Thread-safety: one owner thread (the test's main thread, see process.hpp).
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace pvc::test {

// A fresh directory under $TMPDIR (or /tmp), removed recursively on
// destruction unless keep() was called (to look at it after a failure).
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  void keep() { keep_ = true; }

 private:
  std::filesystem::path path_;
  bool keep_ = false;
};

struct daemon_ports {
  std::uint16_t http = 0;
  std::uint16_t udp = 0;
  std::uint16_t admin = 0;
};

struct daemon_options {
  std::filesystem::path data_dir;  // required
  // Where pvcd's stderr goes; default: "<data_dir>.<n>.log" beside the data
  // dir, so restarts on one data dir keep every run's log.
  std::filesystem::path log_file;
  std::string flush_interval = "100ms";
  unsigned threads = 2;
  // UTC makes "today" computable by the test (see utc_day_now()).
  std::string timezone = "UTC";
  std::vector<std::string> extra_args;
  // NAME=VALUE pairs added to pvcd's environment (libfaketime, say).
  std::vector<std::string> env;
};

class daemon_process {
 public:
  daemon_process() = default;
  ~daemon_process();  // SIGKILLs and reaps a daemon still running
  daemon_process(const daemon_process&) = delete;
  daemon_process& operator=(const daemon_process&) = delete;

  // Starts pvcd and waits (at most `ready_timeout`) for "event=ready" and
  // the three listening addresses. False, with error() set, when pvcd exits
  // early, never gets ready, or cannot be run; it is killed in that case.
  bool start(const daemon_options& options,
             std::chrono::milliseconds ready_timeout = std::chrono::seconds(10));

  const daemon_ports& ports() const { return ports_; }
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& error() const { return error_; }
  const std::filesystem::path& log_file() const { return log_file_; }

  // Everything pvcd has written to stderr so far.
  std::string log_text() const;

  // SIGTERM, then waits up to `timeout` for the exit; a daemon still running
  // then is SIGKILLed and the result says timed_out.
  exit_status stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // SIGKILL: a crash, without the shutdown path.
  exit_status kill_hard();

 private:
  pid_t pid_ = -1;
  daemon_ports ports_;
  std::filesystem::path log_file_;
  std::string error_;
};

// Days since 1970-01-01 in UTC: the daemon's "today" when run with
// timezone UTC.
std::int64_t utc_day_now();

}  // namespace pvc::test
