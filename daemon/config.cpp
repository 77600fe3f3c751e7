#include "config.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <toml++/toml.h>
#include <charconv>
#include <functional>
#include <map>
#include <thread>

#include "core/calendar.hpp"
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
      {"udp_receive_buffer", "SIZE", "8MiB", "SO_RCVBUF asked for each UDP socket (64KiB..1GiB)",
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
  if (node.is_integer()) return std::to_string(*node.value<std::int64_t>());
  if (node.is_boolean()) return *node.value<bool>() ? "true" : "false";
  return std::nullopt;
}

std::string apply_file(config& cfg, const std::string& path) {
  toml::table doc;
  try {
    doc = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return fmt::format("config: {}: {} (line {})", path, e.description(), e.source().begin.line);
  }
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

}  // namespace

std::string set_config_key(config& cfg, const std::string& key, const std::string& value) {
  const key_spec* k = find_key(key);
  if (!k) return fmt::format("unknown key '{}'", key);
  return k->set(cfg, value);
}

std::vector<std::string> changed_keys(const config& a, const config& b) {
  std::vector<std::string> out;
  auto check = [&](const char* key, bool same) {
    if (!same) out.emplace_back(key);
  };
  check("http", a.http == b.http);
  check("udp", a.udp == b.udp);
  check("admin", a.admin == b.admin);
  check("data_dir", a.data_dir == b.data_dir);
  check("flush_interval", a.flush_interval == b.flush_interval);
  check("threads", a.threads == b.threads);
  check("timezone", a.timezone == b.timezone);
  check("log_level", a.log_level == b.log_level);
  check("max_sites", a.max_sites == b.max_sites);
  check("http_idle_timeout", a.http_idle_timeout == b.http_idle_timeout);
  check("http_max_body", a.http_max_body == b.http_max_body);
  check("udp_receive_buffer", a.udp_receive_buffer == b.udp_receive_buffer);
  check("sync_writes", a.sync_writes == b.sync_writes);
  return out;
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
  if (check_only) {
    out.message = "pvcd: configuration ok";
    return out;
  }
  out.cfg = std::move(cfg);
  return out;
}

}  // namespace pvc
