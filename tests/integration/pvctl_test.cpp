// pvctl against a real pvcd: its output formats, and its exit codes when the
// server is unreachable (3) or answers with an error (4).
#include <string>
#include <vector>

#include "pvcd_fixture.hpp"

namespace pvc::test {
namespace {

class pvctl_test : public pvcd_test {
 protected:
  static command_result pvctl(const std::string& server, std::vector<std::string> args) {
    args.insert(args.begin(), {pvctl_binary(), "--server", server});
    return run_command(args);
  }
};

TEST_F(pvctl_test, DeadServerExitsThreeWithOneStderrLine) {
  const reserved_port dead;  // bound, not listening: connections are refused
  ASSERT_NE(dead.port(), 0);
  const std::string server = "http://127.0.0.1:" + std::to_string(dead.port());
  const std::vector<std::vector<std::string>> commands = {
      {"total", "--site", "news"}, {"get", "--site", "news", "a1", "a2"}, {"hit", "a1"}};
  for (const auto& cmd : commands) {
    SCOPED_TRACE(cmd[0]);
    const command_result r = pvctl(server, cmd);
    ASSERT_EQ(r.spawn_error, "");
    EXPECT_TRUE(r.status.exited) << r.status.describe();
    EXPECT_EQ(r.status.code, 3) << r.err;
    EXPECT_EQ(r.out, "");
    const auto lines = split_lines(r.err);
    ASSERT_EQ(lines.size(), 1u) << r.err;
    EXPECT_EQ(
        lines[0].rfind("pvctl: cannot connect to 127.0.0.1:" + std::to_string(dead.port()), 0), 0u)
        << lines[0];
  }
}

TEST_F(pvctl_test, HitTotalAndGetAgainstALiveServer) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  const std::string server = "http://127.0.0.1:" + std::to_string(d.ports().admin);
  const std::int64_t first_day = utc_day_now();

  const command_result hit1 =
      pvctl(server, {"hit", "--site", "news", "/2026/11/budget", "--count", "7"});
  ASSERT_TRUE(hit1.status.ok()) << hit1.status.describe() << ": " << hit1.err;
  EXPECT_EQ(hit1.out, "");
  const command_result hit2 = pvctl(server, {"hit", "--site", "news", "/2026/11/weather"});
  ASSERT_TRUE(hit2.status.ok()) << hit2.status.describe() << ": " << hit2.err;

  ASSERT_TRUE(wait_until([&] { return fetch_views(d.ports().http, "news").total == 8; }));
  const command_result total = pvctl(server, {"total", "--site", "news"});
  ASSERT_TRUE(total.status.ok()) << total.err;
  EXPECT_EQ(total.out, "8\n");
  EXPECT_EQ(total.err, "");
  const command_result none = pvctl(server, {"total", "--site", "never-seen"});
  ASSERT_TRUE(none.status.ok()) << none.err;
  EXPECT_EQ(none.out, "0\n");

  const command_result get =
      pvctl(server, {"get", "--site", "news", "/2026/11/budget", "/2026/11/weather", "unknown"});
  ASSERT_TRUE(get.status.ok()) << get.err;
  if (utc_day_now() == first_day) {
    EXPECT_EQ(get.out, "/2026/11/budget\t7\t7\n/2026/11/weather\t1\t1\nunknown\t0\t0\n");
  }

  const std::string metrics = fetch_metrics(d.ports().admin);
  EXPECT_EQ(metric_value(metrics, accepted_series("admin")), 2);
  EXPECT_EQ(metric_value(metrics, views_series("admin")), 8);

  const exit_status s = d.stop();
  EXPECT_TRUE(s.ok()) << s.describe();
}

// GET /api/v1/sites on both listeners, and pvctl sites over it.
TEST_F(pvctl_test, SitesListsEverySiteWithItsTotalTodayAndMonth) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  const std::string server = "http://127.0.0.1:" + std::to_string(d.ports().admin);
  const command_result empty = pvctl(server, {"sites"});
  ASSERT_TRUE(empty.status.ok()) << empty.err;
  EXPECT_EQ(empty.out, "");

  const std::int64_t first_day = utc_day_now();
  ASSERT_TRUE(
      pvctl(server, {"hit", "--site", "tinhuy", "/tin-tuc/bai-1", "--count", "5"}).status.ok());
  ASSERT_TRUE(pvctl(server, {"hit", "--site", "baochinhphu", "home", "--count", "2"}).status.ok());
  ASSERT_TRUE(pvctl(server, {"hit", "--site", "baochinhphu", "/2026/11/ngan-sach"}).status.ok());
  ASSERT_TRUE(wait_until([&] {
    return fetch_views(d.ports().http, "tinhuy").total == 5 &&
           fetch_views(d.ports().http, "baochinhphu").total == 3;
  }));
  const command_result sites = pvctl(server, {"sites"});
  ASSERT_TRUE(sites.status.ok()) << sites.err;
  if (utc_day_now() == first_day) {
    EXPECT_EQ(sites.out, "baochinhphu\t3\t3\t3\ntinhuy\t5\t5\t5\n");
  }
  const command_result json = pvctl(server, {"--json", "sites"});
  ASSERT_TRUE(json.status.ok()) << json.err;
  EXPECT_NE(json.out.find("{\"site\":\"tinhuy\",\"total\":5,"), std::string::npos) << json.out;
  // The public listener serves the same list.
  const http_reply pub = http_once(d.ports().http, "GET", "/api/v1/sites");
  EXPECT_EQ(pub.status, 200);
  EXPECT_NE(pub.body.find("\"site\":\"baochinhphu\",\"total\":3"), std::string::npos) << pub.body;

  const exit_status s = d.stop();
  EXPECT_TRUE(s.ok()) << s.describe();
}

TEST_F(pvctl_test, ServerErrorExitsFourWithOneStderrLine) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  const std::string server = "http://127.0.0.1:" + std::to_string(d.ports().admin);

  // A 201-byte id: the server answers 400.
  const command_result get = pvctl(server, {"get", "--site", "news", std::string(201, 'x')});
  EXPECT_EQ(get.status.code, 4) << get.status.describe() << ": " << get.err;
  EXPECT_EQ(get.out, "");
  const auto get_lines = split_lines(get.err);
  ASSERT_EQ(get_lines.size(), 1u) << get.err;
  EXPECT_EQ(get_lines[0], "pvctl: server answered 400: bad_article: an article is not a valid id");

  // An id with a space: refused by the admin hit route, counted as such.
  const command_result hit = pvctl(server, {"hit", "--site", "news", "two words"});
  EXPECT_EQ(hit.status.code, 4) << hit.status.describe() << ": " << hit.err;
  const auto hit_lines = split_lines(hit.err);
  ASSERT_EQ(hit_lines.size(), 1u) << hit.err;
  EXPECT_EQ(hit_lines[0],
            "pvctl: server answered 400: bad_article: article has a space or a control character");
  EXPECT_EQ(scrape(d.ports().admin, rejected_series("bad_article", "admin")), 1);

  const exit_status s = d.stop();
  EXPECT_TRUE(s.ok()) << s.describe();
}

}  // namespace
}  // namespace pvc::test
