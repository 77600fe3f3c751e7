// pvctl: the admin's command line, a thin layer over pvcd's admin HTTP API
// (only `restore` and `backup --verify` work locally, on files).
//
// Where the server and the token come from, first match wins:
//   server: --server URL, $PVCTL_SERVER, the config file's `admin`, http://127.0.0.1:8081
//   token:  --token-file FILE, $PVCTL_TOKEN, the config file's `admin_token_file`
//   config: --config FILE, $PVCTL_CONFIG, /etc/pvcd/pvcd.toml when it exists
//           (pvcd's own file: pvctl reads its `admin` and `admin_token_file` keys)
#include "pvctl.hpp"

#include <pwd.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "admin/admin_auth.hpp"
#include "core/config_values.hpp"
#include "version.hpp"

namespace pvc::ctl {
namespace json = boost::json;

std::string q(std::string_view s) {
  return client::url_encode(s);
}

std::uint64_t count_of(const json::value& v) {
  // Boost.JSON reads integers that fit as int64, larger ones as uint64.
  if (v.is_uint64()) return v.as_uint64();
  if (v.is_int64() && v.as_int64() >= 0) return static_cast<std::uint64_t>(v.as_int64());
  return 0;
}

std::uint64_t number(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? count_of(*v) : 0;
}

std::string string_of(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

void print_json(const json::value& v) {
  const std::string text = json::serialize(v);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

std::string default_caller() {
  std::string user;
  if (const char* u = std::getenv("USER"); u && *u) {
    user = u;
  } else if (const passwd* pw = ::getpwuid(::geteuid())) {
    user = pw->pw_name;
  } else {
    user = "uid" + std::to_string(::geteuid());
  }
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return user + "@" + host;
}

namespace {

// "HOST:PORT" from pvcd's config -> a URL pvctl can connect to (a wildcard
// bind address means "this machine").
std::optional<std::string> url_of_endpoint(std::string_view text) {
  const auto e = parse_endpoint(text);
  if (!e) return std::nullopt;
  std::string host = e->host;
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(e->port);
}

}  // namespace

void context::resolve() {
  // The config file: explicit, or from the environment, or the default one if present.
  std::string config_path;
  bool config_required = false;
  if (config_flag) {
    config_path = *config_flag;
    config_required = !config_path.empty();
  } else if (const char* env = std::getenv("PVCTL_CONFIG")) {
    config_path = env;
    config_required = !config_path.empty();
  } else {
    std::error_code ec;
    if (std::filesystem::exists("/etc/pvcd/pvcd.toml", ec)) config_path = "/etc/pvcd/pvcd.toml";
  }
  std::string config_server, config_token_file;
  if (!config_path.empty()) {
    try {
      const toml::table doc = toml::parse_file(config_path);
      if (auto a = doc["admin"].value<std::string>()) {
        auto url = url_of_endpoint(*a);
        if (!url) throw failure{exit_usage, config_path + ": admin: not a HOST:PORT address"};
        config_server = *url;
      }
      if (auto t = doc["admin_token_file"].value<std::string>()) config_token_file = *t;
    } catch (const toml::parse_error& e) {
      if (config_required) {
        throw failure{exit_usage, config_path + ": " + std::string(e.description())};
      }
    }
  }

  std::string url = "http://127.0.0.1:8081";
  if (!server_flag.empty()) {
    url = server_flag;
  } else if (const char* env = std::getenv("PVCTL_SERVER"); env && *env) {
    url = env;
  } else if (!config_server.empty()) {
    url = config_server;
  }
  auto parsed = client::parse_server_url(url);
  if (!parsed) throw failure{exit_usage, "--server: '" + url + "' is not an http://HOST:PORT URL"};
  server = *parsed;

  std::string warning;
  if (!token_file_flag.empty()) {
    if (auto err = load_admin_token(token_file_flag, token, warning); !err.empty()) {
      throw failure{exit_usage, "--token-file: " + err.substr(err.find(": ") + 2)};
    }
    token_source = "--token-file";
  } else if (const char* env = std::getenv("PVCTL_TOKEN"); env && *env) {
    token = env;
    token_source = "PVCTL_TOKEN";
  } else if (!config_token_file.empty()) {
    // Best effort: the file may be readable by pvcd's user only.
    if (load_admin_token(config_token_file, token, warning).empty()) {
      token_source = config_path + " admin_token_file";
    } else {
      token.clear();
    }
  }
}

client::http_result context::call(std::string_view method, const std::string& path,
                                  std::string_view body, std::string_view content_type) const {
  client::request_options o;
  o.body = body;
  o.content_type = content_type;
  o.bearer_token = token;
  o.timeout = std::chrono::seconds(60);
  auto r = client::http_request(server, method, path, o);
  if (!r.error.empty()) throw failure{r.connected ? exit_server : exit_connection, r.error};
  if (r.status >= 200 && r.status <= 299) return r;
  std::string text = r.body;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  std::string message = "server answered " + std::to_string(r.status) + ": " + text;
  if (r.status == 401 || r.status == 403) {
    if (r.status == 401 && token.empty()) {
      message += " (pvctl sent no token: use --token-file FILE or PVCTL_TOKEN)";
    }
    throw failure{exit_auth, message};
  }
  throw failure{exit_server, message};
}

json::object context::call_json(std::string_view method, const std::string& path,
                                std::string_view body, std::string_view content_type) const {
  const auto r = call(method, path, body, content_type);
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) throw failure{exit_server, "the server's answer is not JSON"};
  return std::move(v.as_object());
}

json::object context::wait_job(const std::string& job) const {
  auto pause = std::chrono::milliseconds(20);
  for (;;) {
    json::object o = call_json("GET", "/admin/v1/jobs?id=" + q(job));
    const std::string state = string_of(o, "state");
    if (state == "done") {
      const json::value* r = o.if_contains("result");
      return r && r->is_object() ? r->as_object() : json::object();
    }
    if (state == "failed")
      throw failure{exit_server, "job " + job + " failed: " + string_of(o, "error")};
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(250));
  }
}

}  // namespace pvc::ctl

