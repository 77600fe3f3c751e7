#pragma once
// What each HTTP route answers. Transport-free: http_server.cpp parses the
// bytes and writes the answer; this file decides it. The public and the
// admin listener each get a router with their own route table, so no admin
// route is reachable from the public listener.
//
// Thread-safety: handle() runs on the calling I/O thread and writes only to
// that thread's shard; the store and metrics it reads are thread-safe.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/counter_table.hpp"
#include "store.hpp"

namespace pvc {

struct http_request_view {
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // path and query, as sent
  std::string_view content_type;
  std::string_view body;
};

struct http_response {
  unsigned status = 200;
  std::string_view content_type = "text/plain; charset=utf-8";
  std::string body;                          // owned text (reused across requests)
  std::string_view static_body;              // used instead of `body` when non-empty
  std::string_view allow;                    // Allow header for 405
  bool cors = false;                         // Access-Control-Allow-Origin: *
  http_route route = http_route::not_found;  // for the request metrics

  void reset() {
    status = 200;
    content_type = "text/plain; charset=utf-8";
    body.clear();
    static_body = {};
    allow = {};
    cors = false;
    route = http_route::not_found;
  }
  std::string_view payload() const { return static_body.empty() ? body : static_body; }
};

struct route_context {
  store& db;
  counter_table& table;
  std::function<std::string()> render_metrics;  // Prometheus text exposition
};

class router {
 public:
  enum class role { public_api, admin };
  router(role r, route_context& ctx) : role_(r), ctx_(ctx) {}

  void handle(const http_request_view& req, http_response& res, counter_shard& shard) const;

 private:
  void hit(const http_request_view& req, std::string_view query, bool gif, http_response& res,
           counter_shard& shard) const;
  void admin_hit(const http_request_view& req, std::string_view query, http_response& res,
                 counter_shard& shard) const;
  void views(std::string_view query, http_response& res) const;

  role role_;
  route_context& ctx_;
};

// Splits "path?query" (the query may be absent).
void split_target(std::string_view target, std::string_view& path, std::string_view& query);

}  // namespace pvc
