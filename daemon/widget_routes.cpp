// The widget's routes and beacon hooks (see widget.hpp).
//
//   GET /widget.js
//   GET /api/v1/widget?s=SITE[&a=ID]
//     {"site":"S","online":N,"today":N,"yesterday":N,"this_month":N,"total":N,
//      "article":{"id":"ID","total":N,"today":N},
//      "visitors":{"today":N,"yesterday":N,"this_month":N}}
//   GET /api/v1/visitors?s=SITE
//     {"site":"S","online":N,"today":N,"yesterday":N,"this_month":N}
//   GET /api/v1/top?s=SITE&period=day|week|month|all&n=10
//     [{"id":"ID","views":N},...]
//
// Most viewed, and why it never scans the store per request: the handler
// serves a list from memory. One background thread refreshes every list
// asked for in the last ten minutes, at most `top_refresh` (10 s) apart:
//   day, week, month: prefix scans of the D keys of the period's days (the
//     articles viewed in those days, nothing older);
//   all: one full scan of the site's T keys when the list is first asked for
//     (and hourly, to pick up admin corrections); then each refresh re-reads
//     the totals of the previous top 50 plus every article viewed since the
//     previous refresh (the D keys of its day, the day before and today). An
//     article in neither had a total below the 50th at the previous refresh
//     and has not grown, so the new top 50 is exact.
// The first request for a list answers 503 while it is computed (about a
// second); lists are bounded by max_sites x 4 periods x 50 entries.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "core/hash.hpp"
#include "core/json_text.hpp"
#include "core/store_keys.hpp"
#include "embedded.hpp"
#include "widget.hpp"

