// The beacon routes of the public listener: views in.
//
//   GET|POST /hit        count a view, answer 204
//   GET /hit.gif         count a view, answer a 1x1 transparent GIF
#include "serve/routes.hpp"

namespace pvc {
namespace {

// The smallest transparent 1x1 GIF (43 bytes), for <img> beacons.
constexpr unsigned char gif_bytes[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};
const std::string_view gif_body(reinterpret_cast<const char*>(gif_bytes), sizeof gif_bytes);

// How a refused beacon is answered. Bots get a success: a crawler has no use
// for an error and would only retry.
unsigned status_for(reject_reason r) {
  switch (r) {
    case reject_reason::bot:
    case reject_reason::duplicate:  // a reload: nothing to fix on the client's side
      return 204;
    case reject_reason::rate_limit:
      return 429;
    case reject_reason::signature:
      return 403;
    case reject_reason::cardinality:
      return 503;
    default:
      return 400;
  }
}

void refuse(http_response& res, counter_shard& shard, transport t, reject_reason reason,
            std::string_view detail) {
  shard.reject(t, reason);
  res.status = status_for(reason);
  res.content_type = "text/plain; charset=utf-8";
  res.body.clear();
  if (res.status == 204) return;
  res.body.assign(name_of(reason));
  res.body += ": ";
  res.body += detail;
  res.body += '\n';
}

std::string_view detail_for(reject_reason r) {
  switch (r) {
    case reject_reason::bot:
      return "the User-Agent is on the bot list";
    case reject_reason::duplicate:
      return "this visitor's view of this article was counted within dedupe_window";
    case reject_reason::rate_limit:
      return "too many hits from this client";
    case reject_reason::signature:
      return "missing, forged or expired beacon token (t=)";
    case reject_reason::cardinality:
      return "too many new articles right now; try later";
    case reject_reason::site_limit:
      return "this pvcd counts no more new sites (max_sites)";
    default:
      return "refused";
  }
}

void answer_gif(http_response& res) {
  res.status = 200;
  res.content_type = "image/gif";
  res.static_body = gif_body;
}

void count_beacon(route_context& ctx, const http_request_view& req, std::string_view query,
                  bool gif, http_response& res, counter_shard& shard) {
  res.cors = true;
  hit_scratch scratch;
  const std::string_view body = is_form_body(req.content_type) ? req.body : std::string_view{};
  const hit_result r = parse_http_hit(query, body, scratch);
  if (!r.ok) return refuse(res, shard, transport::http, r.reason, r.detail);

  std::string ip_scratch;
  const client_info client{ctx.client_ip ? ctx.client_ip(req, shard.index(), ip_scratch) : req.peer,
                           req.user_agent};
  // HEAD is a link checker or a crawler probing the URL: answer, count nothing.
  if (req.method == "HEAD") {
    if (gif) return answer_gif(res);
    res.status = 204;
    return;
  }
  for (hit_gate* gate : ctx.gates) {
    if (auto reason = gate->admit(r.value, req, client, shard.index())) {
      refuse(res, shard, transport::http, *reason, detail_for(*reason));
      if (gif && res.status == 204) answer_gif(res);  // a bot still gets its pixel
      return;
    }
  }
  if (!shard.record(r.value, transport::http)) {
    // record() has counted the refusal already.
    const reject_reason why = shard.last_refusal();
    return res.text(status_for(why),
                    std::string(name_of(why)) + ": " + std::string(detail_for(why)));
  }
  for (hit_listener* l : ctx.listeners)
    l->counted(r.value, client, shard.index());
  if (ctx.beacon_title) ctx.beacon_title(r.value, req, query, shard.index());
  if (gif) {
    answer_gif(res);
  } else {
    res.status = 204;
  }
}

}  // namespace

void add_beacon_routes(router& r) {
  route_context& ctx = r.context();
  r.add(
      "/hit", "GET, POST",
      [&ctx](const http_request_view& req, std::string_view q, http_response& res,
             counter_shard& shard) { count_beacon(ctx, req, q, false, res, shard); },
      router::cross_origin::any);
  r.add(
      "/hit.gif", "GET",
      [&ctx](const http_request_view& req, std::string_view q, http_response& res,
             counter_shard& shard) { count_beacon(ctx, req, q, true, res, shard); },
      router::cross_origin::any);
}

}  // namespace pvc
