#include "app/config.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <toml++/toml.h>
#include <charconv>
#include <functional>
#include <map>
#include <thread>

#include <unistd.h>

#include <cctype>

#include "cluster/node_address.hpp"
#include "core/calendar.hpp"
#include "core/client_ip.hpp"
#include "version.hpp"

namespace pvc {
namespace {

using setter = std::function<std::string(config&, const std::string&)>;

struct key_spec {
  std::string name;
  std::string type;  // as shown in --help
  std::string default_value;
  std::string help;
  setter set;
};

std::string bad(const std::string& key, const std::string& value, const std::string& why) {
  return fmt::format("{}: invalid value '{}': {}", key, value, why);
}

setter endpoint_key(endpoint config::*field, const char* key) {
  return [=](config& c, const std::string& v) -> std::string {
    auto e = parse_endpoint(v);
    if (!e) return bad(key, v, "expected HOST:PORT with a numeric host, e.g. 127.0.0.1:8080");
    c.*field = *e;
    return {};
  };
}

setter duration_key(std::chrono::milliseconds config::*field, const char* key,
                    std::chrono::milliseconds lo, std::chrono::milliseconds hi) {
  return [=](config& c, const std::string& v) -> std::string {
    auto d = parse_duration(v);
    if (!d) return bad(key, v, "expected a duration such as 250ms, 1s, 5m");
    if (*d < lo || *d > hi) {
      return bad(key, v,
                 fmt::format("must be within {}..{}", format_duration(lo), format_duration(hi)));
    }
    c.*field = *d;
    return {};
  };
}

template <class T>
setter integer_key(T config::*field, const char* key, std::uint64_t lo, std::uint64_t hi) {
  return [=](config& c, const std::string& v) -> std::string {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || end != v.data() + v.size()) return bad(key, v, "expected an integer");
    if (n < lo || n > hi) return bad(key, v, fmt::format("must be within {}..{}", lo, hi));
    c.*field = static_cast<T>(n);
    return {};
  };
}

setter size_key(std::size_t config::*field, const char* key, std::uint64_t lo, std::uint64_t hi) {
  return [=](config& c, const std::string& v) -> std::string {
    auto n = parse_size(v);
    if (!n) return bad(key, v, "expected a size such as 65536, 64KiB, 8MiB");
    if (*n < lo || *n > hi) return bad(key, v, fmt::format("must be within {}..{} bytes", lo, hi));
    c.*field = static_cast<std::size_t>(*n);
    return {};
  };
}

// A list: a TOML array of strings, or comma-separated text on the command line.
setter list_key(std::vector<std::string> config::*field, const char* key,
                std::function<std::string(const std::string&)> check) {
  return [=](config& c, const std::string& v) -> std::string {
    std::vector<std::string> items;
    std::size_t start = 0;
    while (start <= v.size()) {
      std::size_t comma = v.find(',', start);
      std::string item =
          v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      while (!item.empty() && item.front() == ' ')
        item.erase(item.begin());
      while (!item.empty() && item.back() == ' ')
        item.pop_back();
      if (!item.empty()) {
        if (auto why = check(item); !why.empty()) return bad(key, item, why);
        items.push_back(item);
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    c.*field = std::move(items);
    return {};
  };
}

setter path_key(std::string config::*field) {
  return [=](config& c, const std::string& v) -> std::string {
    c.*field = v;
    return {};
  };
}

const std::vector<key_spec>& key_table() {
  using namespace std::chrono_literals;
  static const std::vector<key_spec> table = {
      {"http", "HOST:PORT", "127.0.0.1:8080",
       "public HTTP listener (beacons, read API); port 0 picks a free port",
       endpoint_key(&config::http, "http")},
      {"udp", "HOST:PORT", "127.0.0.1:8080",
       "UDP listener for 'SITE ARTICLE [COUNT]' lines; port 0 picks a free port",
       endpoint_key(&config::udp, "udp")},
      {"admin", "HOST:PORT", "127.0.0.1:8081",
       "admin HTTP listener (/metrics, pvctl); keep it on loopback",
       endpoint_key(&config::admin, "admin")},
      {"data_dir", "DIR", "pvcd-data", "directory of the RocksDB store (created if missing)",
       [](config& c, const std::string& v) -> std::string {
         if (v.empty()) return bad("data_dir", v, "must not be empty");
         c.data_dir = v;
         return {};
       }},
      {"flush_interval", "DURATION", "1s",
       "how often counts are written to the store (10ms..60s); a crash loses at most this much",
       duration_key(&config::flush_interval, "flush_interval", 10ms, 60s)},
      {"threads", "N", "number of cores",
       "I/O threads (1..64), each with its own sockets and counter shard",
       integer_key(&config::threads, "threads", 1, 64)},
      {"timezone", "NAME", "Asia/Ho_Chi_Minh", "IANA time zone whose midnight starts a new day",
       [](config& c, const std::string& v) -> std::string {
         if (v.empty() || v.front() == '/' || v.find("..") != std::string::npos) {
           return bad("timezone", v, "expected an IANA zone name such as Asia/Ho_Chi_Minh");
         }
         c.timezone = v;
         return {};
       }},
      {"log_level", "LEVEL", "info", "trace, debug, info, warn, error or off",
       [](config& c, const std::string& v) -> std::string {
         static const std::vector<std::string> levels = {"trace", "debug", "info",
                                                         "warn",  "error", "off"};
         if (std::find(levels.begin(), levels.end(), v) == levels.end()) {
           return bad("log_level", v, "expected trace, debug, info, warn, error or off");
         }
         c.log_level = v;
         return {};
       }},
      {"max_sites", "N", "1000",
       "most sites counted (1..1000000); hits for new sites past it are rejected (site_limit)",
       integer_key(&config::max_sites, "max_sites", 1, 1'000'000)},
      {"http_idle_timeout", "DURATION", "30s",
       "close an HTTP connection idle this long (100ms..1h)",
       duration_key(&config::http_idle_timeout, "http_idle_timeout", 100ms, 1h)},
      {"http_max_body", "SIZE", "16KiB", "largest beacon request body accepted (64..1MiB)",
       size_key(&config::http_max_body, "http_max_body", 64, 1u << 20)},
      {"udp_receive_buffer", "SIZE", "64MiB", "SO_RCVBUF asked for each UDP socket (64KiB..1GiB)",
       size_key(&config::udp_receive_buffer, "udp_receive_buffer", 64u << 10, 1u << 30)},
      {"sync_writes", "BOOL", "true", "fsync the store's log on every flush (survives power loss)",
       [](config& c, const std::string& v) -> std::string {
         if (v == "true")
           c.sync_writes = true;
         else if (v == "false")
           c.sync_writes = false;
         else
           return bad("sync_writes", v, "expected true or false");
         return {};
       }},
      {"trusted_proxies", "LIST", "(none)",
       "CIDRs of reverse proxies whose X-Forwarded-For/Forwarded names the client, e.g. "
       "127.0.0.1/32",
       list_key(&config::trusted_proxies, "trusted_proxies",
                [](const std::string& item) {
                  return parse_cidr(item) ? std::string()
                                          : std::string("expected an address or CIDR network");
                })},
      {"cors_origins", "LIST", "*",
       "origins whose pages may read the counts (Access-Control-Allow-Origin); * for any",
       list_key(&config::cors_origins, "cors_origins",
                [](const std::string& item) {
                  if (item == "*" || item.rfind("http://", 0) == 0 ||
                      item.rfind("https://", 0) == 0)
                    return std::string();
                  return std::string("expected * or an origin such as https://portal.gov.vn");
                })},
      {"online_window", "DURATION", "5m",
       "a visitor counts as online this long after a view (1m..1h)",
       duration_key(&config::online_window, "online_window", 1min, 1h)},
      {"dedupe_window", "DURATION", "0s",
       "count one visitor's repeated views of one article once within this (0s = off, up to 24h)",
       duration_key(&config::dedupe_window, "dedupe_window", 0ms, 24h)},
      {"bot_list_file", "FILE", "(built in)",
       "User-Agent substrings treated as bots, one per line; replaces the built-in list",
       path_key(&config::bot_list_file)},
      {"admin_token_file", "FILE", "(none)",
       "file holding the bearer token for mutating admin routes; without it they answer loopback "
       "only",
       path_key(&config::admin_token_file)},
      {"rate_limit", "N", "0", "beacons per second per client IP, 0 = off (0..100000)",
       [](config& c, const std::string& v) -> std::string {
         char* end = nullptr;
         const double d = std::strtod(v.c_str(), &end);
         if (v.empty() || *end != '\0' || !(d >= 0 && d <= 100000)) {
           return bad("rate_limit", v, "expected a number within 0..100000");
         }
         c.rate_limit = d;
         return {};
       }},
      {"rate_limit_burst", "N", "20",
       "beacons a client may send at once before rate_limit applies (1..100000)",
       integer_key(&config::rate_limit_burst, "rate_limit_burst", 1, 100'000)},
      {"beacon_secret_file", "FILE", "(none)",
       "file holding the HMAC secret for signed beacons; when set, unsigned beacons are refused",
       path_key(&config::beacon_secret_file)},
      {"max_tracked_keys", "N", "5000000",
       "most distinct (site, article) keys pvcd tracks (1000..100000000); new ones past it are "
       "refused",
       integer_key(&config::max_tracked_keys, "max_tracked_keys", 1000, 100'000'000)},
      {"max_new_keys_per_second", "N", "20000",
       "most articles never seen before admitted per second (10..10000000); known ones always "
       "count",
       integer_key(&config::max_new_keys_per_second, "max_new_keys_per_second", 10, 10'000'000)},
      {"http_max_connections", "N", "10000",
       "open HTTP connections per listener (16..1000000); past it the oldest idle one is closed",
       integer_key(&config::http_max_connections, "http_max_connections", 16, 1'000'000)},
      {"redis_cluster", "LIST", "(none)",
       "seed nodes of the Redis Cluster to count into (HOST:PORT list); unset = the embedded "
       "store alone",
       list_key(&config::redis_cluster, "redis_cluster",
                [](const std::string& item) {
                  const auto a = cluster::parse_node_address(item);
                  return a && !a->host.empty() ? std::string() : std::string("expected HOST:PORT");
                })},
      {"node_name", "NAME", "(host name)",
       "this node's name in logs, metrics and pvctl stats (up to 64 letters, digits, '.', '-', "
       "'_'; \"\" = the host name)",
       [](config& c, const std::string& v) -> std::string {
         const bool ok = v.size() <= 64 && std::all_of(v.begin(), v.end(), [](char ch) {
                           return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' ||
                                  ch == '-' || ch == '_';
                         });
         if (!ok) return bad("node_name", v, "expected up to 64 letters, digits, '.', '-' or '_'");
         c.node_name = v;
         return {};
       }},
      {"redis_password_file", "FILE", "(none)",
       "file holding the Redis password (AUTH) for cluster mode",
       path_key(&config::redis_password_file)},
      {"redis_timeout", "DURATION", "1s", "connect and command timeout for Redis (10ms..60s)",
       duration_key(&config::redis_timeout, "redis_timeout", 10ms, 60s)},
      {"redis_wait_replicas", "N", "1",
       "replicas that must hold a flush before it leaves the outbox (0..5; WAIT)",
       integer_key(&config::redis_wait_replicas, "redis_wait_replicas", 0, 5)},
      {"redis_read_replicas", "BOOL", "false",
       "cluster reads from replicas (spreads reads; may lag by the replication delay)",
       [](config& c, const std::string& v) -> std::string {
         if (v != "true" && v != "false")
           return bad("redis_read_replicas", v, "expected true or false");
         c.redis_read_replicas = v == "true";
         return {};
       }},
      {"outbox_max_bytes", "SIZE", "1GiB",
       "flushes kept on disk while the cluster is away (1MiB..1TiB); when full, counts wait in "
       "memory and /readyz says so",
       size_key(&config::outbox_max_bytes, "outbox_max_bytes", 1u << 20, std::uint64_t{1} << 40)},
      {"outbox_drain_rate", "N", "200",
       "flushes shipped a second at most when the outbox drains after an outage (1..100000)",
       integer_key(&config::outbox_drain_rate, "outbox_drain_rate", 1, 100'000)},
      {"beacon_titles", "MODE", "off",
       "titles from beacons (title=): off, signed (the t= token covers the title) or "
       "trusted_proxies (only from trusted_proxies peers)",
       [](config& c, const std::string& v) -> std::string {
         if (v != "off" && v != "signed" && v != "trusted_proxies") {
           return bad("beacon_titles", v, "expected off, signed or trusted_proxies");
         }
         c.beacon_titles = v;
         return {};
       }},
      {"title_change_interval", "DURATION", "1h",
       "a beacon changes an article's title at most once this often (1s..30d); pvctl title is "
       "not held back",
       duration_key(&config::title_change_interval, "title_change_interval", 1s, 720h)},
      {"max_titles", "N", "1000000",
       "most article titles kept (1..50000000); new titles past it are refused",
       integer_key(&config::max_titles, "max_titles", 1, 50'000'000)},
      {"max_titles_per_site", "N", "100000",
       "most article titles kept per site (1..50000000); new titles past it are refused",
       integer_key(&config::max_titles_per_site, "max_titles_per_site", 1, 50'000'000)},
  };
  return table;
}

const key_spec* find_key(const std::string& name) {
  for (const auto& k : key_table()) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

// A TOML value as the text a flag would carry.
std::optional<std::string> toml_to_text(const toml::node& node) {
  if (auto s = node.value<std::string>()) return *s;
  if (const toml::array* arr = node.as_array()) {
    std::string joined;
    for (const auto& item : *arr) {
      auto s = item.value<std::string>();
      if (!s || s->find(',') != std::string::npos) return std::nullopt;
      if (!joined.empty()) joined += ',';
      joined += *s;
    }
    return joined;
  }
  if (node.is_floating_point()) return std::to_string(*node.value<double>());
  if (node.is_integer()) return std::to_string(*node.value<std::int64_t>());
  if (node.is_boolean()) return *node.value<bool>() ? "true" : "false";
  return std::nullopt;
}

std::string apply_document(config& cfg, const toml::table& doc, const std::string& path) {
  for (const auto& [key, node] : doc) {
    const std::string name(key.str());
    if (!find_key(name)) return fmt::format("{}: unknown key '{}'", path, name);
    auto text = toml_to_text(node);
    if (!text) return fmt::format("{}: key '{}' has the wrong type", path, name);
    if (auto err = set_config_key(cfg, name, *text); !err.empty()) {
      return fmt::format("{}: {}", path, err);
    }
  }
  return {};
}

std::string apply_file(config& cfg, const std::string& path) {
  toml::table doc;
  try {
    doc = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return fmt::format("config: {}: {} (line {})", path, e.description(), e.source().begin.line);
  }
  return apply_document(cfg, doc, path);
}

}  // namespace

std::string apply_config_text(config& cfg, std::string_view toml_text, const std::string& source) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    return fmt::format("config: {}: {} (line {})", source, e.description(), e.source().begin.line);
  }
  return apply_document(cfg, doc, source);
}

std::string set_config_key(config& cfg, const std::string& key, const std::string& value) {
  const key_spec* k = find_key(key);
  if (!k) return fmt::format("unknown key '{}'", key);
  return k->set(cfg, value);
}

namespace {

// Every key's field, for comparing and copying configurations.
template <class Fn>
void for_each_field(Fn&& fn) {
  fn("http", &config::http);
  fn("udp", &config::udp);
  fn("admin", &config::admin);
  fn("data_dir", &config::data_dir);
  fn("flush_interval", &config::flush_interval);
  fn("threads", &config::threads);
  fn("timezone", &config::timezone);
  fn("log_level", &config::log_level);
  fn("max_sites", &config::max_sites);
  fn("http_idle_timeout", &config::http_idle_timeout);
  fn("http_max_body", &config::http_max_body);
  fn("udp_receive_buffer", &config::udp_receive_buffer);
  fn("sync_writes", &config::sync_writes);
  fn("trusted_proxies", &config::trusted_proxies);
  fn("cors_origins", &config::cors_origins);
  fn("online_window", &config::online_window);
  fn("dedupe_window", &config::dedupe_window);
  fn("bot_list_file", &config::bot_list_file);
  fn("admin_token_file", &config::admin_token_file);
  fn("rate_limit", &config::rate_limit);
  fn("rate_limit_burst", &config::rate_limit_burst);
  fn("beacon_secret_file", &config::beacon_secret_file);
  fn("max_tracked_keys", &config::max_tracked_keys);
  fn("max_new_keys_per_second", &config::max_new_keys_per_second);
  fn("http_max_connections", &config::http_max_connections);
  fn("redis_cluster", &config::redis_cluster);
  fn("node_name", &config::node_name);
  fn("redis_password_file", &config::redis_password_file);
  fn("redis_timeout", &config::redis_timeout);
  fn("redis_wait_replicas", &config::redis_wait_replicas);
  fn("redis_read_replicas", &config::redis_read_replicas);
  fn("outbox_max_bytes", &config::outbox_max_bytes);
  fn("outbox_drain_rate", &config::outbox_drain_rate);
  fn("beacon_titles", &config::beacon_titles);
  fn("title_change_interval", &config::title_change_interval);
  fn("max_titles", &config::max_titles);
  fn("max_titles_per_site", &config::max_titles_per_site);
}

}  // namespace

std::vector<std::string> changed_keys(const config& a, const config& b) {
  std::vector<std::string> out;
  for_each_field([&](const char* key, auto field) {
    if (!(a.*field == b.*field)) out.emplace_back(key);
  });
  return out;
}

void copy_config_key(config& to, const config& from, const std::string& key) {
  for_each_field([&](const char* k, auto field) {
    if (key == k) to.*field = from.*field;
  });
}

std::string check_config_consistency(const config& cfg) {
  if (cfg.beacon_titles == "signed" && cfg.beacon_secret_file.empty()) {
    return "beacon_titles: 'signed' needs beacon_secret_file (the secret the titles are signed "
           "with)";
  }
  if (cfg.beacon_titles == "trusted_proxies" && cfg.trusted_proxies.empty()) {
    return "beacon_titles: 'trusted_proxies' needs trusted_proxies (the peers whose titles are "
           "believed)";
  }
  return {};
}

std::vector<config_key_doc> config_key_docs() {
  std::vector<config_key_doc> out;
  for (const auto& k : key_table())
    out.push_back({k.name, k.type, k.default_value, k.help});
  return out;
}

config_outcome load_config(int argc, char** argv) {
  CLI::App app{"pvcd - page-view counter daemon", "pvcd"};
  app.get_formatter()->column_width(34);
  std::string config_path;
  bool show_version = false;
  bool check_only = false;
  app.add_option("--config", config_path, "TOML file with any of the keys below");
  app.add_flag("--version", show_version, "print the version and exit");
  app.add_flag("--check-config", check_only,
               "check the configuration file and flags, print the result and exit");
  std::map<std::string, std::string> flags;  // key -> text given on the command line
  for (const auto& k : key_table()) {
    std::string flag = "--" + k.name;
    std::replace(flag.begin(), flag.end(), '_', '-');
    app.add_option_function<std::string>(
           flag, [&flags, name = k.name](const std::string& v) { flags[name] = v; },
           fmt::format("{} (default {})", k.help, k.default_value))
        ->type_name(k.type);
  }
  config_outcome out;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out.message = app.help();
    return out;
  } catch (const CLI::ParseError& e) {
    out.exit_code = 2;
    out.message = fmt::format("pvcd: {}", e.what());
    return out;
  }
  if (show_version) {
    out.message = fmt::format("pvcd {} ({})", version, revision);
    return out;
  }
  config cfg;
  if (!config_path.empty()) {
    if (auto err = apply_file(cfg, config_path); !err.empty()) {
      out.exit_code = 2;
      out.message = "pvcd: " + err;
      return out;
    }
  }
  for (const auto& [key, value] : flags) {
    if (auto err = set_config_key(cfg, key, value); !err.empty()) {
      out.exit_code = 2;
      out.message = "pvcd: " + err;
      return out;
    }
  }
  if (cfg.threads == 0) cfg.threads = std::max(1u, std::thread::hardware_concurrency());
  if (cfg.node_name.empty()) {
    char host[256] = {};
    cfg.node_name = ::gethostname(host, sizeof host - 1) == 0 && host[0] ? host : "pvcd";
  }
  if (auto err = check_config_consistency(cfg); !err.empty()) {
    out.exit_code = 2;
    out.message = "pvcd: " + err;
    return out;
  }
  if (check_only) {
    out.message = "pvcd: configuration ok";
    return out;
  }
  out.cfg = std::move(cfg);
  return out;
}

}  // namespace pvc
