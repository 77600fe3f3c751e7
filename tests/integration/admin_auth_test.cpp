// The admin API's security against a real pvcd: with admin_token_file set,
// every change needs the token (a wrong or missing one exits 5 and changes
// nothing), reads stay open, the token never reaches the log, SIGHUP
// rotates it; the public listener serves no admin route at all.
#include <signal.h>

#include <string>
#include <vector>

#include "admin_fixture.hpp"

namespace pvc::test {
namespace {

const std::string good_token = "k9Xq2-admin-token-good-0123456789";
const std::string wrong_token = "k9Xq2-admin-token-WRONG-0123456789";
const std::string rotated_token = "k9Xq2-admin-token-rotated-012345";

class admin_auth_test : public admin_test {
 protected:
  daemon_options with_token(const std::filesystem::path& token_file) const {
    daemon_options o = options();
    o.extra_args = {"--admin-token-file", token_file.string()};
    return o;
  }
};

TEST_F(admin_auth_test, AWrongOrMissingTokenIsRefusedAndChangesNothing) {
  const auto token_file = write_file("admin.token", good_token + "\n");
  const auto wrong_file = write_file("wrong.token", wrong_token + "\n");
  daemon_process d;
  ASSERT_TRUE(d.start(with_token(token_file))) << d.error();
  ok(pvctl(d,
           {"--token-file", token_file.string(), "hit", "--site", "news", "/a", "--count", "5"}));
  ASSERT_TRUE(total_becomes(d, "news", 5));
  const auto csv = write_file("in.csv", "news,*,1000\n");
  const std::string backups = (dir_.path() / "backups").string();
  const std::vector<std::vector<std::string>> changes = {
      {"hit", "--site", "news", "/a"},
      {"adjust", "news", "/a", "-1", "--reason", "x"},
      {"rename", "news", "/a", "/b"},
      {"merge", "news", "/a", "/b"},
      {"import", csv.string(), "--mode", "set"},
      {"backup", backups},
  };
  const std::string before = ok(pvctl(d, {"export", "--daily"}));
  for (const auto& change : changes) {
    SCOPED_TRACE(change[0]);
    const command_result none = pvctl(d, change);
    EXPECT_EQ(none.status.code, 5) << none.status.describe() << " " << none.err;
    EXPECT_EQ(none.err,
              "pvctl: server answered 401: unauthorized: this route needs Authorization: Bearer "
              "<admin token> (pvctl sent no token: use --token-file FILE or PVCTL_TOKEN)\n");
    std::vector<std::string> with_file = {"--token-file", wrong_file.string()};
    with_file.insert(with_file.end(), change.begin(), change.end());
    const command_result wrong = pvctl(d, with_file);
    EXPECT_EQ(wrong.status.code, 5);
    EXPECT_EQ(wrong.err, "pvctl: server answered 401: unauthorized: wrong admin token\n");
    const command_result wrong_env = pvctl(d, change, {"PVCTL_TOKEN=" + wrong_token});
    EXPECT_EQ(wrong_env.status.code, 5);
  }
  EXPECT_FALSE(std::filesystem::exists(backups));
  // Nothing changed; reads need no token.
  EXPECT_EQ(ok(pvctl(d, {"export", "--daily"})), before);
  EXPECT_EQ(ok(pvctl(d, {"total", "--site", "news"})), "5\n");
  ok(pvctl(d, {"get", "--site", "news", "/a"}));
  ok(pvctl(d, {"top", "--site", "news"}));
  ok(pvctl(d, {"stats"}));
  EXPECT_EQ(ok(pvctl(d, {"audit"})), "");
  EXPECT_NE(ok(pvctl(d, {"stats", "--json"})).find("\"admin_auth_refused\":18"), std::string::npos);

  // The right token, from the file or the environment, is accepted.
  ok(pvctl(d, {"--token-file", token_file.string(), "adjust", "news", "/a", "2", "--reason",
               "token works"}));
  ok(pvctl(d, {"adjust", "news", "/a", "3", "--reason", "env works"},
           {"PVCTL_TOKEN=" + good_token}));
  EXPECT_EQ(ok(pvctl(d, {"total", "--site", "news"})), "10\n");
  const std::string audit = ok(pvctl(d, {"audit"}));
  EXPECT_NE(audit.find("auth=token reason=\"token works\""), std::string::npos) << audit;

  // The token is in no log line, right or wrong.
  const std::string log = d.log_text();
  EXPECT_EQ(log.find(good_token), std::string::npos);
  EXPECT_EQ(log.find(wrong_token), std::string::npos);
  EXPECT_NE(log.find("event=admin_refused reason=missing_token"), std::string::npos) << log;
  EXPECT_TRUE(d.stop().ok());
}

TEST_F(admin_auth_test, SighupRotatesTheToken) {
  const auto token_file = write_file("admin.token", good_token + "\n");
  daemon_process d;
  ASSERT_TRUE(d.start(with_token(token_file))) << d.error();
  auto hit_with = [&](const std::string& token) {
    return pvctl(d, {"hit", "--site", "news", "/a"}, {"PVCTL_TOKEN=" + token}).status.code;
  };
  EXPECT_EQ(hit_with(good_token), 0);
  EXPECT_EQ(hit_with(rotated_token), 5);

  // Same file, new content: SIGHUP reads it again.
  write_file("admin.token", rotated_token + "\n");
  ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
  ASSERT_TRUE(wait_until([&] { return hit_with(rotated_token) == 0; }));
  EXPECT_EQ(hit_with(good_token), 5);

  // A broken file is refused at reload, and the live token stays.
  write_file("admin.token", "short\n");
  ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
  ASSERT_TRUE(wait_until([&] {
    return d.log_text().find("event=reload_failed key=admin_token_file") != std::string::npos;
  }));
  EXPECT_EQ(hit_with(rotated_token), 0);
  const std::string log = d.log_text();
  EXPECT_EQ(log.find(good_token), std::string::npos);
  EXPECT_EQ(log.find(rotated_token), std::string::npos);
  EXPECT_TRUE(d.stop().ok());
}

TEST_F(admin_auth_test, PvctlFindsServerAndTokenInTheConfigFile) {
  const auto token_file = write_file("admin.token", good_token + "\n");
  daemon_process d;
  ASSERT_TRUE(d.start(with_token(token_file))) << d.error();
  const auto config = write_file(
      "pvcd.toml", "admin = \"127.0.0.1:" + std::to_string(d.ports().admin) +
                       "\"\nadmin_token_file = \"" + token_file.string() + "\"\nthreads = 2\n");
  const command_result r =
      run_command({pvctl_binary(), "--config", config.string(), "hit", "--site", "news", "/c"});
  EXPECT_TRUE(r.status.ok()) << r.err;
  const command_result env = run_command({"/usr/bin/env", "PVCTL_CONFIG=" + config.string(),
                                          pvctl_binary(), "total", "--site", "news"});
  ASSERT_TRUE(total_becomes(d, "news", 1));
  EXPECT_TRUE(env.status.ok()) << env.err;
  EXPECT_TRUE(d.stop().ok());
}

TEST_F(admin_auth_test, AnUnusableTokenFileStopsStartUp) {
  const auto token_file = write_file("admin.token", "short\n");
  daemon_process d;
  EXPECT_FALSE(d.start(with_token(token_file)));
  EXPECT_NE(d.error().find("pvcd: admin_token_file: " + token_file.string() +
                           ": the token is shorter than 16 bytes"),
            std::string::npos)
      << d.error();
}

TEST_F(admin_auth_test, ThePublicListenerServesNoAdminRoute) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  const char* const routes[] = {
      "/metrics",
      "/admin/v1/hit",
      "/admin/v1/top",
      "/admin/v1/stats",
      "/admin/v1/export",
      "/admin/v1/audit",
      "/admin/v1/jobs",
      "/admin/v1/adjust",
      "/admin/v1/rename",
      "/admin/v1/merge",
      "/admin/v1/import/start",
      "/admin/v1/import/chunk",
      "/admin/v1/import/commit",
      "/admin/v1/import/abort",
      "/admin/v1/backup",
  };
  http_connection pub(d.ports().http);
  http_connection adm(d.ports().admin);
  ASSERT_TRUE(pub.connected() && adm.connected());
  for (const char* route : routes) {
    for (const char* method : {"GET", "POST"}) {
      SCOPED_TRACE(std::string(method) + " " + route);
      const http_reply r = pub.request(method, std::string(route) + "?s=news&a=x&delta=5&reason=r");
      EXPECT_EQ(r.status, 404) << r.error;
      EXPECT_EQ(r.body, "not found\n");
    }
    // ... while the admin listener knows each one (a 405 or its own answer).
    const http_reply a = adm.request("GET", route);
    EXPECT_NE(a.body, "not found\n") << route;
  }
  EXPECT_EQ(ok(pvctl(d, {"audit"})), "");
  EXPECT_EQ(fetch_views(d.ports().http, "news").total, 0u);
  EXPECT_TRUE(d.stop().ok());
}

}  // namespace
}  // namespace pvc::test
