// The admin listener's routes (loopback by default): what pvctl and
// Prometheus use.
//
//   GET /metrics          Prometheus text exposition
//   POST /admin/v1/hit    record views (s=, a=, n=); a mutating route (admin token)
//   /admin/v1/...         pvctl's API (admin_api.hpp)
// The read routes and /healthz are there too (serve/routes.cpp's table).
#include "admin/admin_api.hpp"
#include "serve/routes.hpp"

namespace pvc {

namespace {

void admin_hit(admin_api* admin, const http_request_view& req, std::string_view query,
               http_response& res, counter_shard& shard) {
  if (admin && !admin->authorize(req, query, res, shard)) return;
  hit_scratch scratch;
  const std::string_view body = is_form_body(req.content_type) ? req.body : std::string_view{};
  hit_result r = parse_http_hit(query, body, scratch);
  auto refuse = [&](reject_reason reason, std::string_view detail) {
    shard.reject(transport::admin, reason);
    res.text(400, std::string(name_of(reason)) + ": " + std::string(detail));
  };
  if (!r.ok) return refuse(r.reason, r.detail);
  std::string_view count_text;
  bool have_count = false;
  auto find_n = [&](std::string_view name, std::string_view value) {
    if (name == "n") {
      count_text = value;
      have_count = true;
    }
  };
  for_each_form_field(query, find_n);
  for_each_form_field(body, find_n);
  if (have_count && !parse_count(count_text, max_hit_count, r.value.count)) {
    return refuse(reject_reason::bad_count, "count must be an integer in 1..1000000");
  }
  if (!shard.record(r.value, transport::admin)) {
    // record() has counted the refusal already.
    return res.text(400, shard.last_refusal() == reject_reason::cardinality
                             ? "cardinality: too many new articles right now"
                             : "site_limit: this pvcd counts no more new sites (max_sites)");
  }
  res.status = 204;
}

}  // namespace

void add_admin_routes(router& r) {
  route_context& ctx = r.context();
  r.add("/metrics", "GET",
        [&ctx](const http_request_view&, std::string_view, http_response& res, counter_shard&) {
          res.status = 200;
          res.content_type = "text/plain; version=0.0.4; charset=utf-8";
          res.body = ctx.render_metrics();
        });
  r.add("/admin/v1/hit", "POST",
        [&ctx](const http_request_view& req, std::string_view q, http_response& res,
               counter_shard& shard) { admin_hit(ctx.admin, req, q, res, shard); });
  if (ctx.admin) ctx.admin->add_routes(r);
}

}  // namespace pvc