namespace pvc {
namespace {

using namespace std::chrono_literals;

// Lists not asked for this long stop being refreshed and are dropped.
constexpr std::int64_t top_idle_seconds = 600;
// The all-time list is rebuilt from a full scan this often, so admin
// corrections (which change totals without day counts) show within the hour.
constexpr std::int64_t top_rescan_seconds = 3600;

std::int64_t steady_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string etag_of(std::string_view body) {
  return fmt::format("\"{:016x}\"", hash_bytes(body, 0x70766364ULL));
}

// ETag, and 304 when the client already has this body.
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

// Access-Control-Allow-Origin for the configured origins ("*" = any).
void allow_origin(const widget_options& o, const http_request_view& req, http_response& res) {
  for (const std::string& allowed : o.cors_origins) {
    if (allowed == "*") {
      res.cors = true;
      res.cors_origin = "*";
      return;
    }
  }
  for (const std::string& allowed : o.cors_origins) {
    if (!req.origin.empty() && req.origin == allowed) {
      res.cors = true;
      res.cors_origin = allowed;  // the configured copy: it outlives the request
      return;
    }
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

void answer_widget(widget_state& w, const http_request_view& req, std::string_view query,
                   http_response& res, counter_shard& shard) {
  allow_origin(w.options(), req, res);
  site_query q;
  if (!parse_query(query, q, res)) return;
  // One day for every figure. The day only moves forward, and a day's
  // counts reach the store only after it began: if it is the same before
  // and after the read, the snapshot has nothing of a later day. A request
  // racing midnight reads again (at most twice more).
  std::vector<std::string_view> articles;
  if (q.article) articles.push_back(*q.article);
  day_number today = w.table().current_day();
  views_snapshot snap;
  for (int attempt = 0; attempt < 3; ++attempt) {
    snap = w.db().read_views(q.site, articles, today);
    const day_number after = w.table().current_day();
    if (after == today) break;
    today = after;
  }
  if (!snap.error.empty()) return res.text(500, "store read failed");
  const visitor_counts v = w.visitors().counts(shard.index(), q.site, today, w.now_seconds());

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
    fmt::format_to(std::back_inserter(out), ",\"total\":{},\"today\":{}}}", snap.articles[0].total,
                   snap.articles[0].today);
  }
  fmt::format_to(std::back_inserter(out),
                 ",\"visitors\":{{\"today\":{},\"yesterday\":{},\"this_month\":{}}}}}", v.today,
                 v.yesterday, v.this_month);
  res.status = 200;
  res.content_type = "application/json";
  // Short: a portal page asks on every load; this only spares bursts.
  finish_cacheable(req, res, "public, max-age=5");
}

void answer_visitors(widget_state& w, const http_request_view& req, std::string_view query,
                     http_response& res, counter_shard& shard) {
  allow_origin(w.options(), req, res);
  site_query q;
  if (!parse_query(query, q, res)) return;
  const day_number today = w.table().current_day();
  const visitor_counts v = w.visitors().counts(shard.index(), q.site, today, w.now_seconds());
  std::string& out = res.body;
  out.clear();
  out += "{\"site\":";
  append_json_string(out, q.site);
  fmt::format_to(std::back_inserter(out),
                 ",\"online\":{},\"today\":{},\"yesterday\":{},\"this_month\":{}}}", v.online,
                 v.today, v.yesterday, v.this_month);
  res.status = 200;
  res.content_type = "application/json";
  finish_cacheable(req, res, "public, max-age=5");
}

std::optional<top_span> span_named(std::string_view s) {
  if (s == "day") return top_span::day;
  if (s == "week") return top_span::week;
  if (s == "month") return top_span::month;
  if (s == "all") return top_span::all;
  return std::nullopt;
}

void answer_top(widget_state& w, const http_request_view& req, std::string_view query,
                http_response& res) {
  allow_origin(w.options(), req, res);
  site_query q;
  if (!parse_query(query, q, res)) return;
  const auto span = span_named(q.period);
  if (!span) return res.text(400, "malformed: period must be day, week, month or all");
  std::uint32_t n = 10;
  if (!q.n.empty() && !parse_count(q.n, widget_state::max_top, n)) {
    return res.text(400, "malformed: n must be an integer in 1..50");
  }
  std::string& out = res.body;
  out.clear();
  res.content_type = "application/json";
  if (!w.table().sites().contains(q.site)) {
    out = "[]";  // no counts at all: nothing to compute
  } else {
    const auto list = w.top(q.site, *span);
    if (!list) {
      res.text(503, "most viewed: computing this list, retry in a second");
      res.cache_control = "no-store";
      return;
    }
    out += '[';
    for (std::size_t i = 0; i < list->size() && i < n; ++i) {
      if (i) out += ',';
      out += "{\"id\":";
      append_json_string(out, (*list)[i].id);
      fmt::format_to(std::back_inserter(out), ",\"views\":{}}}", (*list)[i].views);
    }
    out += ']';
  }
  res.status = 200;
  finish_cacheable(req, res, "public, max-age=5");
}

void keep_top(std::vector<top_entry>& items, std::size_t n) {
  auto better = [](const top_entry& a, const top_entry& b) {
    return a.views != b.views ? a.views > b.views : a.id < b.id;
  };
  std::erase_if(items, [](const top_entry& e) { return e.views == 0; });
  if (items.size() > n) {
    std::partial_sort(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(n), items.end(),
                      better);
    items.resize(n);
  } else {
    std::sort(items.begin(), items.end(), better);
  }
}

}  // namespace

std::string load_bot_list(const std::string& path, bot_list& out) {
  std::string text;
  if (path.empty()) {
    text.assign(embedded::bots_txt());
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "bot_list_file: cannot read " + path;
    std::ostringstream buf;
    buf << in.rdbuf();
    text = buf.str();
  }
  if (auto err = bot_list::parse(text, out); !err.empty()) {
    return "bot_list_file: " + (path.empty() ? std::string("built-in list") : path) + ": " + err;
  }
  return {};
}

std::optional<reject_reason> bot_gate::admit(const hit&, const http_request_view&,
                                             const client_info& client, std::size_t shard) {
  if (lists_(shard).matches(client.user_agent)) return reject_reason::bot;
  return std::nullopt;
}

widget_state::widget_state(store& db, counter_table& table, std::size_t threads,
                           widget_options options, clock_fn now)
    : db_(db),
      table_(table),
      options_(std::move(options)),
      now_(now ? std::move(now) : clock_fn(steady_seconds)),
      visitors_(threads, options_.online_window, options_.make_salt),
      memos_(std::max<std::size_t>(threads, 1)) {
  if (options_.dedupe_window.count() > 0) {
    dedupe_ = std::make_unique<dedupe_table>(options_.dedupe_window);
  }
}

widget_state::~widget_state() {
  stop();
}

std::string widget_state::restore() {
  const day_number today = table_.current_day();
  std::vector<std::pair<std::string, std::string>> stored;
  auto keep = [&](std::string_view k, std::string_view v) { stored.emplace_back(k, v); };
  std::string err = db_.scan_prefix("K", keep);
  if (err.empty()) err = db_.scan_prefix("V", keep);
  if (err.empty()) err = db_.scan_prefix("Ud" + day_key(today - 1), keep);
  if (!err.empty()) return "data_dir: cannot read the visitor state: " + err;
  const key_writes tidy = visitors_.restore(today, stored);
  if (!tidy.empty()) {
    if (err = db_.write_keys(tidy); !err.empty()) {
      return "data_dir: cannot tidy the visitor state: " + err;
    }
  }
  spdlog::info("event=visitors_restored sites={} tidied={} dedupe_bytes={}", visitors_.site_count(),
               tidy.put.size() + tidy.erase.size(), dedupe_memory_bytes());
  return {};
}

const visitor_ids& widget_state::ids_for(const hit& h, const client_info& client, std::size_t shard,
                                         day_number day) {
  memo& m = memos_[shard % memos_.size()];
  // The same beacon as the gate saw (the listener runs right after it, on
  // this thread, with the same views): reuse its ids.
  if (m.ip == client.ip.data() && m.ip_len == client.ip.size() &&
      m.user_agent == client.user_agent.data() && m.user_agent_len == client.user_agent.size() &&
      m.site == h.site.data() && m.site_len == h.site.size() && m.day == day && m.ids.valid) {
    return m.ids;
  }
  m.ip = client.ip.data();
  m.ip_len = client.ip.size();
  m.user_agent = client.user_agent.data();
  m.user_agent_len = client.user_agent.size();
  m.site = h.site.data();
  m.site_len = h.site.size();
  m.day = day;
  m.ids = visitors_.ids(day, client.ip, client.user_agent, h.site);
  return m.ids;
}

std::optional<reject_reason> widget_state::gate::admit(const hit& h, const http_request_view&,
                                                       const client_info& client,
                                                       std::size_t shard) {
  const day_number day = w_.table_.current_day();
  // Recompute: a memo from an earlier beacon may share these addresses.
  w_.memos_[shard % w_.memos_.size()].ids.valid = false;
  const visitor_ids& ids = w_.ids_for(h, client, shard, day);
  if (!w_.dedupe_ || !ids.valid) return std::nullopt;
  if (w_.dedupe_->admit(hash_bytes(h.article, ids.month), w_.now_())) return std::nullopt;
  return reject_reason::duplicate;
}

void widget_state::listener::counted(const hit& h, const client_info& client, std::size_t shard) {
  const day_number day = w_.table_.current_day();
  const visitor_ids& ids = w_.ids_for(h, client, shard, day);
  w_.visitors_.record(shard, h.site, day, ids, w_.now_());
  w_.memos_[shard % w_.memos_.size()].ids.valid = false;  // used: the next beacon computes anew
}

void widget_state::start() {
  std::lock_guard lock(top_mutex_);
  if (refresher_.joinable()) return;
  stopping_ = false;
  refresher_ = std::thread([this] { run_refresher(); });
}

void widget_state::stop() {
  stopping_writes_.store(true, std::memory_order_relaxed);
  {
    std::lock_guard lock(top_mutex_);
    stopping_ = true;
  }
  top_cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
}

std::shared_ptr<const std::vector<top_entry>> widget_state::top(std::string_view site,
                                                                top_span span) {
  std::lock_guard lock(top_mutex_);
  auto [it, added] = tops_.try_emplace(top_key{std::string(site), span});
  it->second.asked_at = now_();
  if (added) top_cv_.notify_all();
  return it->second.result;
}

void widget_state::run_refresher() {
  std::unique_lock lock(top_mutex_);
  while (!stopping_) {
    top_cv_.wait_for(lock, 1s);
    if (stopping_) break;
    lock.unlock();
    refresh_top();
    lock.lock();
  }
}

void widget_state::refresh_top() {
  const std::int64_t now = now_();
  std::vector<std::pair<top_key, top_state>> due;
  {
    std::lock_guard lock(top_mutex_);
    for (auto it = tops_.begin(); it != tops_.end();) {
      if (now - it->second.asked_at > top_idle_seconds) {
        it = tops_.erase(it);
        continue;
      }
      // One second early, so a list is never older than top_refresh when served.
      if (!it->second.result || now - it->second.computed_at >= options_.top_refresh.count() - 1) {
        due.emplace_back(it->first, it->second);
      }
      ++it;
    }
  }
  for (auto& [key, state] : due) {
    std::vector<top_entry> list;
    const std::int64_t started = now_();
    if (auto err = compute_top(key.site, key.span, state, list); !err.empty()) {
      spdlog::warn("event=top_failed site={} error=\"{}\"", key.site, err);
      continue;
    }
    std::lock_guard lock(top_mutex_);
    auto it = tops_.find(key);
    if (it == tops_.end()) continue;
    it->second.result = std::make_shared<const std::vector<top_entry>>(std::move(list));
    it->second.computed_at = started;
    it->second.base = std::move(state.base);
    it->second.base_scanned_at = state.base_scanned_at;
    it->second.base_day = state.base_day;
  }
}

std::string widget_state::compute_top(const std::string& site, top_span span, top_state& state,
                                      std::vector<top_entry>& out) {
  const day_number today = table_.current_day();
  std::unordered_map<std::string, std::uint64_t> sums;
  auto scan_day = [&](day_number d) {
    const std::string prefix = keys::article_day(day_key(d), site, "");
    return db_.scan_prefix(prefix, [&](std::string_view k, std::string_view v) {
      std::uint64_t n = 0;
      if (keys::decode_count(v, n)) sums[std::string(k.substr(prefix.size()))] += n;
    });
  };
  auto to_list = [&] {
    out.clear();
    out.reserve(sums.size());
    for (auto& [id, n] : sums)
      out.push_back({id, n});
    keep_top(out, max_top);
  };
  if (span != top_span::all) {
    const day_number first = span == top_span::day    ? today
                             : span == top_span::week ? today - 6
                                                      : first_of_month(today);
    for (day_number d = first; d <= today; ++d) {
      if (auto err = scan_day(d); !err.empty()) return err;
    }
    to_list();
    return {};
  }
  const std::int64_t now = now_();
  if (state.base_scanned_at == INT64_MIN || now - state.base_scanned_at >= top_rescan_seconds) {
    // Every article of the site, once: the base the incremental refreshes build on.
    const std::string prefix = keys::article_total(site, "");
    if (auto err = db_.scan_prefix(
            prefix,
            [&](std::string_view k, std::string_view v) {
              std::uint64_t n = 0;
              if (keys::decode_count(v, n)) sums[std::string(k.substr(prefix.size()))] = n;
            },
            false);
        !err.empty()) {
      return err;
    }
    state.base_scanned_at = now;
  } else {
    // Candidates: the previous top, and every article viewed since (from the
    // day before the previous refresh: a flush racing midnight may still
    // have written that day's counts after it).
    for (const top_entry& e : state.base)
      sums[e.id] = 0;
    for (day_number d = state.base_day - 1; d <= today; ++d) {
      if (auto err = scan_day(d); !err.empty()) return err;
    }
    std::vector<std::string> total_keys;
    std::vector<std::string> ids;
    total_keys.reserve(sums.size());
    for (const auto& [id, n] : sums) {
      ids.push_back(id);
      total_keys.push_back(keys::article_total(site, id));
    }
    std::vector<std::uint64_t> totals;
    if (auto err = db_.read_counts(total_keys, totals); !err.empty()) return err;
    for (std::size_t i = 0; i < ids.size(); ++i)
      sums[ids[i]] = totals[i];
  }
  to_list();
  state.base = out;
  state.base_day = today;
  return {};
}

void add_widget_routes(router& r, widget_state& w) {
  if (r.kind() == router::role::public_api) {
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
  r.add("/api/v1/widget", "GET",
        [&w](const http_request_view& req, std::string_view q, http_response& res,
             counter_shard& shard) { answer_widget(w, req, q, res, shard); });
  r.add("/api/v1/visitors", "GET",
        [&w](const http_request_view& req, std::string_view q, http_response& res,
             counter_shard& shard) { answer_visitors(w, req, q, res, shard); });
  r.add("/api/v1/top", "GET",
        [&w](const http_request_view& req, std::string_view q, http_response& res, counter_shard&) {
          answer_top(w, req, q, res);
        });
}

}  // namespace pvc
