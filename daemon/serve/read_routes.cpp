// The read routes, on both listeners: every figure comes from the reader
// (read/reader.hpp), never from the store directly.
//
//   GET /api/v1/views?s=SITE&a=ID[&a=ID...]
//     {"site":"S","total":N,"today":N,"yesterday":N,"this_month":N,
//      "articles":{"ID":{"total":N,"today":N},...}}
//   GET /api/v1/widget?s=SITE[&a=ID]
//     {"site":"S","online":N,"today":N,"yesterday":N,"this_month":N,"total":N,
//      "article":{"id":"ID","total":N,"today":N[,"title":"T"]},
//      "visitors":{"today":N,"yesterday":N,"this_month":N}}
//   GET /api/v1/visitors?s=SITE
//     {"site":"S","online":N,"today":N,"yesterday":N,"this_month":N}
//   GET /api/v1/top?s=SITE&period=day|week|month|all&n=10
//     [{"id":"ID","views":N[,"title":"T"]},...]
//   GET /api/v1/sites
//     {"sites":[{"site":"S","total":N,"today":N,"this_month":N},...]}
//
// and, on the public listener, GET /widget.js (widget/widget.js, built in).
//
// The views, widget and visitors answers are written by hand: a portal page
// asks for them on every load. bench/RESULTS.md ("JSON answers"): the widget
// body costs 441 ns by hand and 983 ns with Boost.JSON (2.2x, +0.54 us), about
// 7% of a whole one-article views request (7.9 us) - kept by hand because
// that is measurable on the hottest route, and ids are ASCII-checked so the
// escaping stays trivial. The rest use Boost.JSON.
#include <fmt/format.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

#include "app/embedded.hpp"
#include "core/hash.hpp"
#include "core/hit_parser.hpp"
#include "core/json_text.hpp"
#include "read/reader.hpp"
#include "serve/routes.hpp"

