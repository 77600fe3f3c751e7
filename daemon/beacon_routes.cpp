// The public listener's routes: beacons in, counts out.
//
//   GET|POST /hit        count a view, answer 204
//   GET /hit.gif         count a view, answer a 1x1 transparent GIF
//   GET /api/v1/views    site and article counts (JSON)
//   GET /healthz         200 while pvcd runs
#include <fmt/format.h>

#include <algorithm>

#include "core/json_text.hpp"
#include "routes.hpp"

namespace pvc {
namespace {

// The smallest transparent 1x1 GIF (43 bytes), for <img> beacons.
constexpr unsigned char gif_bytes[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};
const std::string_view gif_body(reinterpret_cast<const char*>(gif_bytes), sizeof gif_bytes);

// A views request names at most this many articles: enough for a page of
// "most viewed" links, small enough that one request stays cheap.
constexpr std::size_t max_articles_per_view_request = 100;

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
  if (gif) {
    answer_gif(res);
  } else {
    res.status = 204;
  }
}

}  // namespace

void answer_views(route_context& ctx, std::string_view query, http_response& res) {
  res.cors = true;
  std::string_view raw_site = default_site;
  std::vector<std::string_view> raw_articles;
  bool too_many = false;
  for_each_form_field(query, [&](std::string_view name, std::string_view value) {
    if (name == "s") raw_site = value;
    if (name == "a") {
      if (raw_articles.size() == max_articles_per_view_request) {
        too_many = true;
      } else {
        raw_articles.push_back(value);
      }
    }
  });
  if (too_many) return res.text(400, "malformed: at most 100 articles per request");
  id_buffer site_buf;
  const decoded_id site = decode_id(raw_site, site_buf);
  if (site.status != id_status::ok) return res.text(400, "bad_site: site is not a valid id");
  // Decoded article ids need stable storage: one buffer each.
  std::vector<id_buffer> buffers(raw_articles.size());
  std::vector<std::string_view> articles;
  articles.reserve(raw_articles.size());
  for (std::size_t i = 0; i < raw_articles.size(); ++i) {
    const decoded_id a = decode_id(raw_articles[i], buffers[i]);
    if (a.status != id_status::ok) {
      return res.text(400, "bad_article: an article is not a valid id");
    }
    // A repeated id is answered once: JSON object keys must be unique.
    if (std::find(articles.begin(), articles.end(), a.value) == articles.end()) {
      articles.push_back(a.value);
    }
  }
  const views_snapshot snap = ctx.db.read_views(site.value, articles, ctx.table.current_day());
  if (!snap.error.empty()) return res.text(500, "store read failed");

  std::string& out = res.body;
  out.clear();
  out += "{\"site\":";
  append_json_string(out, site.value);
  fmt::format_to(std::back_inserter(out),
                 ",\"total\":{},\"today\":{},\"yesterday\":{},\"this_month\":{},\"articles\":{{",
                 snap.site.total, snap.site.today, snap.site.yesterday, snap.site.this_month);
  for (std::size_t i = 0; i < articles.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, articles[i]);
    fmt::format_to(std::back_inserter(out), ":{{\"total\":{},\"today\":{}}}",
                   snap.articles[i].total, snap.articles[i].today);
  }
  out += "}}";
  res.status = 200;
  res.content_type = "application/json";
}

void add_beacon_routes(router& r) {
  route_context& ctx = r.context();
  r.add("/hit", "GET, POST",
        [&ctx](const http_request_view& req, std::string_view q, http_response& res,
               counter_shard& shard) { count_beacon(ctx, req, q, false, res, shard); });
  r.add("/hit.gif", "GET",
        [&ctx](const http_request_view& req, std::string_view q, http_response& res,
               counter_shard& shard) { count_beacon(ctx, req, q, true, res, shard); });
  r.add("/api/v1/views", "GET",
        [&ctx](const http_request_view&, std::string_view q, http_response& res, counter_shard&) {
          answer_views(ctx, q, res);
        });
  add_health_routes(r);
}

}  // namespace pvc