int main(int argc, char** argv) {
  using namespace pvc::ctl;
  CLI::App app{"pvctl - manage and query a pvcd page-view counter", "pvctl"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the command: pvctl top --json
  context ctx;
  ctx.by = default_caller();
  app.add_option("--server", ctx.server_flag,
                 "pvcd admin listener URL (default: $PVCTL_SERVER, the config file's admin, or "
                 "http://127.0.0.1:8081)");
  app.add_option("--token-file", ctx.token_file_flag,
                 "file holding the admin token (default: $PVCTL_TOKEN, or the config file's "
                 "admin_token_file)");
  app.add_option("--config", ctx.config_flag,
                 "pvcd's TOML config, for admin and admin_token_file (default: $PVCTL_CONFIG, or "
                 "/etc/pvcd/pvcd.toml when present; \"\" for none)");
  app.add_flag("--json", ctx.json, "print JSON for scripts (one object, or one per line)");
  app.add_option("--by", ctx.by, "who you are, for the audit journal (default: USER@HOST)");
  app.set_version_flag("--version", std::string("pvctl ") + pvc::version);
  app.footer(std::string(exit_codes_help) +
             "\nEvery command has --help with an example, e.g. pvctl import --help.");

  std::vector<command> commands;
  add_read_commands(app, commands);
  add_change_commands(app, commands);
  add_data_commands(app, commands);
  add_backup_commands(app, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : exit_usage;
  }
  try {
    for (command& c : commands) {
      if (!*c.app) continue;
      const bool local = !c.needs_server || (c.local_only && c.local_only());
      if (!local) ctx.resolve();
      c.run(ctx);
      break;
    }
  } catch (const failure& f) {
    std::fflush(stdout);
    std::fprintf(stderr, "pvctl: %s\n", f.message.c_str());
    return f.code;
  }
  if (std::fflush(stdout) != 0) {
    std::fprintf(stderr, "pvctl: cannot write the output\n");
    return exit_local;
  }
  return exit_ok;
}
