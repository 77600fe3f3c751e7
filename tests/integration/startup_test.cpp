// Start-up errors end pvcd at once with a non-zero exit and one line on
// stderr naming the key or path at fault, before it listens anywhere.
#include <fstream>
#include <string>
#include <vector>

#include "pvcd_fixture.hpp"

namespace pvc::test {
namespace {

// A start-up error must not take longer than this to be reported.
constexpr std::chrono::seconds quick{5};

// stderr without pvcd's structured log lines ("... level=... event=..."):
// the message meant for the person starting it.
std::vector<std::string> message_lines(const std::string& err) {
  std::vector<std::string> out;
  for (const auto& line : split_lines(err)) {
    if (line.find(" level=") == std::string::npos) out.push_back(line);
  }
  return out;
}

class startup_test : public pvcd_test {
 protected:
  // Valid flags for everything but what the test breaks.
  std::vector<std::string> args(const std::vector<std::string>& extra,
                                const std::string& data = "") const {
    std::vector<std::string> a = {pvcd_binary(),
                                  "--http",
                                  "127.0.0.1:0",
                                  "--udp",
                                  "127.0.0.1:0",
                                  "--admin",
                                  "127.0.0.1:0",
                                  "--data-dir",
                                  data.empty() ? data_dir().string() : data,
                                  "--threads",
                                  "1"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  std::filesystem::path write_file(const std::string& name, const std::string& text) const {
    const auto p = dir_.path() / name;
    std::ofstream(p) << text;
    return p;
  }

  // Runs pvcd and checks the failure: non-zero exit within `quick`, nothing
  // on stdout, and exactly one message line (log lines, "... level=...",
  // aside) that starts with "pvcd: " and contains every `needle`.
  void expect_start_failure(const std::vector<std::string>& argv,
                            const std::vector<std::string>& needles) {
    const command_result r = run_command(argv, quick);
    ASSERT_EQ(r.spawn_error, "");
    ASSERT_FALSE(r.status.timed_out) << "pvcd kept running; stderr:\n" << r.err;
    EXPECT_TRUE(r.status.exited) << r.status.describe();
    EXPECT_NE(r.status.code, 0) << "stderr:\n" << r.err;
    EXPECT_EQ(r.out, "");
    const std::vector<std::string> messages = message_lines(r.err);
    ASSERT_EQ(messages.size(), 1u) << "stderr:\n" << r.err;
    EXPECT_EQ(messages[0].rfind("pvcd: ", 0), 0u) << messages[0];
    for (const auto& n : needles) {
      EXPECT_NE(messages[0].find(n), std::string::npos) << "'" << n << "' not in: " << messages[0];
    }
    EXPECT_EQ(r.err.find("event=listening"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(data_dir()))
        << "a config error must be found before the data dir is created";
  }
};

TEST_F(startup_test, UnknownFlag) {
  expect_start_failure(args({"--bogus-flag", "1"}), {"--bogus-flag"});
}

TEST_F(startup_test, BadFlushIntervalValue) {
  expect_start_failure(args({"--flush-interval", "5x"}), {"flush_interval", "5x"});
}

TEST_F(startup_test, FlushIntervalOutOfRange) {
  expect_start_failure(args({"--flush-interval", "0ms"}), {"flush_interval", "0ms"});
}

TEST_F(startup_test, ConfigFileWithAnUnknownKey) {
  const auto cfg = write_file("pvcd.toml", "flush_interval = \"250ms\"\nbogus_key = 3\n");
  expect_start_failure(args({"--config", cfg.string()}), {cfg.string(), "bogus_key"});
}

TEST_F(startup_test, ConfigFileWithABadValue) {
  const auto cfg = write_file("pvcd.toml", "flush_interval = \"soon\"\n");
  expect_start_failure(args({"--config", cfg.string()}), {cfg.string(), "flush_interval", "soon"});
}

TEST_F(startup_test, MissingConfigFile) {
  const auto cfg = dir_.path() / "absent.toml";
  expect_start_failure(args({"--config", cfg.string()}), {cfg.string()});
}

// The next two get past the configuration: they fail on the data dir itself.
TEST_F(startup_test, DataDirThatIsARegularFile) {
  const auto file = write_file("not-a-dir", "x");
  const command_result r = run_command(args({}, file.string()), quick);
  ASSERT_FALSE(r.status.timed_out) << r.err;
  EXPECT_TRUE(r.status.exited && r.status.code != 0) << r.status.describe();
  const std::vector<std::string> messages = message_lines(r.err);
  ASSERT_EQ(messages.size(), 1u) << r.err;
  EXPECT_EQ(messages[0].rfind("pvcd: data_dir: ", 0), 0u) << messages[0];
  EXPECT_NE(messages[0].find(file.string()), std::string::npos) << messages[0];
  EXPECT_EQ(r.err.find("event=listening"), std::string::npos) << r.err;
}

TEST_F(startup_test, DataDirInUseByAnotherPvcd) {
  daemon_process first;
  ASSERT_TRUE(first.start(options())) << first.error();
  const command_result r = run_command(args({}), quick);
  ASSERT_FALSE(r.status.timed_out) << r.err;
  EXPECT_TRUE(r.status.exited && r.status.code != 0) << r.status.describe();
  const std::vector<std::string> messages = message_lines(r.err);
  ASSERT_EQ(messages.size(), 1u) << r.err;
  EXPECT_EQ(messages[0].rfind("pvcd: data_dir: ", 0), 0u) << messages[0];
  EXPECT_NE(messages[0].find(data_dir().string()), std::string::npos) << messages[0];
  // The first one is unharmed.
  EXPECT_EQ(http_once(first.ports().admin, "GET", "/healthz").status, 200);
  const exit_status s = first.stop();
  EXPECT_TRUE(s.ok()) << s.describe();
}

// A second pvcd on ports the first one holds fails to start, naming the
// port, instead of joining them through SO_REUSEPORT and taking half the
// traffic; the first one is unharmed. Once for the HTTP port, once for UDP.
TEST_F(startup_test, PortsInUseByAnotherPvcd) {
  daemon_process first;
  ASSERT_TRUE(first.start(options())) << first.error();
  const std::string http = "127.0.0.1:" + std::to_string(first.ports().http);
  const std::string udp = "127.0.0.1:" + std::to_string(first.ports().udp);
  struct taken {
    std::string http, udp, want;
  };
  for (const taken& t : {taken{http, "127.0.0.1:0", "cannot listen on " + http},
                         taken{"127.0.0.1:0", udp, "cannot bind UDP " + udp}}) {
    const std::vector<std::string> argv = {
        pvcd_binary(), "--http",     t.http,
        "--udp",       t.udp,        "--admin",
        "127.0.0.1:0", "--data-dir", (dir_.path() / "second").string(),
        "--threads",   "1"};
    const command_result r = run_command(argv, quick);
    ASSERT_FALSE(r.status.timed_out) << "the second pvcd kept running; stderr:\n" << r.err;
    EXPECT_TRUE(r.status.exited && r.status.code != 0) << r.status.describe();
    const std::vector<std::string> messages = message_lines(r.err);
    ASSERT_EQ(messages.size(), 1u) << r.err;
    EXPECT_NE(messages[0].find(t.want), std::string::npos) << messages[0];
    EXPECT_NE(messages[0].find("in use"), std::string::npos) << messages[0];
  }
  // The first one still takes hits.
  EXPECT_EQ(http_once(first.ports().http, "GET", "/hit?s=first&a=x").status, 204);
  const exit_status s = first.stop();
  EXPECT_TRUE(s.ok()) << s.describe();
}

TEST_F(startup_test, RedisClusterSeedThatIsNotHostPort) {
  expect_start_failure(args({"--redis-cluster", "127.0.0.1:7000,redis-a"}),
                       {"redis_cluster", "redis-a", "HOST:PORT"});
}

TEST_F(startup_test, RedisPasswordFileThatCannotBeRead) {
  // Found when cluster mode opens (after the store): the start fails with
  // one line naming the file, before anything listens.
  const auto missing = dir_.path() / "no-such-password";
  const command_result r = run_command(
      args({"--redis-cluster", "127.0.0.1:1", "--redis-password-file", missing.string()}), quick);
  ASSERT_EQ(r.spawn_error, "");
  ASSERT_FALSE(r.status.timed_out) << r.err;
  EXPECT_NE(r.status.code, 0) << r.err;
  const std::vector<std::string> messages = message_lines(r.err);
  ASSERT_EQ(messages.size(), 1u) << r.err;
  EXPECT_NE(messages[0].find("redis_password_file: cannot read " + missing.string()),
            std::string::npos)
      << messages[0];
  EXPECT_EQ(r.err.find("event=listening"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pvc::test
