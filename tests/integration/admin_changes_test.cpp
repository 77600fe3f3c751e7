// adjust, rename and merge against a real pvcd: each shows up in get, top
// and audit; site totals move only with adjust; refusals change nothing.
// Also stats, and pvctl's exit codes for usage and connection errors.
#include <string>
#include <vector>

#include "admin_fixture.hpp"

namespace pvc::test {
namespace {

class admin_changes_test : public admin_test {};

TEST_F(admin_changes_test, AdjustRenameAndMergeShowInGetTopAndAudit) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  ok(pvctl(d, {"hit", "--site", "news", "/budget", "--count", "50"}));
  ok(pvctl(d, {"hit", "--site", "news", "/weather", "--count", "30"}));
  ok(pvctl(d, {"hit", "--site", "news", "/tin/123", "--count", "20"}));
  ok(pvctl(d, {"hit", "--site", "news", "/old-slug", "--count", "10"}));
  ASSERT_TRUE(total_becomes(d, "news", 110));
  EXPECT_EQ(ok(pvctl(d, {"top", "--site", "news", "--period", "all"})),
            "1\t50\t/budget\n2\t30\t/weather\n3\t20\t/tin/123\n4\t10\t/old-slug\n");

  // adjust: a bot spike of 45 removed from /budget (and from the site).
  EXPECT_EQ(ok(pvctl(d, {"adjust", "news", "/budget", "-45", "--reason", "bot spike"})),
            "adjusted news /budget by -45: article total 50 -> 5, site total 110 -> 65\n");
  // rename: /old-slug becomes /new-slug, history included.
  EXPECT_EQ(ok(pvctl(d, {"rename", "news", "/old-slug", "/new-slug", "--reason", "slug changed"})),
            "renamed /old-slug to /new-slug on news: 10 views moved, with the history of 1 days; "
            "/new-slug has 0 -> 10\n");
  // merge: /tin/123 was the same page as /weather.
  EXPECT_EQ(ok(pvctl(d, {"merge", "news", "/tin/123", "/weather"})),
            "merged /tin/123 into /weather on news: 20 views moved, with the history of 1 days; "
            "/weather has 30 -> 50\n");

  // get: all-time totals and today's counts moved with them.
  EXPECT_EQ(
      ok(pvctl(d, {"get", "--site", "news", "/budget", "/weather", "/tin/123", "/old-slug",
                   "/new-slug"})),
      "/budget\t5\t50\n/weather\t50\t50\n/tin/123\t0\t0\n/old-slug\t0\t0\n/new-slug\t10\t10\n");
  EXPECT_EQ(ok(pvctl(d, {"total", "--site", "news"})), "65\n");  // rename/merge keep it
  // top, all-time and today.
  EXPECT_EQ(ok(pvctl(d, {"top", "--site", "news", "--period", "all"})),
            "1\t50\t/weather\n2\t10\t/new-slug\n3\t5\t/budget\n");
  EXPECT_EQ(ok(pvctl(d, {"top", "--site", "news", "--period", "day", "-n", "2"})),
            "1\t50\t/budget\n2\t50\t/weather\n");  // today's history was not adjusted
  EXPECT_EQ(ok(pvctl(d, {"top", "--site", "news", "--period", "week", "-n", "1"})),
            "1\t50\t/budget\n");  // a tie: by id

  // audit: all three, in order, with who and why.
  const auto lines = split_lines(ok(pvctl(d, {"audit"})));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("  adjust  by="), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("reason=\"bot spike\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"article_total\":{\"before\":50,\"after\":5}"), std::string::npos);
  EXPECT_NE(lines[1].find("  rename  by="), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("\"from\":\"/old-slug\",\"to\":\"/new-slug\""), std::string::npos);
  EXPECT_NE(lines[2].find("  merge   by="), std::string::npos) << lines[2];
  EXPECT_NE(lines[0].find("peer=127.0.0.1 auth=loopback"), std::string::npos) << lines[0];
  const std::string mine = ok(pvctl(d, {"--by", "alice@portal-1", "audit", "--json"}));
  EXPECT_NE(mine.find("\"action\":\"merge\""), std::string::npos);
  EXPECT_EQ(split_lines(ok(pvctl(d, {"audit", "--since", "1h"}))).size(), 3u);
  EXPECT_EQ(split_lines(ok(pvctl(d, {"audit", "--since", "2999-01-01"}))).size(), 0u);
  EXPECT_EQ(split_lines(ok(pvctl(d, {"audit", "--limit", "2"}))).size(), 2u);

  // A view arriving for the new id after the rename adds to it.
  ok(pvctl(d, {"hit", "--site", "news", "/new-slug"}));
  ASSERT_TRUE(total_becomes(d, "news", 66));
  EXPECT_EQ(fetch_views(d.ports().http, "news", {"/new-slug"}).articles.at("/new-slug").total, 11u);
  EXPECT_TRUE(d.stop().ok());
}

