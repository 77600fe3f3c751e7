#pragma once
// pvcd's configuration: one table of keys (name, type, bounds, default, help)
// drives the TOML file, the command-line flags (the key with '-' for '_')
// and --help. Flags override the file. Any unknown key or bad value is an
// error naming the key.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config_values.hpp"

namespace pvc {

struct config {
  endpoint http{"127.0.0.1", 8080};
  endpoint udp{"127.0.0.1", 8080};
  endpoint admin{"127.0.0.1", 8081};
  std::string data_dir = "pvcd-data";
  std::chrono::milliseconds flush_interval{1000};
  unsigned threads = 0;  // 0 = one per core, resolved at load time
  std::string timezone = "Asia/Ho_Chi_Minh";
  std::string log_level = "info";
  std::size_t max_sites = 1000;
  std::chrono::milliseconds http_idle_timeout{30'000};
  std::size_t http_max_body = 16 * 1024;
  std::size_t udp_receive_buffer = 64u << 20;
  bool sync_writes = true;

  // Who the client is, and what the widget may show to whom.
  std::vector<std::string> trusted_proxies;  // CIDRs whose X-Forwarded-For/Forwarded is believed
  std::vector<std::string> cors_origins{"*"};
  std::chrono::milliseconds online_window{5 * 60'000};
  std::chrono::milliseconds dedupe_window{0};  // 0 = off
  std::string bot_list_file;                   // "" = the list built into pvcd

  // Admin API.
  std::string admin_token_file;  // "" = mutating admin routes only for loopback peers

  // Abuse and resource bounds.
  double rate_limit = 0;  // beacons per second per client IP; 0 = off
  unsigned rate_limit_burst = 20;
  std::string beacon_secret_file;  // set: every beacon needs a valid t= token
  std::size_t max_tracked_keys = 5'000'000;
  std::size_t max_new_keys_per_second = 20'000;
  std::size_t http_max_connections = 10'000;
  // Cluster mode (README "Running several nodes"): empty = the embedded store alone.
  std::vector<std::string> redis_cluster;  // seed nodes, HOST:PORT
  std::string node_name;                   // "" = the host name, resolved at load time
  std::string redis_password_file;         // "" = no AUTH
  std::chrono::milliseconds redis_timeout{1000};
  unsigned redis_wait_replicas = 1;
  bool redis_read_replicas = false;
  std::size_t outbox_max_bytes = std::size_t{1} << 30;
  unsigned outbox_drain_rate = 200;  // flushes a second after an outage

  // Article titles (ingest/beacon_titles.hpp, core/title_table.hpp).
  std::string beacon_titles = "off";  // off, signed or trusted_proxies
  std::chrono::milliseconds title_change_interval{3600'000};
  std::size_t max_titles = 1'000'000;
  std::size_t max_titles_per_site = 100'000;
};

// A setting that holds only with another one ("" when consistent), checked
// at start-up: beacon_titles = signed needs beacon_secret_file, and
// trusted_proxies needs trusted_proxies.
std::string check_config_consistency(const config& cfg);

// What load_config decided: run with `cfg`, or exit now with `exit_code`
// after printing `message` (help, version or an error) to stdout/stderr.
struct config_outcome {
  std::optional<config> cfg;
  int exit_code = 0;
  std::string message;
};

config_outcome load_config(int argc, char** argv);

// Applies one key from text, as a flag would; "" on success, else the error.
// Exposed for tests.
std::string set_config_key(config& cfg, const std::string& key, const std::string& value);

// Applies a whole config file given as text, as --config FILE would (`source`
// names it in errors); "" on success, else the error. For the fuzz target.
std::string apply_config_text(config& cfg, std::string_view toml_text, const std::string& source);

// Keys whose values differ between a and b (for SIGHUP: what needs a restart).
std::vector<std::string> changed_keys(const config& a, const config& b);

// Copies one key's value from `from` into `to`.
void copy_config_key(config& to, const config& from, const std::string& key);

// Every key with its help line, for docs and --help.
struct config_key_doc {
  std::string name;
  std::string type;
  std::string default_value;
  std::string help;
};
std::vector<config_key_doc> config_key_docs();

}  // namespace pvc
