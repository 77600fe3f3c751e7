#pragma once
// HTTP routing, transport-free: ingest/http_server.cpp parses the bytes and
// writes the answer; a router decides it. The public and the admin listener
// each get a router with their own route table, so no admin route is
// reachable from the public listener. Which modules each table holds is
// written down once, in add_route_table (routes.cpp); each module registers
// its own handlers:
//
//   ingest/beacon_routes.cpp  /hit, /hit.gif                       public
//   serve/read_routes.cpp     /api/v1/views|widget|visitors|top|sites   both
//                             /widget.js                           public
//   serve/routes.cpp          /healthz, /readyz                    both
//   admin/admin_routes.cpp    /metrics, /admin/v1/...              admin
//
// Thread-safety: routes are added before the I/O threads start; handle()
// then runs on the calling I/O thread and writes only to that thread's
// shard; the store and metrics it reads are thread-safe.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/counter_table.hpp"
#include "core/http_stats.hpp"

namespace pvc {

class admin_api;  // admin/admin_api.hpp
class reader;     // read/reader.hpp

struct http_request_view {
  std::string_view method{};  // "GET", "POST", ...
  std::string_view target{};  // path and query, as sent
  std::string_view content_type{};
  std::string_view body{};
  std::string_view peer{};  // the connection's remote address, numeric ("127.0.0.1", "::1")
  std::string_view user_agent{};
  std::string_view x_forwarded_for{};
  std::string_view forwarded{};
  std::string_view if_none_match{};
  std::string_view origin{};
  std::string_view authorization{};
  std::string_view access_control_request_headers{};  // a CORS preflight's
};

struct http_response {
  unsigned status = 200;
  std::string_view content_type = "text/plain; charset=utf-8";
  std::string body;                    // owned text (reused across requests)
  std::string_view static_body;        // used instead of `body` when non-empty
  std::string_view allow;              // Allow header for 405
  bool cors = false;                   // Access-Control-Allow-Origin (see cors_origin)
  std::string_view cors_origin = "*";  // a literal, the configured list, or the request's Origin
  std::string etag;                    // ETag header when non-empty
  std::string_view cache_control = "no-store";  // a literal
  http_route route = http_route_other;          // for the request metrics
  // A CORS preflight's answer: the methods (and request headers) a page may use.
  std::string_view preflight_methods;
  std::string preflight_headers;
  // Cluster mode: the figures are this many seconds behind because the
  // cluster cannot be reached (X-Pvcd-Stale-Seconds); 0 when current.
  std::uint32_t stale_seconds = 0;

  void reset();
  std::string_view payload() const { return static_body.empty() ? body : static_body; }
  // A one-line text answer.
  void text(unsigned code, std::string_view line);
};

// Who sent a beacon, as far as pvcd can tell (see client_ip.hpp).
struct client_info {
  std::string_view ip;
  std::string_view user_agent;
};

// A check a beacon must pass before it is counted (signature, bot list,
// rate limit, de-duplication). `shard` is the calling I/O thread's index,
// for per-thread state without locks.
class hit_gate {
 public:
  virtual ~hit_gate() = default;
  virtual std::optional<reject_reason> admit(const hit& h, const http_request_view& req,
                                             const client_info& client, std::size_t shard) = 0;
};

// Told about every beacon that was counted (visitor sketches).
class hit_listener {
 public:
  virtual ~hit_listener() = default;
  virtual void counted(const hit& h, const client_info& client, std::size_t shard) = 0;
};

struct route_context {
  reader& read;  // every figure a route answers
  counter_table& table;
  std::function<std::string()> render_metrics;  // Prometheus text exposition
  // /readyz: false while the store refuses writes and counts are held in memory.
  std::function<bool()> ready{};
  std::vector<hit_gate*> gates{};  // run in order; the first refusal wins
  std::vector<hit_listener*> listeners{};
  // A counted beacon's title= (ingest/beacon_titles.hpp); unset: titles
  // from beacons are ignored.
  std::function<void(const hit&, const http_request_view&, std::string_view query,
                     std::size_t shard)>
      beacon_title{};
  // The client's address for a request on I/O thread `shard` (trusted
  // proxies); the peer when unset.
  std::function<std::string_view(const http_request_view&, std::size_t shard, std::string& scratch)>
      client_ip{};
  // The admin API (pvctl's routes, the admin token); null: admin routes
  // without it, and no token check (unit tests).
  admin_api* admin = nullptr;
  // The origins whose pages may read the counts ("*" any) for I/O thread
  // `shard` (SIGHUP replaces them); any origin when unset.
  std::function<const std::vector<std::string>&(std::size_t shard)> cors_origins{};
};

class router {
 public:
  enum class role { public_api, admin };
  // The handler gets the request, its query string (after '?'), the answer
  // to fill and the calling thread's shard.
  using handler = std::function<void(const http_request_view& req, std::string_view query,
                                     http_response& res, counter_shard& shard)>;

  // A router with the route table of its role (add_route_table).
  router(role r, route_context& ctx);

  // Which pages may call a route from another origin (CORS): none, any, or
  // the configured cors_origins. A cross-origin route also answers the
  // browser's preflight (OPTIONS) itself, with 204 and what it allows.
  enum class cross_origin : std::uint8_t { none, any, configured };

  // Adds a route. `methods` lists what it answers ("GET", "POST", "GET, POST");
  // HEAD is answered wherever GET is.
  void add(std::string path, std::string methods, handler h,
           cross_origin cors = cross_origin::none);

  void handle(const http_request_view& req, http_response& res, counter_shard& shard) const;

  route_context& context() const noexcept { return ctx_; }
  role kind() const noexcept { return role_; }

 private:
  struct route {
    std::string path;
    std::string methods;  // as answered in Allow: HEAD is listed with GET
    http_route id;
    handler fn;
    cross_origin cors;
  };
  void answer_preflight(const route& r, const http_request_view& req, http_response& res,
                        counter_shard& shard) const;

  role role_;
  route_context& ctx_;
  std::vector<route> routes_;
};

// Splits "path?query" (the query may be absent). An absolute-form target
// ("http://host/hit?...", which RFC 9112 3.2.2 says a server must accept) is
// split like its origin form.
void split_target(std::string_view target, std::string_view& path, std::string_view& query);

// Sets the CORS answer of a route whose readers are the configured
// cors_origins: "*" for any, the request's Origin when it is listed, nothing else.
void allow_configured_origins(const route_context& ctx, const http_request_view& req,
                              http_response& res, std::size_t shard);

// True for the two body types a beacon may use (form fields, as sendBeacon sends them).
bool is_form_body(std::string_view content_type);

// Registers the route modules of r's role (the table above).
void add_route_table(router& r);
// The route modules; add_route_table calls them.
void add_beacon_routes(router& r);  // ingest/beacon_routes.cpp
void add_read_routes(router& r);    // serve/read_routes.cpp
void add_widget_script(router& r);  // serve/read_routes.cpp
void add_admin_routes(router& r);   // admin/admin_routes.cpp
// /healthz (the process answers) and /readyz (it can also store what it counts).
void add_health_routes(router& r);

}  // namespace pvc
