// The example configuration shipped in the .deb lists every key pvcd knows,
// and parses as shipped and with every key uncommented.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "app/config.hpp"
#include "test_support.hpp"

namespace {

std::string example_text() {
  std::ifstream in(PVC_EXAMPLE_CONFIG);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ConfigExample, ListsEveryKey) {
  const std::string text = example_text();
  ASSERT_FALSE(text.empty()) << PVC_EXAMPLE_CONFIG;
  for (const auto& key : pvc::config_key_docs()) {
    EXPECT_NE(text.find("\n#" + key.name + " = "), std::string::npos)
        << key.name << " is missing from packaging/pvcd.toml";
  }
}

TEST(ConfigExample, UncommentedDefaultsAreValidAndChangeNothing) {
  // Every "#key = value" line made live must load and equal the defaults
  // (threads aside: its default is the number of cores).
  pvc::config defaults;
  std::istringstream lines(example_text());
  std::regex live(R"(^#([a-z_]+) = (.*)$)");
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, live) || m[1] == "threads") continue;
    std::string value = m[2];
    if (value.size() >= 2 && value.front() == '"') value = value.substr(1, value.size() - 2);
    if (value.size() >= 2 && value.front() == '[') {
      value = value.substr(1, value.size() - 2);
      value = std::regex_replace(value, std::regex(R"(\")"), "");
    }
    pvc::config c;
    EXPECT_EQ(pvc::set_config_key(c, m[1], value), "") << line;
    EXPECT_TRUE(pvc::changed_keys(defaults, c).empty()) << line << " is not the default";
  }
}

TEST(ConfigExample, ChangedKeysAndCopyCoverEveryKey) {
  // A key that changed_keys misses would be silently ignored by SIGHUP. One
  // non-default value per key; a new key without a row here fails the test.
  const std::map<std::string, std::string> other = {
      {"http", "127.0.0.1:9"},
      {"udp", "127.0.0.1:9"},
      {"admin", "127.0.0.1:9"},
      {"data_dir", "elsewhere"},
      {"flush_interval", "2s"},
      {"threads", "3"},
      {"timezone", "UTC"},
      {"log_level", "debug"},
      {"max_sites", "7"},
      {"http_idle_timeout", "5s"},
      {"http_max_body", "1KiB"},
      {"udp_receive_buffer", "1MiB"},
      {"sync_writes", "false"},
      {"trusted_proxies", "10.0.0.0/8"},
      {"cors_origins", "https://portal.gov.vn"},
      {"online_window", "10m"},
      {"dedupe_window", "30m"},
      {"bot_list_file", "/etc/pvcd/bots.txt"},
      {"admin_token_file", "/etc/pvcd/token"},
      {"rate_limit", "5"},
      {"rate_limit_burst", "3"},
      {"beacon_secret_file", "/etc/pvcd/secret"},
      {"max_tracked_keys", "5000"},
      {"max_new_keys_per_second", "50"},
      {"http_max_connections", "100"},
      {"redis_cluster", "127.0.0.1:7001,127.0.0.1:7002"},
      {"node_name", "pvcd-2.tinh.gov.vn"},
      {"redis_password_file", "/etc/pvcd/redis-password"},
      {"redis_timeout", "250ms"},
      {"redis_wait_replicas", "0"},
      {"redis_read_replicas", "true"},
      {"outbox_max_bytes", "64MiB"},
      {"outbox_drain_rate", "10"},
      {"beacon_titles", "signed"},
      {"title_change_interval", "10m"},
      {"max_titles", "500"},
      {"max_titles_per_site", "50"},
  };
  for (const auto& key : pvc::config_key_docs()) {
    SCOPED_TRACE(key.name);
    auto it = other.find(key.name);
    ASSERT_NE(it, other.end()) << "add a row for the new key";
    pvc::config a, b;
    a.threads = b.threads = 2;
    ASSERT_EQ(pvc::set_config_key(b, key.name, it->second), "");
    EXPECT_EQ(pvc::changed_keys(a, b), std::vector<std::string>{key.name});
    pvc::copy_config_key(a, b, key.name);
    EXPECT_TRUE(pvc::changed_keys(a, b).empty());
  }
}

}  // namespace