TEST_F(admin_changes_test, RefusedChangesChangeNothing) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  ok(pvctl(d, {"hit", "--site", "news", "/a", "--count", "5"}));
  ok(pvctl(d, {"hit", "--site", "news", "/b", "--count", "1"}));
  ASSERT_TRUE(total_becomes(d, "news", 6));
  const std::string before = ok(pvctl(d, {"export", "--daily"}));
  struct row {
    std::vector<std::string> args;
    std::string err;
  };
  const row table[] = {
      {{"adjust", "news", "/a", "-6", "--reason", "x"},
       "pvctl: server answered 400: refused: article_total is 5; subtracting 6 would make it "
       "negative\n"},
      {{"adjust", "news", "/a", "-5", "--day", "20200101", "--reason", "x"},
       "pvctl: server answered 400: refused: article_day is 0; subtracting 5 would make it "
       "negative\n"},
      {{"rename", "news", "/a", "/b"},
       "pvctl: server answered 409: /b already has counts on site news; merge /a into it "
       "instead\n"},
      {{"merge", "news", "/zz", "/a"},
       "pvctl: server answered 404: /zz has no counts on site news\n"},
      {{"adjust", "news", "/a", "0", "--reason", "x"},
       "pvctl: server answered 400: bad_request: delta must be a non-zero whole number, e.g. 250 "
       "or -40\n"},
  };
  for (const auto& r : table) {
    SCOPED_TRACE(r.args[0]);
    const command_result c = pvctl(d, r.args);
    EXPECT_EQ(c.status.code, 4) << c.status.describe();
    EXPECT_EQ(c.err, r.err);
    EXPECT_EQ(c.out, "");
  }
  // Usage errors never reach the server: exit 2.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"adjust", "news", "/a", "5"},  // no --reason
        std::vector<std::string>{"top", "--period", "year"}, std::vector<std::string>{"frobnicate"},
        std::vector<std::string>{"audit", "--since", "last tuesday"},
        std::vector<std::string>{"import", "/nonexistent/file.csv"}}) {
    const command_result c = pvctl(d, args);
    EXPECT_EQ(c.status.code, 2) << args[0] << ": " << c.err;
  }
  EXPECT_EQ(ok(pvctl(d, {"export", "--daily"})), before);
  EXPECT_EQ(ok(pvctl(d, {"audit"})), "");
  EXPECT_TRUE(d.stop().ok());
}

TEST_F(admin_changes_test, StatsAndHelp) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  ok(pvctl(d, {"hit", "--site", "news", "/a", "--count", "5"}));
  http_once(d.ports().http, "GET", "/hit?s=news");  // bad_article
  ASSERT_TRUE(total_becomes(d, "news", 5));
  const std::string human = ok(pvctl(d, {"stats"}));
  EXPECT_EQ(human.rfind("pvcd 0.", 0), 0u) << human;
  EXPECT_NE(human.find("admin 1 hits (5 views)"), std::string::npos) << human;
  EXPECT_NE(human.find("http/bad_article 1"), std::string::npos) << human;
  EXPECT_NE(human.find("last flush: 20"), std::string::npos) << human;
  const std::string json = ok(pvctl(d, {"stats", "--json"}));
  for (const char* key : {"\"version\":", "\"uptime_seconds\":", "\"hits_per_second\":",
                          "\"rejected\":", "\"tracked_keys\":", "\"last_flush\":{", "\"seq\":"}) {
    EXPECT_NE(json.find(key), std::string::npos) << key << " in " << json;
  }
  // Every command has --help with an example; the top-level help lists the exit codes.
  for (const char* cmd : {"total", "get", "hit", "top", "stats", "import", "export", "adjust",
                          "rename", "merge", "audit", "backup", "restore"}) {
    const command_result h = run_command({pvctl_binary(), cmd, "--help"});
    EXPECT_TRUE(h.status.ok()) << cmd;
    EXPECT_NE(h.out.find("Example: pvctl " + std::string(cmd)), std::string::npos) << cmd << ":\n"
                                                                                   << h.out;
  }
  const command_result h = run_command({pvctl_binary(), "--help"});
  EXPECT_NE(h.out.find("5 not authorized"), std::string::npos) << h.out;
  // A server that is not there: exit 3.
  const reserved_port dead;
  const command_result c = pvctl_at("http://127.0.0.1:" + std::to_string(dead.port()), {"stats"});
  EXPECT_EQ(c.status.code, 3) << c.err;
  EXPECT_TRUE(d.stop().ok());
}

}  // namespace
}  // namespace pvc::test
