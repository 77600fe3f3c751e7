#include "app/config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace pvc {
namespace {

using namespace std::chrono_literals;

// load_config over a list of arguments (argv[0] is added).
config_outcome load(std::vector<std::string> args) {
  args.insert(args.begin(), "pvcd");
  std::vector<char*> argv;
  for (std::string& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  return load_config(static_cast<int>(args.size()), argv.data());
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(SetConfigKey, MustAccept) {
  struct row {
    std::string key;
    std::string value;
    std::function<bool(const config&)> holds;
  };
  const row table[] = {
      {"http", "127.0.0.1:9000",
       [](const config& c) {
         return c.http == endpoint{"127.0.0.1", 9000};
       }},
      {"udp", "localhost:0",
       [](const config& c) {
         return c.udp == endpoint{"127.0.0.1", 0};
       }},
      {"admin", "[::1]:8081",
       [](const config& c) {
         return c.admin == endpoint{"::1", 8081};
       }},
      {"data_dir", "/var/lib/pvcd", [](const config& c) { return c.data_dir == "/var/lib/pvcd"; }},
      {"flush_interval", "10ms", [](const config& c) { return c.flush_interval == 10ms; }},
      {"flush_interval", "60s", [](const config& c) { return c.flush_interval == 60s; }},
      {"flush_interval", "250ms", [](const config& c) { return c.flush_interval == 250ms; }},
      {"threads", "1", [](const config& c) { return c.threads == 1; }},
      {"threads", "64", [](const config& c) { return c.threads == 64; }},
      {"timezone", "Europe/Berlin", [](const config& c) { return c.timezone == "Europe/Berlin"; }},
      {"log_level", "debug", [](const config& c) { return c.log_level == "debug"; }},
      {"log_level", "off", [](const config& c) { return c.log_level == "off"; }},
      {"max_sites", "1", [](const config& c) { return c.max_sites == 1; }},
      {"max_sites", "1000000", [](const config& c) { return c.max_sites == 1000000; }},
      {"http_idle_timeout", "100ms", [](const config& c) { return c.http_idle_timeout == 100ms; }},
      {"http_idle_timeout", "1h", [](const config& c) { return c.http_idle_timeout == 1h; }},
      {"http_max_body", "64", [](const config& c) { return c.http_max_body == 64; }},
      {"http_max_body", "1MiB", [](const config& c) { return c.http_max_body == 1u << 20; }},
      {"udp_receive_buffer", "64KiB",
       [](const config& c) { return c.udp_receive_buffer == 65536; }},
      {"udp_receive_buffer", "1GiB",
       [](const config& c) { return c.udp_receive_buffer == 1u << 30; }},
      {"sync_writes", "false", [](const config& c) { return !c.sync_writes; }},
  };
  for (const row& r : table) {
    SCOPED_TRACE(r.key + "=" + r.value);
    config c;
    EXPECT_EQ(set_config_key(c, r.key, r.value), "");
    EXPECT_TRUE(r.holds(c));
  }
}

TEST(SetConfigKey, MustRejectNamingTheKeyAndValue) {
  struct row {
    std::string key;
    std::string value;
  };
  const row table[] = {
      {"http", "example.com:80"},
      {"http", "127.0.0.1"},
      {"udp", "127.0.0.1:65536"},
      {"admin", "[::1"},
      {"data_dir", ""},
      {"flush_interval", "9ms"},  // bounds 10ms..60s
      {"flush_interval", "61s"},
      {"flush_interval", "1"},
      {"flush_interval", "1d"},
      {"threads", "0"},  // bounds 1..64
      {"threads", "65"},
      {"threads", "-1"},
      {"threads", "4x"},
      {"threads", ""},
      {"threads", "99999999999999999999999"},
      {"beacon_titles", "on"},
      {"beacon_titles", "Signed"},
      {"title_change_interval", "0s"},  // bounds 1s..30d
      {"title_change_interval", "721h"},
      {"max_titles", "0"},
      {"max_titles_per_site", "50000001"},
      {"timezone", "../etc/passwd"},
      {"timezone", "/etc/localtime"},
      {"timezone", ""},
      {"log_level", "verbose"},
      {"log_level", "INFO"},
      {"max_sites", "0"},
      {"max_sites", "1000001"},
      {"http_idle_timeout", "99ms"},
      {"http_idle_timeout", "61m"},
      {"http_max_body", "63"},
      {"http_max_body", "2MiB"},
      {"http_max_body", "16kb"},
      {"udp_receive_buffer", "1KiB"},
      {"udp_receive_buffer", "2GiB"},
      {"sync_writes", "yes"},
      {"sync_writes", "1"},
      {"sync_writes", "True"},
  };
  for (const row& r : table) {
    SCOPED_TRACE(r.key + "=" + r.value);
    const config before;
    config c;
    const std::string err = set_config_key(c, r.key, r.value);
    ASSERT_NE(err, "");
    EXPECT_TRUE(contains(err, r.key)) << err;
    EXPECT_TRUE(contains(err, "'" + r.value + "'")) << err;
    // A refused value leaves the setting as it was.
    EXPECT_EQ(c.http, before.http);
    EXPECT_EQ(c.flush_interval, before.flush_interval);
    EXPECT_EQ(c.threads, before.threads);
    EXPECT_EQ(c.max_sites, before.max_sites);
    EXPECT_EQ(c.http_max_body, before.http_max_body);
    EXPECT_EQ(c.udp_receive_buffer, before.udp_receive_buffer);
    EXPECT_EQ(c.sync_writes, before.sync_writes);
    EXPECT_EQ(c.timezone, before.timezone);
    EXPECT_EQ(c.log_level, before.log_level);
    EXPECT_EQ(c.data_dir, before.data_dir);
  }
}

TEST(LoadConfig, BeaconTitlesNeedWhatTheyTrust) {
  // Titles from beacons are off unless asked for, and each way needs its
  // other key: a signed title needs the secret, a proxy's title the proxies.
  EXPECT_EQ(config{}.beacon_titles, "off");
  const config_outcome no_secret = load({"--beacon-titles", "signed"});
  EXPECT_FALSE(no_secret.cfg);
  EXPECT_EQ(no_secret.exit_code, 2);
  EXPECT_TRUE(contains(no_secret.message, "beacon_titles: 'signed' needs beacon_secret_file"))
      << no_secret.message;
  const config_outcome no_proxies = load({"--beacon-titles", "trusted_proxies"});
  EXPECT_FALSE(no_proxies.cfg);
  EXPECT_TRUE(contains(no_proxies.message, "needs trusted_proxies")) << no_proxies.message;
  const config_outcome ok =
      load({"--beacon-titles", "trusted_proxies", "--trusted-proxies", "10.0.0.0/8"});
  ASSERT_TRUE(ok.cfg) << ok.message;
  EXPECT_EQ(ok.cfg->beacon_titles, "trusted_proxies");
}

TEST(SetConfigKey, UnknownKeyIsRejected) {
  for (const std::string key : {"bogus", "flush-interval", "HTTP", "", "threads "}) {
    SCOPED_TRACE("'" + key + "'");
    config c;
    const std::string err = set_config_key(c, key, "1");
    ASSERT_NE(err, "");
    EXPECT_TRUE(contains(err, "'" + key + "'")) << err;
  }
}

TEST(ConfigKeyDocs, DocumentedDefaultsAreTheRealDefaults) {
  // Where the documented default is a value (not prose such as "number of
  // cores"), setting it must leave a default config unchanged.
  const config defaults;
  std::vector<std::string> checked;
  for (const config_key_doc& d : config_key_docs()) {
    SCOPED_TRACE(d.name + " default " + d.default_value);
    EXPECT_FALSE(d.help.empty());
    EXPECT_FALSE(d.type.empty());
    // Prose defaults: "number of cores", "(none)", "(built in)".
    if (d.default_value.empty() || d.default_value.front() == '(') continue;
    config c;
    if (set_config_key(c, d.name, d.default_value) != "") continue;
    EXPECT_EQ(changed_keys(defaults, c), std::vector<std::string>{});
    checked.push_back(d.name);
  }
  // At least these keys document their default as a value.
  for (const char* key :
       {"http", "udp", "admin", "data_dir", "flush_interval", "timezone", "log_level", "max_sites",
        "http_idle_timeout", "http_max_body", "udp_receive_buffer", "sync_writes"}) {
    EXPECT_NE(std::find(checked.begin(), checked.end(), key), checked.end()) << key;
  }
}

TEST(ConfigKeyDocs, NonDefaultValuesAreSeenAsChanges) {
  // The same check the other way: a changed value is visible to
  // changed_keys, so the documented-default test above can fail.
  const config defaults;
  config c;
  ASSERT_EQ(set_config_key(c, "flush_interval", "2s"), "");
  EXPECT_EQ(changed_keys(defaults, c), std::vector<std::string>{"flush_interval"});
}

TEST(LoadConfig, NoArgumentsGivesDefaults) {
  const config_outcome out = load({});
  ASSERT_TRUE(out.cfg.has_value()) << out.message;
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_EQ(out.cfg->http, (endpoint{"127.0.0.1", 8080}));
  EXPECT_EQ(out.cfg->flush_interval, 1s);
  EXPECT_GE(out.cfg->threads, 1u);  // 0 resolves to the core count
}

TEST(LoadConfig, HelpListsEveryKeyAsAFlag) {
  const config_outcome out = load({"--help"});
  EXPECT_FALSE(out.cfg.has_value());
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_TRUE(contains(out.message, "--config")) << out.message;
  for (const config_key_doc& d : config_key_docs()) {
    std::string flag = "--" + d.name;
    std::replace(flag.begin(), flag.end(), '_', '-');
    EXPECT_TRUE(contains(out.message, flag)) << flag << " missing from:\n" << out.message;
  }
}

TEST(LoadConfig, VersionPrintsAndExits) {
  const config_outcome out = load({"--version"});
  EXPECT_FALSE(out.cfg.has_value());
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_EQ(out.message.rfind("pvcd ", 0), 0u) << out.message;
}

TEST(LoadConfig, BadCommandLinesExitWith2) {
  struct row {
    std::vector<std::string> args;
    std::string mentions;
  };
  const row table[] = {
      {{"--bogus"}, "bogus"},
      {{"--flush_interval", "1s"}, "flush_interval"},  // flags use '-', not '_'
      {{"--threads", "0"}, "threads"},
      {{"--flush-interval", "1d"}, "flush_interval"},
      {{"--http", "example.com:80"}, "http"},
      {{"--max-sites"}, "max-sites"},  // value missing
      {{"stray"}, "stray"},
      {{"--config", "/nonexistent/pvcd.toml"}, "/nonexistent/pvcd.toml"},
  };
  for (const row& r : table) {
    SCOPED_TRACE(r.args[0]);
    const config_outcome out = load(r.args);
    EXPECT_FALSE(out.cfg.has_value());
    EXPECT_EQ(out.exit_code, 2);
    EXPECT_TRUE(contains(out.message, r.mentions)) << out.message;
  }
}

TEST(LoadConfig, FlagsSetValues) {
  const config_outcome out =
      load({"--flush-interval", "250ms", "--max-sites=5", "--sync-writes", "false", "--http",
            "[::1]:0", "--threads", "3", "--timezone", "Europe/Berlin"});
  ASSERT_TRUE(out.cfg.has_value()) << out.message;
  EXPECT_EQ(out.cfg->flush_interval, 250ms);
  EXPECT_EQ(out.cfg->max_sites, 5u);
  EXPECT_FALSE(out.cfg->sync_writes);
  EXPECT_EQ(out.cfg->http, (endpoint{"::1", 0}));
  EXPECT_EQ(out.cfg->threads, 3u);
  EXPECT_EQ(out.cfg->timezone, "Europe/Berlin");
}

TEST(LoadConfig, CheckConfigReportsAndExits) {
  const config_outcome good = load({"--check-config", "--threads", "2"});
  EXPECT_FALSE(good.cfg.has_value()) << "--check-config must not start the daemon";
  EXPECT_EQ(good.exit_code, 0);
  EXPECT_TRUE(contains(good.message, "ok")) << good.message;

  const config_outcome bad = load({"--check-config", "--threads", "0"});
  EXPECT_FALSE(bad.cfg.has_value());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(contains(bad.message, "threads")) << bad.message;
}

TEST(ChangedKeys, NamesEveryKeyThatDiffers) {
  struct row {
    std::string key;
    std::string value;
  };
  const row table[] = {
      {"http", "127.0.0.1:1"},       {"udp", "127.0.0.1:1"},    {"admin", "127.0.0.1:1"},
      {"data_dir", "/elsewhere"},    {"flush_interval", "2s"},  {"threads", "7"},
      {"timezone", "Europe/Berlin"}, {"log_level", "debug"},    {"max_sites", "5"},
      {"http_idle_timeout", "1m"},   {"http_max_body", "1KiB"}, {"udp_receive_buffer", "1MiB"},
      {"sync_writes", "false"},
  };
  const config base;
  EXPECT_TRUE(changed_keys(base, base).empty());
  config all;
  std::vector<std::string> all_keys;
  for (const row& r : table) {
    SCOPED_TRACE(r.key);
    config one;
    ASSERT_EQ(set_config_key(one, r.key, r.value), "");
    EXPECT_EQ(changed_keys(base, one), std::vector<std::string>{r.key});
    EXPECT_EQ(changed_keys(one, base), std::vector<std::string>{r.key});
    ASSERT_EQ(set_config_key(all, r.key, r.value), "");
    all_keys.push_back(r.key);
  }
  std::vector<std::string> changed = changed_keys(base, all);
  std::sort(changed.begin(), changed.end());
  std::sort(all_keys.begin(), all_keys.end());
  EXPECT_EQ(changed, all_keys);
}

class ConfigFileTest : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    const std::string path = (dir_.path() / "pvcd.toml").string();
    std::ofstream(path) << text;
    return path;
  }
  test::temp_dir dir_;
};

TEST_F(ConfigFileTest, FileValuesApply) {
  const std::string path = write(
      "http = \"127.0.0.1:9000\"\n"
      "flush_interval = \"5s\"\n"
      "max_sites = 10\n"
      "threads = 2\n"
      "sync_writes = false\n"
      "data_dir = \"/srv/pvcd\"\n");
  const config_outcome out = load({"--config", path});
  ASSERT_TRUE(out.cfg.has_value()) << out.message;
  EXPECT_EQ(out.cfg->http, (endpoint{"127.0.0.1", 9000}));
  EXPECT_EQ(out.cfg->flush_interval, 5s);
  EXPECT_EQ(out.cfg->max_sites, 10u);
  EXPECT_EQ(out.cfg->threads, 2u);
  EXPECT_FALSE(out.cfg->sync_writes);
  EXPECT_EQ(out.cfg->data_dir, "/srv/pvcd");
}

TEST_F(ConfigFileTest, FlagsOverrideTheFile) {
  const std::string path = write(
      "flush_interval = \"5s\"\n"
      "max_sites = 10\n"
      "http = \"127.0.0.1:9000\"\n");
  // Flag position does not matter: before or after --config.
  for (const auto& args :
       {std::vector<std::string>{"--flush-interval", "250ms", "--config", path},
        std::vector<std::string>{"--config", path, "--flush-interval", "250ms"}}) {
    const config_outcome out = load(args);
    ASSERT_TRUE(out.cfg.has_value()) << out.message;
    EXPECT_EQ(out.cfg->flush_interval, 250ms);  // flag wins
    EXPECT_EQ(out.cfg->max_sites, 10u);         // file value kept
    EXPECT_EQ(out.cfg->http, (endpoint{"127.0.0.1", 9000}));
  }
}

TEST_F(ConfigFileTest, BadFileValuesAreRejectedNamingKeyAndPath) {
  struct row {
    std::string toml;
    std::vector<std::string> mentions;
  };
  const row table[] = {
      {"colour = \"blue\"\n", {"colour", "unknown"}},
      {"flush_interval = \"1s\"\nflush-interval = \"1s\"\n", {"flush-interval"}},
      {"flush_interval = \"1d\"\n", {"flush_interval", "1d"}},
      {"flush_interval = 5\n", {"flush_interval"}},  // no unit
      {"threads = 0\n", {"threads"}},
      {"threads = -2\n", {"threads"}},
      {"threads = \"four\"\n", {"threads", "four"}},
      {"max_sites = 2.5\n", {"max_sites"}},  // wrong type
      {"http = \"example.com:80\"\n", {"http", "example.com:80"}},
      {"sync_writes = \"maybe\"\n", {"sync_writes"}},
      {"[server]\nhttp = \"127.0.0.1:1\"\n", {"server"}},  // no tables
      {"http = \n", {"line 1"}},                           // TOML syntax error
  };
  for (const row& r : table) {
    SCOPED_TRACE(r.toml);
    const std::string path = write(r.toml);
    const config_outcome out = load({"--config", path});
    EXPECT_FALSE(out.cfg.has_value());
    EXPECT_EQ(out.exit_code, 2);
    EXPECT_TRUE(contains(out.message, path)) << out.message;
    for (const std::string& m : r.mentions) {
      EXPECT_TRUE(contains(out.message, m)) << m << " not in: " << out.message;
    }
  }
}

TEST_F(ConfigFileTest, AGoodFlagDoesNotRescueABadFile) {
  const std::string path = write("flush_interval = \"1d\"\n");
  const config_outcome out = load({"--config", path, "--flush-interval", "1s"});
  EXPECT_FALSE(out.cfg.has_value());
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_TRUE(contains(out.message, "flush_interval")) << out.message;
}

TEST_F(ConfigFileTest, ABadFlagOverAGoodFileIsRejected) {
  const std::string path = write("max_sites = 10\n");
  const config_outcome out = load({"--config", path, "--max-sites", "0"});
  EXPECT_FALSE(out.cfg.has_value());
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_TRUE(contains(out.message, "max_sites")) << out.message;
}

}  // namespace
}  // namespace pvc
