#include "serve/routes.hpp"

namespace pvc {

void http_response::reset() {
  status = 200;
  content_type = "text/plain; charset=utf-8";
  body.clear();
  static_body = {};
  allow = {};
  cors = false;
  cors_origin = "*";
  etag.clear();
  cache_control = "no-store";
  route = http_route_other;
  preflight_methods = {};
  preflight_headers.clear();
  stale_seconds = 0;
}

void http_response::text(unsigned code, std::string_view line) {
  status = code;
  content_type = "text/plain; charset=utf-8";
  body.assign(line);
  body += '\n';
}

void split_target(std::string_view target, std::string_view& path, std::string_view& query) {
  // Absolute form: scheme "://" authority, then the origin form ("/" when empty).
  if (const std::size_t scheme_end = target.find("://");
      scheme_end != std::string_view::npos && !target.starts_with('/')) {
    const std::size_t rest = target.find_first_of("/?", scheme_end + 3);
    target = rest == std::string_view::npos ? std::string_view("/") : target.substr(rest);
    if (target.starts_with('?')) {  // "http://host?x": path "/", query "x"
      path = "/";
      query = target.substr(1);
      return;
    }
  }
  std::size_t q = target.find('?');
  path = target.substr(0, q);
  query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

bool is_form_body(std::string_view content_type) {
  auto semi = content_type.find(';');
  std::string_view media = content_type.substr(0, semi);
  while (!media.empty() && media.back() == ' ')
    media.remove_suffix(1);
  // Media types are case-insensitive; browsers send them in lower case.
  auto iequals = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
      if (x != b[i]) return false;
    }
    return true;
  };
  return iequals(media, "application/x-www-form-urlencoded") || iequals(media, "text/plain");
}

router::router(role r, route_context& ctx) : role_(r), ctx_(ctx) {
  add_route_table(*this);
}

void router::add(std::string path, std::string methods, handler h, cross_origin cors) {
  const http_route id = intern_http_route(path);
  if (methods.find("GET") != std::string::npos)
    methods.replace(methods.find("GET"), 3, "GET, HEAD");
  routes_.push_back({std::move(path), std::move(methods), id, std::move(h), cors});
}

void allow_configured_origins(const route_context& ctx, const http_request_view& req,
                              http_response& res, std::size_t shard) {
  if (!ctx.cors_origins) {
    res.cors = true;
    res.cors_origin = "*";
    return;
  }
  const std::vector<std::string>& origins = ctx.cors_origins(shard);
  for (const std::string& allowed : origins) {
    if (allowed == "*") {
      res.cors = true;
      res.cors_origin = "*";
      return;
    }
  }
  for (const std::string& allowed : origins) {
    if (!req.origin.empty() && req.origin == allowed) {
      res.cors = true;
      res.cors_origin = allowed;  // the configured copy: it outlives the request
      return;
    }
  }
}

void router::answer_preflight(const route& r, const http_request_view& req, http_response& res,
                              counter_shard& shard) const {
  res.status = 204;
  res.body.clear();
  if (r.cors == cross_origin::any) {
    res.cors = true;
    res.cors_origin = "*";
  } else {
    allow_configured_origins(ctx_, req, res, shard.index());
  }
  // An origin that may not read gets no CORS headers: the browser then
  // refuses the request itself.
  if (!res.cors) return;
  res.preflight_methods = r.methods;
  // The routes read no request header a page could abuse (no cookies, no
  // credentials are allowed), so whatever the page asks to send is allowed,
  // at most a header's worth.
  if (req.access_control_request_headers.size() <= 1024) {
    res.preflight_headers.assign(req.access_control_request_headers);
  }
}

namespace {

bool allows(std::string_view methods, std::string_view method) {
  if (method == "HEAD") method = "GET";
  while (!methods.empty()) {
    const std::size_t comma = methods.find(',');
    std::string_view m = methods.substr(0, comma);
    while (!m.empty() && m.front() == ' ')
      m.remove_prefix(1);
    if (m == method) return true;
    methods = comma == std::string_view::npos ? std::string_view{} : methods.substr(comma + 1);
  }
  return false;
}

}  // namespace

void router::handle(const http_request_view& req, http_response& res, counter_shard& shard) const {
  std::string_view path, query;
  split_target(req.target, path, query);
  for (const route& r : routes_) {
    if (r.path != path) continue;
    res.route = r.id;
    if (req.method == "OPTIONS" && r.cors != cross_origin::none) {
      return answer_preflight(r, req, res, shard);
    }
    if (!allows(r.methods, req.method)) {
      res.text(405, "method not allowed");
      res.allow = r.methods;
      return;
    }
    r.fn(req, query, res, shard);
    return;
  }
  res.text(404, "not found");
}

// The route table of each listener: the one place that says what each serves.
void add_route_table(router& r) {
  if (r.kind() == router::role::public_api) {
    add_beacon_routes(r);
    add_read_routes(r);
    add_widget_script(r);
  } else {
    add_admin_routes(r);
    add_read_routes(r);
  }
  add_health_routes(r);
}

void add_health_routes(router& r) {
  route_context& ctx = r.context();
  r.add("/healthz", "GET",
        [](const http_request_view&, std::string_view, http_response& res, counter_shard&) {
          res.text(200, "ok");
        });
  r.add("/readyz", "GET",
        [&ctx](const http_request_view&, std::string_view, http_response& res, counter_shard&) {
          if (!ctx.ready || ctx.ready()) return res.text(200, "ready");
          res.text(503, "not ready: the store refuses writes; counts are held in memory");
        });
}

}  // namespace pvc
