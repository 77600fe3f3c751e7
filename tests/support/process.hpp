#pragma once
// Child processes for the integration tests: spawn a binary with its output
// sent where the test wants it, wait for it with a deadline, run a command to
// completion capturing what it printed.
//
// Every child gets PR_SET_PDEATHSIG(SIGKILL): if the test process dies (a
// crash, an abort in gtest), no daemon is left behind on the machine. The
// signal follows the *thread* that spawned the child, so spawn from the
// test's main thread.
//
// Thread-safety: functions are independent; a pid belongs to one caller.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace pvc::test {

// Paths of the binaries under test: $PVCD_BINARY / $PVCTL_BINARY when set
// (to test another build), else the ones CMake built with the tests.
std::string pvcd_binary();
std::string pvctl_binary();

// How a child ended.
struct exit_status {
  bool exited = false;     // ended by exit(); `code` is meaningful
  int code = -1;           // exit code
  int signal = 0;          // signal that ended it, when !exited
  bool timed_out = false;  // did not end before the deadline (and was killed)

  bool ok() const { return exited && code == 0; }
  std::string describe() const;
};

// Starts argv[0] with argv, stdin from /dev/null, stdout/stderr on the given
// descriptors (-1: /dev/null). Returns the pid, or -1 with `error` set when
// fork or exec failed.
pid_t spawn(const std::vector<std::string>& argv, int stdout_fd, int stderr_fd, std::string& error);

// Reaps `pid`, waiting at most `timeout`. Empty when it is still running.
std::optional<exit_status> wait_for_exit(pid_t pid, std::chrono::milliseconds timeout);

// SIGKILLs `pid` and reaps it (bounded: a SIGKILLed child ends promptly).
exit_status kill_and_reap(pid_t pid);

struct command_result {
  exit_status status;
  std::string out;  // everything written to stdout
  std::string err;  // everything written to stderr
  std::string spawn_error;
  std::chrono::milliseconds elapsed{0};
};

// Runs a command to completion; kills it if it outlives `timeout`.
command_result run_command(const std::vector<std::string>& argv,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Splits text into lines (without their LF); a final LF adds no empty line.
std::vector<std::string> split_lines(const std::string& text);

}  // namespace pvc::test