namespace pvc {
namespace {

// A read the backend could not answer: 503 while a cache fetches the counts
// for the first time (cluster mode; retry in a second), else 500.
void answer_read_error(std::string_view error, http_response& res) {
  if (error == reader::warming) {
    res.text(503, "counts: fetching them from the cluster, retry in a second");
    res.cache_control = "no-store";
    return;
  }
  res.text(500, "store read failed");
}

// A views request names at most this many articles: enough for a page of
// "most viewed" links, small enough that one request stays cheap.
constexpr std::size_t max_articles_per_view_request = 100;

std::string etag_of(std::string_view body) {
  return fmt::format("\"{:016x}\"", hash_bytes(body, 0x70766364ULL));
}

// ETag, and 304 when the client already has this body.
// Says when the figures are behind: the cluster is unreachable (cluster
// mode), so they are the last ones read.
void mark_staleness(route_context& ctx, http_response& res) {
  if (const double s = ctx.read.stale_seconds(); s > 0) {
    res.stale_seconds = static_cast<std::uint32_t>(std::min(s, 4e9));
  }
}

void finish_cacheable(const http_request_view& req, http_response& res,
                      std::string_view cache_control) {
  res.etag = etag_of(res.payload());
  res.cache_control = cache_control;
  if (!req.if_none_match.empty() && req.if_none_match.find(res.etag) != std::string_view::npos) {
    res.status = 304;
    res.body.clear();
    res.static_body = {};
  }
}

struct site_query {
  id_buffer site_buf;
  id_buffer article_buf;
  std::string_view site = default_site;
  std::optional<std::string_view> article;
  std::string_view period = "day";
  std::string_view n;
};

// s= (default "default"), a=, period=, n=; a field given twice is refused.
bool parse_query(std::string_view query, site_query& q, http_response& res) {
  std::string_view raw_site = default_site, raw_article;
  bool have_article = false, repeated = false;
  int seen_s = 0, seen_a = 0, seen_p = 0, seen_n = 0;
  for_each_form_field(query, [&](std::string_view name, std::string_view value) {
    if (name == "s") {
      raw_site = value;
      repeated |= ++seen_s > 1;
    } else if (name == "a") {
      raw_article = value;
      have_article = true;
      repeated |= ++seen_a > 1;
    } else if (name == "period") {
      q.period = value;
      repeated |= ++seen_p > 1;
    } else if (name == "n") {
      q.n = value;
      repeated |= ++seen_n > 1;
    }
  });
  if (repeated) {
    res.text(400, "malformed: a field is given twice");
    return false;
  }
  const decoded_id site = decode_id(raw_site, q.site_buf);
  if (site.status != id_status::ok) {
    res.text(400, "bad_site: site is not a valid id");
    return false;
  }
  q.site = site.value;
  if (have_article) {
    const decoded_id a = decode_id(raw_article, q.article_buf);
    if (a.status != id_status::ok) {
      res.text(400, "bad_article: article is not a valid id");
      return false;
    }
    q.article = a.value;
  }
  return true;
}

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
  const views_snapshot snap = ctx.read.views(site.value, articles);
  if (!snap.error.empty()) return answer_read_error(snap.error, res);

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
  mark_staleness(ctx, res);
}

void answer_widget(route_context& ctx, const http_request_view& req, std::string_view query,
                   http_response& res, counter_shard& shard) {
  allow_configured_origins(ctx, req, res, shard.index());
  site_query q;
  if (!parse_query(query, q, res)) return;
  std::vector<std::string_view> articles;
  if (q.article) articles.push_back(*q.article);
  const views_snapshot snap = ctx.read.views(q.site, articles);
  if (!snap.error.empty()) return answer_read_error(snap.error, res);
  const visitor_counts v = ctx.read.visitors(q.site, shard.index());

  std::string& out = res.body;
  out.clear();
  out += "{\"site\":";
  append_json_string(out, q.site);
  fmt::format_to(std::back_inserter(out),
                 ",\"online\":{},\"today\":{},\"yesterday\":{},\"this_month\":{},\"total\":{}",
                 v.online, snap.site.today, snap.site.yesterday, snap.site.this_month,
                 snap.site.total);
  if (q.article) {
    out += ",\"article\":{\"id\":";
    append_json_string(out, *q.article);
    fmt::format_to(std::back_inserter(out), ",\"total\":{},\"today\":{}", snap.articles[0].total,
                   snap.articles[0].today);
    // Titles are valid UTF-8 without control characters (title_text.hpp);
    // append_json_string escapes quotes and backslashes.
    if (const std::string title = ctx.read.titles(q.site, articles)[0]; !title.empty()) {
      out += ",\"title\":";
      append_json_string(out, title);
    }
    out += '}';
  }
  fmt::format_to(std::back_inserter(out),
                 ",\"visitors\":{{\"today\":{},\"yesterday\":{},\"this_month\":{}}}}}", v.today,
                 v.yesterday, v.this_month);
  res.status = 200;
  res.content_type = "application/json";
  // Short: a portal page asks on every load; this only spares bursts.
  mark_staleness(ctx, res);
  finish_cacheable(req, res, "public, max-age=5");
}

void answer_visitors(route_context& ctx, const http_request_view& req, std::string_view query,
                     http_response& res, counter_shard& shard) {
  allow_configured_origins(ctx, req, res, shard.index());
  site_query q;
  if (!parse_query(query, q, res)) return;
  const visitor_counts v = ctx.read.visitors(q.site, shard.index());
  std::string& out = res.body;
  out.clear();
  out += "{\"site\":";
  append_json_string(out, q.site);
  fmt::format_to(std::back_inserter(out),
                 ",\"online\":{},\"today\":{},\"yesterday\":{},\"this_month\":{}}}", v.online,
                 v.today, v.yesterday, v.this_month);
  res.status = 200;
  res.content_type = "application/json";
  mark_staleness(ctx, res);
  finish_cacheable(req, res, "public, max-age=5");
}

std::optional<top_period> period_named(std::string_view s) {
  if (s == "day") return top_period::day;
  if (s == "week") return top_period::week;
  if (s == "month") return top_period::month;
  if (s == "all") return top_period::all;
  return std::nullopt;
}

void answer_top(route_context& ctx, const http_request_view& req, std::string_view query,
                http_response& res, counter_shard& shard) {
  allow_configured_origins(ctx, req, res, shard.index());
  site_query q;
  if (!parse_query(query, q, res)) return;
  const auto period = period_named(q.period);
  if (!period) return res.text(400, "malformed: period must be day, week, month or all");
  std::uint32_t n = 10;
  if (!q.n.empty() && !parse_count(q.n, reader::top_cached_length, n)) {
    return res.text(400, "malformed: n must be an integer in 1..50");
  }
  boost::json::array list;
  if (ctx.table.sites().contains(q.site)) {  // else no counts at all: nothing to compute
    const auto top = ctx.read.cached_top(q.site, *period);
    if (!top) {
      res.text(503, "most viewed: computing this list, retry in a second");
      res.cache_control = "no-store";
      return;
    }
    for (std::size_t i = 0; i < top->articles.size() && i < n; ++i) {
      const ranked_article& a = top->articles[i];
      boost::json::object item{{"id", a.article}, {"views", a.views}};
      if (!a.title.empty()) item["title"] = a.title;
      list.push_back(std::move(item));
    }
  }
  res.body = boost::json::serialize(list);
  res.status = 200;
  res.content_type = "application/json";
  mark_staleness(ctx, res);
  finish_cacheable(req, res, "public, max-age=5");
}

// Every site with its total, today and this month, by name: one read of
// three counts per site (the number of sites is bounded by max_sites).
void answer_sites(route_context& ctx, const http_request_view& req, http_response& res,
                  counter_shard& shard) {
  allow_configured_origins(ctx, req, res, shard.index());
  const std::vector<std::string> names = ctx.read.site_names();
  const day_number today = ctx.read.today();
  std::vector<count_ref> refs;
  refs.reserve(3 * names.size());
  for (const std::string& site : names) {
    refs.push_back({site, {}, count_period::all, 0});
    refs.push_back({site, {}, count_period::day, today});
    refs.push_back({site, {}, count_period::month, today});
  }
  std::vector<std::uint64_t> v;
  if (const std::string e = ctx.read.counts(refs, v); !e.empty()) return answer_read_error(e, res);
  boost::json::array sites;
  sites.reserve(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    sites.push_back({{"site", names[i]},
                     {"total", v[3 * i]},
                     {"today", v[3 * i + 1]},
                     {"this_month", v[3 * i + 2]}});
  }
  res.body = boost::json::serialize(boost::json::object{{"sites", std::move(sites)}});
  res.status = 200;
  res.content_type = "application/json";
  mark_staleness(ctx, res);
  finish_cacheable(req, res, "public, max-age=5");
}

}  // namespace

