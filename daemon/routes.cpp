#include "routes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

#include "core/json_text.hpp"

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

void text(http_response& res, unsigned status, std::string_view body) {
  res.status = status;
  res.content_type = "text/plain; charset=utf-8";
  res.body.assign(body);
  res.body += '\n';
}

void method_not_allowed(http_response& res, std::string_view allow) {
  text(res, 405, "method not allowed");
  res.allow = allow;
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

void reject(http_response& res, counter_shard& shard, transport t, reject_reason reason,
            std::string_view detail) {
  shard.reject(t, reason);
  res.status = 400;
  res.content_type = "text/plain; charset=utf-8";
  res.body.assign(name_of(reason));
  res.body += ": ";
  res.body += detail;
  res.body += '\n';
}

}  // namespace

void split_target(std::string_view target, std::string_view& path, std::string_view& query) {
  std::size_t q = target.find('?');
  path = target.substr(0, q);
  query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

void router::handle(const http_request_view& req, http_response& res, counter_shard& shard) const {
  std::string_view path, query;
  split_target(req.target, path, query);
  const bool get = req.method == "GET" || req.method == "HEAD";
  const bool post = req.method == "POST";

  if (path == "/healthz") {
    res.route = http_route::healthz;
    if (!get) return method_not_allowed(res, "GET, HEAD");
    return text(res, 200, "ok");
  }
  if (path == "/api/v1/views") {
    res.route = http_route::views;
    if (!get) return method_not_allowed(res, "GET, HEAD");
    res.cors = true;
    return views(query, res);
  }
  if (role_ == role::public_api) {
    if (path == "/hit") {
      res.route = http_route::hit;
      if (!get && !post) return method_not_allowed(res, "GET, POST");
      return hit(req, query, false, res, shard);
    }
    if (path == "/hit.gif") {
      res.route = http_route::hit_gif;
      if (!get) return method_not_allowed(res, "GET");
      return hit(req, query, true, res, shard);
    }
  } else {
    if (path == "/metrics") {
      res.route = http_route::metrics;
      if (!get) return method_not_allowed(res, "GET");
      res.status = 200;
      res.content_type = "text/plain; version=0.0.4; charset=utf-8";
      res.body = ctx_.render_metrics();
      return;
    }
    if (path == "/admin/v1/hit") {
      res.route = http_route::admin_hit;
      if (!post) return method_not_allowed(res, "POST");
      return admin_hit(req, query, res, shard);
    }
  }
  text(res, 404, "not found");
}

void router::hit(const http_request_view& req, std::string_view query, bool gif, http_response& res,
                 counter_shard& shard) const {
  hit_scratch scratch;
  const std::string_view body = is_form_body(req.content_type) ? req.body : std::string_view{};
  const hit_result r = parse_http_hit(query, body, scratch);
  res.cors = true;
  if (!r.ok) return reject(res, shard, transport::http, r.reason, r.detail);
  if (!shard.record(r.value, transport::http)) {
    res.status = 400;
    res.body.assign("site_limit: this pvcd counts no more new sites (max_sites)\n");
    return;
  }
  if (gif) {
    res.status = 200;
    res.content_type = "image/gif";
    res.static_body = gif_body;
  } else {
    res.status = 204;
  }
}

void router::admin_hit(const http_request_view& req, std::string_view query, http_response& res,
                       counter_shard& shard) const {
  hit_scratch scratch;
  const std::string_view body = is_form_body(req.content_type) ? req.body : std::string_view{};
  hit_result r = parse_http_hit(query, body, scratch);
  if (!r.ok) return reject(res, shard, transport::admin, r.reason, r.detail);
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
    return reject(res, shard, transport::admin, reject_reason::bad_count,
                  "count must be an integer in 1..1000000");
  }
  if (!shard.record(r.value, transport::admin)) {
    res.status = 400;
    res.body.assign("site_limit: this pvcd counts no more new sites (max_sites)\n");
    return;
  }
  res.status = 204;
}

void router::views(std::string_view query, http_response& res) const {
  std::string_view raw_site = default_site;
  std::vector<std::string_view> raw_articles;
  bool too_many = false;
  for_each_form_field(query, [&](std::string_view name, std::string_view value) {
    if (name == "s") raw_site = value;
    if (name == "a") {
      if (raw_articles.size() == max_articles_per_view_request)
        too_many = true;
      else
        raw_articles.push_back(value);
    }
  });
  if (too_many) return text(res, 400, "malformed: at most 100 articles per request");
  id_buffer site_buf;
  const decoded_id site = decode_id(raw_site, site_buf);
  if (site.status != id_status::ok) return text(res, 400, "bad_site: site is not a valid id");
  // Decoded article ids need stable storage: one buffer each.
  std::vector<id_buffer> buffers(raw_articles.size());
  std::vector<std::string_view> articles;
  articles.reserve(raw_articles.size());
  for (std::size_t i = 0; i < raw_articles.size(); ++i) {
    const decoded_id a = decode_id(raw_articles[i], buffers[i]);
    if (a.status != id_status::ok) {
      return text(res, 400, "bad_article: an article is not a valid id");
    }
    // A repeated id is answered once: JSON object keys must be unique.
    if (std::find(articles.begin(), articles.end(), a.value) == articles.end()) {
      articles.push_back(a.value);
    }
  }
  const views_snapshot snap = ctx_.db.read_views(site.value, articles, ctx_.table.current_day());
  if (!snap.error.empty()) return text(res, 500, "store read failed");

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

}  // namespace pvc
