// pvctl: the admin's command line, a thin layer over pvcd's admin HTTP API.
//
// Exit codes: 0 ok, 2 usage, 3 cannot reach the server, 4 the server
// answered with an error.
#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "http_client.hpp"
#include "version.hpp"

namespace {

namespace json = boost::json;
using pvc::client::url_encode;

constexpr int exit_usage = 2;
constexpr int exit_connection = 3;
constexpr int exit_server = 4;

struct failure {
  int code;
  std::string message;
};

std::string views_path(const std::string& site, const std::vector<std::string>& ids) {
  std::string p = "/api/v1/views?s=" + url_encode(site);
  for (const auto& id : ids)
    p += "&a=" + url_encode(id);
  return p;
}

// Sends the request; throws `failure` unless the answer is 2xx.
pvc::client::http_result call(const pvc::client::server_url& server, std::string_view method,
                              const std::string& path) {
  auto r = pvc::client::http_request(server, method, path);
  if (!r.error.empty()) throw failure{r.connected ? exit_server : exit_connection, r.error};
  if (r.status < 200 || r.status > 299) {
    std::string body = r.body;
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r'))
      body.pop_back();
    throw failure{exit_server, "server answered " + std::to_string(r.status) + ": " + body};
  }
  return r;
}

json::object views(const pvc::client::server_url& server, const std::string& site,
                   const std::vector<std::string>& ids) {
  auto r = call(server, "GET", views_path(site, ids));
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) throw failure{exit_server, "the server's answer is not JSON"};
  return v.as_object();
}

std::uint64_t number(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_uint64()) return v->as_uint64();
  if (v->is_int64()) return static_cast<std::uint64_t>(v->as_int64());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"pvctl - manage and query a pvcd page-view counter", "pvctl"};
  app.require_subcommand(1);
  const char* env_server = std::getenv("PVCTL_SERVER");
  std::string server_text = env_server ? env_server : "http://127.0.0.1:8081";
  app.add_option("--server", server_text,
                 "pvcd admin listener URL (default: $PVCTL_SERVER or http://127.0.0.1:8081)");
  app.set_version_flag("--version", std::string("pvctl ") + pvc::version);
  app.footer("Exit codes: 0 ok, 2 usage error, 3 cannot reach the server, 4 server error.");

  std::string site = "default";
  auto* total = app.add_subcommand("total", "print a site's all-time views as a bare integer");
  total->add_option("--site", site, "site id (default: default)");
  total->footer("Example: pvctl total --site news");

  std::vector<std::string> ids;
  auto* get = app.add_subcommand("get", "print ID<TAB>total<TAB>today for each article");
  get->add_option("--site", site, "site id (default: default)");
  get->add_option("ids", ids, "article ids")->required();
  get->footer("Example: pvctl get --site news /2026/11/budget /2026/11/weather");

  std::string hit_id;
  unsigned count = 1;
  auto* hit = app.add_subcommand("hit", "record views of an article (smoke tests, corrections)");
  hit->add_option("--site", site, "site id (default: default)");
  hit->add_option("id", hit_id, "article id")->required();
  hit->add_option("--count", count, "views to record (1..1000000)")
      ->check(CLI::Range(1u, 1'000'000u));
  hit->footer("Example: pvctl hit --site news /2026/11/budget --count 3");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : exit_usage;
  }

  auto server = pvc::client::parse_server_url(server_text);
  if (!server) {
    std::fprintf(stderr, "pvctl: --server: '%s' is not an http://HOST:PORT URL\n",
                 server_text.c_str());
    return exit_usage;
  }
  try {
    if (*total) {
      std::printf("%llu\n",
                  static_cast<unsigned long long>(number(views(*server, site, {}), "total")));
    } else if (*get) {
      json::object o = views(*server, site, ids);
      const json::value* arts = o.if_contains("articles");
      for (const auto& id : ids) {
        std::uint64_t t = 0, d = 0;
        if (arts && arts->is_object()) {
          if (const json::value* a = arts->as_object().if_contains(id); a && a->is_object()) {
            t = number(a->as_object(), "total");
            d = number(a->as_object(), "today");
          }
        }
        std::printf("%s\t%llu\t%llu\n", id.c_str(), static_cast<unsigned long long>(t),
                    static_cast<unsigned long long>(d));
      }
    } else if (*hit) {
      call(*server, "POST",
           "/admin/v1/hit?s=" + url_encode(site) + "&a=" + url_encode(hit_id) +
               "&n=" + std::to_string(count));
    }
  } catch (const failure& f) {
    std::fprintf(stderr, "pvctl: %s\n", f.message.c_str());
    return f.code;
  }
  return 0;
}