void add_read_routes(router& r) {
  route_context& ctx = r.context();
  r.add(
      "/api/v1/views", "GET",
      [&ctx](const http_request_view&, std::string_view q, http_response& res, counter_shard&) {
        answer_views(ctx, q, res);
      },
      router::cross_origin::any);
  r.add(
      "/api/v1/widget", "GET",
      [&ctx](const http_request_view& req, std::string_view q, http_response& res,
             counter_shard& shard) { answer_widget(ctx, req, q, res, shard); },
      router::cross_origin::configured);
  r.add(
      "/api/v1/visitors", "GET",
      [&ctx](const http_request_view& req, std::string_view q, http_response& res,
             counter_shard& shard) { answer_visitors(ctx, req, q, res, shard); },
      router::cross_origin::configured);
  r.add(
      "/api/v1/top", "GET",
      [&ctx](const http_request_view& req, std::string_view q, http_response& res,
             counter_shard& shard) { answer_top(ctx, req, q, res, shard); },
      router::cross_origin::configured);
  r.add(
      "/api/v1/sites", "GET",
      [&ctx](const http_request_view& req, std::string_view, http_response& res,
             counter_shard& shard) { answer_sites(ctx, req, res, shard); },
      router::cross_origin::configured);
}

void add_widget_script(router& r) {
  r.add("/widget.js", "GET",
        [](const http_request_view& req, std::string_view, http_response& res, counter_shard&) {
          res.status = 200;
          res.content_type = "text/javascript; charset=utf-8";
          res.static_body = embedded::widget_js();
          // The script may be cached for an hour; the counts it shows are
          // fetched live on every page load.
          finish_cacheable(req, res, "public, max-age=3600");
        });
}

}  // namespace pvc
