// The admin API: route table, authorization, reads (top, stats, export,
// audit) and corrections (adjust, rename, merge). Imports, backups and the
// worker thread are in admin_jobs.cpp.
#include "admin/admin_api.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <cmath>
#include <filesystem>

#include "admin/admin_api_impl.hpp"
#include "admin/admin_auth.hpp"
#include "core/counter_table.hpp"
#include "core/form_text.hpp"
#include "core/hash.hpp"
#include "core/hex.hpp"
#include "core/thread_name.hpp"
#include "core/title_table.hpp"
#include "core/title_text.hpp"
#include "flush/flusher.hpp"
#include "store/store_titles.hpp"
#include "version.hpp"

namespace pvc {

// ---- shared helpers --------------------------------------------------------------

unsigned http_status_of(admin_status s) {
  switch (s) {
    case admin_status::ok:
      return 200;
    case admin_status::bad_request:
      return 400;
    case admin_status::not_found:
      return 404;
    case admin_status::conflict:
      return 409;
    case admin_status::failed:
      return 500;
  }
  return 500;
}

void json_answer(http_response& res, unsigned status, const boost::json::value& body) {
  res.status = status;
  res.content_type = "application/json";
  res.body = boost::json::serialize(body);
  res.body += '\n';
}

bool text_field(const query_fields& q, std::string_view name, std::size_t max_bytes,
                std::string& out, http_response& res) {
  out.clear();
  const auto raw = q.raw(name);
  if (!raw) return true;
  if (auto why = decode_form_text(*raw, max_bytes, out); !why.empty()) {
    res.text(400, fmt::format("bad_request: {}: {}", name, why));
    return false;
  }
  return true;
}

bool id_field(const query_fields& q, std::string_view name, id_buffer& buf, std::string_view& out,
              http_response& res, bool required) {
  const auto raw = q.raw(name);
  if (!raw) {
    if (required) res.text(400, fmt::format("bad_request: {}= is required", name));
    return !required;
  }
  const decoded_id id = decode_id(*raw, buf);
  if (id.status != id_status::ok) {
    res.text(
        400,
        fmt::format("bad_request: {} is not a valid id (1-200 bytes of UTF-8, no space or control "
                    "character)",
                    name));
    return false;
  }
  out = id.value;
  return true;
}

bool number_field(const query_fields& q, std::string_view name, std::uint64_t lo, std::uint64_t hi,
                  std::uint64_t fallback, std::uint64_t& out, http_response& res) {
  const auto raw = q.raw(name);
  if (!raw) {
    out = fallback;
    return true;
  }
  auto [end, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), out);
  if (ec != std::errc{} || end != raw->data() + raw->size() || out < lo || out > hi) {
    res.text(400, fmt::format("bad_request: {} must be a whole number in {}..{}", name, lo, hi));
    return false;
  }
  return true;
}

// Makes a changed key count from now on even past the key caps, and a new
// site known to the site registry, as a flush would have.
void admit_key(counter_table& table, std::string_view site, std::string_view article) {
  table.sites().preload(site);
  if (key_guard* g = table.guard(); g && !article.empty()) {
    g->preload(hash_key(site, article, process_hash_seed()));
  }
}

namespace {

bool no_duplicates(const query_fields& q, http_response& res) {
  if (q.duplicate().empty()) return true;
  res.text(400, fmt::format("bad_request: {}= is given twice", q.duplicate()));
  return false;
}

void answer_outcome(http_response& res, std::string_view action, const admin_outcome& r) {
  if (!r.ok()) return res.text(http_status_of(r.status), r.message);
  json_answer(res, 200, {{"ok", true}, {"action", action}, {"details", details_value(r.details)}});
}

void log_change(std::string_view action, const audit_entry& e, const admin_outcome& r) {
  if (r.ok()) {
    spdlog::info("event=admin_change action={} by=\"{}\" peer={} auth={} details={}", action,
                 e.caller.by, e.caller.peer, e.caller.auth, r.details);
  } else {
    spdlog::warn("event=admin_change_refused action={} by=\"{}\" peer={} status={} error=\"{}\"",
                 action, e.caller.by, e.caller.peer, http_status_of(r.status), r.message);
  }
}

// ---- reads -----------------------------------------------------------------------

void answer_top(admin_api::impl& m, std::string_view query, http_response& res) {
  const query_fields q(query);
  if (!no_duplicates(q, res)) return;
  id_buffer site_buf;
  std::string_view site = default_site;
  if (!id_field(q, "s", site_buf, site, res, false)) return;
  const std::string_view period_text = q.raw("period").value_or("day");
  top_period period;
  if (period_text == "day") {
    period = top_period::day;
  } else if (period_text == "week") {
    period = top_period::week;
  } else if (period_text == "month") {
    period = top_period::month;
  } else if (period_text == "all") {
    period = top_period::all;
  } else {
    return res.text(400, "bad_request: period must be day, week, month or all");
  }
  std::uint64_t n = 0;
  if (!number_field(q, "n", 1, 1000, 10, n, res)) return;
  const top_list top = m.reads.top(site, period, n);
  if (!top.error.empty()) return res.text(500, "store read failed: " + top.error);
  boost::json::object out{{"site", site}, {"period", period_text}};
  if (period != top_period::all) {
    out["from"] = day_key(top.from);
    out["to"] = day_key(top.to);
  }
  boost::json::array& articles = out["articles"].emplace_array();
  articles.reserve(top.articles.size());
  for (const auto& a : top.articles) {
    boost::json::object item{{"article", a.article}, {"views", a.views}};
    if (!a.title.empty()) item["title"] = a.title;
    articles.push_back(std::move(item));
  }
  json_answer(res, 200, out);
}

void answer_stats(admin_api::impl& m, http_response& res) {
  const ingest_sample now = m.sample_now();
  ingest_sample base;
  {
    std::lock_guard lock(m.mutex);
    // The oldest sample of the last minute; before the first, the start.
    base = m.samples.empty() ? ingest_sample{} : m.samples.front();
  }
  if (base.at == steady::time_point{}) {
    base.at = now.at - std::chrono::duration_cast<steady::duration>(
                           std::chrono::system_clock::now() - m.started_at);
  }
  const double window = std::max(std::chrono::duration<double>(now.at - base.at).count(), 1e-3);
  const double uptime =
      std::chrono::duration<double>(std::chrono::system_clock::now() - m.started_at).count();

  // Rates and times to the millisecond, as before: Boost.JSON writes the
  // shortest form of the rounded number.
  auto milli = [](double x) { return std::round(x * 1000) / 1000; };
  boost::json::object out{
      {"version", version},
      {"revision", revision},
      {"started", format_utc_microseconds(std::chrono::duration_cast<std::chrono::microseconds>(
                                              m.started_at.time_since_epoch())
                                              .count())},
      {"uptime_seconds", milli(uptime)},
      {"threads", m.table.shard_count()},
  };
  boost::json::object ingest{{"window_seconds", milli(window)}};
  for (std::size_t t = 0; t < transport_count; ++t) {
    ingest[transport_names[t]] = {
        {"hits", now.hits[t]},
        {"views", now.views[t]},
        {"hits_per_second", milli(static_cast<double>(now.hits[t] - base.hits[t]) / window)},
        {"views_per_second", milli(static_cast<double>(now.views[t] - base.views[t]) / window)}};
  }
  out["ingest"] = std::move(ingest);
  boost::json::object rejected;
  for (std::size_t t = 0; t < transport_count; ++t) {
    boost::json::object reasons;
    for (std::size_t r = 0; r < reject_reason_count; ++r) {
      std::uint64_t n = 0;
      for (std::size_t s = 0; s < m.table.shard_count(); ++s)
        n += m.table.shard(s).stats().hits_rejected[t][r].get();
      reasons[reject_reason_names[r]] = n;
    }
    rejected[transport_names[t]] = std::move(reasons);
  }
  out["rejected"] = std::move(rejected);
  std::size_t tracked = 0;
  for (std::size_t s = 0; s < m.table.shard_count(); ++s)
    tracked += m.table.shard(s).tracked_keys();
  const flusher_stats& fs = m.flush.stats();
  const double last_flush = fs.last_success_unix.load(std::memory_order_relaxed);
  const double now_unix =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::uint64_t seq = 0;
  const bool have_seq = m.db.last_flush_seq(seq);
  out["tracked_keys"] = tracked;
  out["sites"] = m.table.sites().size();
  out["max_sites"] = m.table.sites().max_sites();
  if (last_flush > 0) {
    out["last_flush"] = {
        {"unix", milli(last_flush)},
        {"time", format_utc_microseconds(static_cast<std::int64_t>(last_flush * 1e6))},
        {"age_seconds", milli(std::max(0.0, now_unix - last_flush))},
        {"seq", have_seq ? seq : 0}};
  } else {
    out["last_flush"] = nullptr;
  }
  out["flushes"] = fs.flushes.load();
  out["flush_errors"] = fs.errors.load();
  out["pending_keys"] = fs.pending_keys.load();
  out["admin_auth_refused"] = m.auth_refused.load();
  if (m.cluster_stats) out["cluster"] = m.cluster_stats();
  json_answer(res, 200, out);
}

boost::json::object export_row_json(const export_row& r) {
  boost::json::object o{{"site", r.site}};
  if (!r.article.empty()) o["article"] = r.article;  // the site's own counter has no article
  o["total"] = r.count;
  if (r.period != import_period::all_time) o["period"] = r.period_key;
  if (!r.title.empty()) o["title"] = r.title;
  return o;
}

// Pages of one consistent export: the first request takes a snapshot and
// names it in the cursor; later pages read the same snapshot. A session
// idle for a minute is dropped (admin_jobs.cpp).
constexpr std::size_t max_exports = 4;

void answer_export(admin_api::impl& m, std::string_view query, http_response& res) {
  const query_fields q(query);
  if (!no_duplicates(q, res)) return;
  std::uint64_t limit = 0;
  if (!number_field(q, "limit", 1, 10'000, 1000, limit, res)) return;
  std::string id, after;
  std::shared_ptr<export_cursor> pages;
  if (const auto cursor = q.raw("cursor")) {
    const std::size_t dot = cursor->find('.');
    if (dot == std::string_view::npos || !from_hex(cursor->substr(dot + 1), after)) {
      return res.text(400, "bad_request: cursor is not one this server gave");
    }
    id.assign(cursor->substr(0, dot));
    std::lock_guard lock(m.mutex);
    auto it = m.exports.find(id);
    if (it == m.exports.end()) {
      return res.text(404, "export expired (idle for over a minute); start it again");
    }
    it->second.last_active = steady::now();
    pages = it->second.cursor;
  } else {
    id_buffer site_buf;
    std::string_view site;
    if (!id_field(q, "s", site_buf, site, res, false)) return;
    export_filter filter;
    filter.site.assign(site);
    const std::string_view daily = q.raw("daily").value_or("0");
    if (daily != "0" && daily != "1") return res.text(400, "bad_request: daily must be 0 or 1");
    filter.daily = daily == "1";
    std::lock_guard lock(m.mutex);
    if (m.exports.size() >= max_exports) {
      return res.text(503, "too many exports in progress; try again in a minute");
    }
    std::string why;
    pages = m.reads.open_export(filter, why);
    if (!pages) return res.text(503, why);
    id = m.new_id();
    m.exports.emplace(id, export_session{pages, steady::now()});
  }
  std::vector<export_row> rows;
  std::string next;
  const std::string error = pages->page(after, limit, rows, next);
  if (!error.empty() || next.empty()) {
    std::lock_guard lock(m.mutex);
    m.exports.erase(id);
  }
  if (!error.empty()) return res.text(500, "store read failed: " + error);
  boost::json::array list;
  list.reserve(rows.size());
  for (const export_row& r : rows)
    list.push_back(export_row_json(r));
  json_answer(res, 200,
              {{"rows", std::move(list)},
               {"cursor", next.empty() ? std::string() : id + "." + to_hex(next)}});
}

void answer_audit(admin_api::impl& m, std::string_view query, http_response& res) {
  const query_fields q(query);
  if (!no_duplicates(q, res)) return;
  std::uint64_t since = 0, limit = 0;
  if (!number_field(q, "since_us", 0, INT64_MAX, 0, since, res)) return;
  if (!number_field(q, "limit", 1, 10'000, 1000, limit, res)) return;
  std::string after;
  if (!text_field(q, "after", 64, after, res)) return;
  std::vector<std::string> records;
  std::string next;
  const std::string error =
      read_audit(m.db, static_cast<std::int64_t>(since), after, limit, records, next);
  if (!error.empty()) return res.text(500, "store read failed: " + error);
  // Each record is parsed, not pasted: a damaged one (a bad disk, an old
  // bug) shows up as a JSON string instead of breaking the whole answer.
  boost::json::array list;
  list.reserve(records.size());
  for (const std::string& text : records) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(text, ec);
    if (ec) v = boost::json::string(text);
    list.push_back(std::move(v));
  }
  json_answer(res, 200, {{"records", std::move(list)}, {"next", next}});
}

// ---- corrections -----------------------------------------------------------------

constexpr std::size_t max_reason_bytes = 500;

// The s= and a= of a change to one article, decoded.
struct article_ids {
  id_buffer site_buf, article_buf;
  std::string_view site, article;
};

// What every change to one article checks first: the caller may change
// (recorded in `e`), no field is given twice, s= and a= are valid ids.
bool start_article_change(admin_api& api, const http_request_view& req, std::string_view query,
                          const query_fields& q, http_response& res, counter_shard& shard,
                          audit_entry& e, article_ids& ids) {
  if (!api.authorize(req, query, res, shard, &e.caller)) return false;
  if (!no_duplicates(q, res)) return false;
  return id_field(q, "s", ids.site_buf, ids.site, res) &&
         id_field(q, "a", ids.article_buf, ids.article, res);
}

void answer_adjust(admin_api& api, admin_api::impl& m, const http_request_view& req,
                   std::string_view query, http_response& res, counter_shard& shard) {
  audit_entry e{"adjust", {}, {}, {}};
  const query_fields q(query);
  article_ids ids;
  if (!start_article_change(api, req, query, q, res, shard, e, ids)) return;
  const std::string_view site = ids.site, article = ids.article;
  std::string decoded_delta;  // "%2B5" is how a client sends "+5"
  if (!text_field(q, "delta", 32, decoded_delta, res)) return;
  const std::string_view delta_text = decoded_delta;
  std::int64_t delta = 0;
  const std::string_view digits =
      delta_text.starts_with('+') ? delta_text.substr(1) : delta_text;  // "+5" reads as 5
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), delta);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || delta == 0 ||
      (delta_text.starts_with('+') && digits.starts_with('-'))) {
    return res.text(400, "bad_request: delta must be a non-zero whole number, e.g. 250 or -40");
  }
  std::optional<day_number> day;
  if (const auto d = q.raw("day")) {
    day = parse_day_key(*d);
    if (!day) return res.text(400, "bad_request: day must be a date YYYYMMDD");
  }
  if (!text_field(q, "reason", max_reason_bytes, e.reason, res)) return;
  if (e.reason.empty()) return res.text(400, "bad_request: reason= is required for an adjust");
  const admin_outcome r = adjust(m.db, site, article, delta, day, e);
  if (r.ok()) admit_key(m.table, site, article);
  log_change("adjust", e, r);
  answer_outcome(res, "adjust", r);
}

// After a rename or merge: the title table follows the store (from's title
// is gone; to has its own or from's).
void note_moved_title(admin_api::impl& m, std::string_view site, std::string_view from,
                      std::string_view to) {
  if (!m.titles) return;
  m.titles->noted_clear(site, from);
  std::vector<std::string> title;
  const std::string_view ids[] = {to};
  if (read_titles(m.db, site, ids, title).empty() && !title[0].empty()) {
    m.titles->noted_set(site, to, title[0], unix_us_now() / 1'000'000);
  }
}

void answer_move(admin_api& api, admin_api::impl& m, bool rename, const http_request_view& req,
                 std::string_view query, http_response& res, counter_shard& shard) {
  const char* action = rename ? "rename" : "merge";
  audit_entry e{action, {}, {}, {}};
  if (!api.authorize(req, query, res, shard, &e.caller)) return;
  const query_fields q(query);
  if (!no_duplicates(q, res)) return;
  id_buffer site_buf, from_buf, to_buf;
  std::string_view site, from, to;
  if (!id_field(q, "s", site_buf, site, res) || !id_field(q, "from", from_buf, from, res) ||
      !id_field(q, rename ? "to" : "into", to_buf, to, res)) {
    return;
  }
  if (!text_field(q, "reason", max_reason_bytes, e.reason, res)) return;
  const admin_outcome r =
      rename ? rename_article(m.db, site, from, to, e) : merge_articles(m.db, site, from, to, e);
  if (r.ok()) {
    admit_key(m.table, site, to);
    note_moved_title(m, site, from, to);
  }
  log_change(action, e, r);
  answer_outcome(res, action, r);
}

void answer_rename(admin_api& api, admin_api::impl& m, const http_request_view& req,
                   std::string_view query, http_response& res, counter_shard& shard) {
  answer_move(api, m, true, req, query, res, shard);
}

void answer_merge(admin_api& api, admin_api::impl& m, const http_request_view& req,
                  std::string_view query, http_response& res, counter_shard& shard) {
  answer_move(api, m, false, req, query, res, shard);
}

// ---- titles ----------------------------------------------------------------------

void answer_title(admin_api& api, admin_api::impl& m, const http_request_view& req,
                  std::string_view query, http_response& res, counter_shard& shard) {
  audit_entry e{"title", {}, {}, {}};
  const query_fields q(query);
  article_ids ids;
  if (!start_article_change(api, req, query, q, res, shard, e, ids)) return;
  const std::string_view site = ids.site, article = ids.article;
  const auto raw = q.raw("title");
  if (!raw) return res.text(400, "bad_request: title= is required (empty to remove the title)");
  std::string title;
  if (!raw->empty()) {
    if (auto why = decode_title(*raw, title); !why.empty()) {
      return res.text(400, fmt::format("bad_request: {}", why));
    }
  }
  if (!text_field(q, "reason", max_reason_bytes, e.reason, res)) return;
  if (m.titles && !title.empty()) {
    const title_verdict room = m.titles->room_for(site, article);
    if (room == title_verdict::all_full) {
      return res.text(400, "title_cap: pvcd keeps max_titles titles already; remove some first");
    }
    if (room == title_verdict::site_full) {
      return res.text(400,
                      "title_cap: this site has max_titles_per_site titles already; remove some "
                      "first");
    }
  }
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  admin_outcome r = set_title(m.db, site, article, title, now, e);
  if (r.status == admin_status::not_found && m.titles && m.titles->shares_changes()) {
    // Cluster mode: another node may have set it; the removal goes to the
    // cluster all the same (the newest change wins there).
    e.details = boost::json::serialize(boost::json::object{
        {"site", site}, {"article", article}, {"after", nullptr}, {"held_here", false}});
    r = append_audit(m.db, e);
    if (r.ok()) r.details = e.details;
  }
  if (r.ok() && m.titles) {
    if (title.empty()) {
      m.titles->noted_clear(site, article, now);
    } else {
      m.titles->noted_set(site, article, title, now);
    }
  }
  log_change("title", e, r);
  answer_outcome(res, "title", r);
}

}  // namespace

// ---- admin_api -------------------------------------------------------------------

void admin_api::set_titles(title_table* titles) {
  impl_->titles = titles;
}

admin_api::impl::impl(store& d, reader& r, counter_table& t, const flusher& f, token_fn tok)
    : db(d),
      reads(r),
      table(t),
      flush(f),
      token(std::move(tok)),
      last_refusal_log(t.shard_count()) {}

admin_api::admin_api(store& db, reader& reads, counter_table& table, const flusher& flush,
                     token_fn token)
    : impl_(std::make_unique<impl>(db, reads, table, flush, std::move(token))) {
  // What an earlier run left behind: staged imports, unfinished backups.
  if (auto err = discard_import(db, ""); !err.empty()) {
    spdlog::warn("event=import_cleanup_failed error=\"{}\"", err);
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(db.dir(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".backup-checkpoint-") ||
        (name.starts_with("import-") && name.ends_with(".sst"))) {
      std::filesystem::remove_all(entry.path(), ec);
    }
  }
  impl_->worker = std::thread([m = impl_.get()] {
    name_this_thread("pvcd-admin");
    m->run_worker();
  });
}

void admin_api::set_idle_limits(std::chrono::milliseconds export_after,
                                std::chrono::milliseconds import_after) {
  std::lock_guard lock(impl_->mutex);
  impl_->idle.export_after = export_after;
  impl_->idle.import_after = import_after;
}

admin_api::~admin_api() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->cancel = true;
  impl_->wake.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
}

std::string admin_api::load_token(const std::string& path, std::string& token) {
  token.clear();
  if (path.empty()) return {};
  std::string warning;
  if (auto err = load_admin_token(path, token, warning); !err.empty()) return err;
  if (!warning.empty())
    spdlog::warn("event=admin_token_file path={} warning=\"{}\"", path, warning);
  return {};
}

void admin_api::listening_on(const endpoint& bound) const {
  if (is_loopback_address(bound.host)) return;
  const bool token = !impl_->token(0).empty();
  spdlog::warn(
      "event=admin_not_loopback address={}:{} token={} hint=\"the admin listener is reachable "
      "beyond this machine; {}\"",
      bound.host, bound.port, token ? "configured" : "none",
      token ? "changes need the admin token, reads are open"
            : "changes are refused from non-loopback peers until admin_token_file is set");
}

bool admin_api::authorize(const http_request_view& req, std::string_view query, http_response& res,
                          counter_shard& shard, audit_caller* caller) {
  const admin_access a =
      check_admin_access(impl_->token(shard.index()), req.authorization, req.peer);
  if (!allowed(a)) {
    impl_->auth_refused.fetch_add(1, std::memory_order_relaxed);
    if (a == admin_access::not_loopback) {
      res.text(403,
               "forbidden: no admin token is configured (admin_token_file), so changes are "
               "accepted from loopback only");
    } else if (a == admin_access::missing_token) {
      res.text(401, "unauthorized: this route needs Authorization: Bearer <admin token>");
    } else {
      res.text(401, "unauthorized: wrong admin token");
    }
    // At most one line a second per thread: a guessing client cannot flood the log.
    auto& last = impl_->last_refusal_log[shard.index()];
    const auto now = steady::now();
    if (now - last >= std::chrono::seconds(1)) {
      last = now;
      std::string_view path, ignored;
      split_target(req.target, path, ignored);
      spdlog::warn("event=admin_refused reason={} peer={} path={} refused_total={}", name_of(a),
                   req.peer, path, impl_->auth_refused.load(std::memory_order_relaxed));
    }
    return false;
  }
  if (caller) {
    const query_fields q(query);
    caller->peer.assign(req.peer);
    caller->auth.assign(name_of(a));
    if (!text_field(q, "by", 128, caller->by, res)) return false;
  }
  return true;
}

void admin_api::refuse_count_changes(std::string why) {
  impl_->count_changes_refused = std::move(why);
}

void admin_api::set_cluster_stats(std::function<boost::json::object()> fill) {
  impl_->cluster_stats = std::move(fill);
}

void admin_api::add_routes(router& r) {
  impl& m = *impl_;
  admin_api& api = *this;
  r.add("/admin/v1/top", "GET",
        [&m](const http_request_view&, std::string_view q, http_response& res, counter_shard&) {
          answer_top(m, q, res);
        });
  r.add("/admin/v1/stats", "GET",
        [&m](const http_request_view&, std::string_view, http_response& res, counter_shard&) {
          answer_stats(m, res);
        });
  r.add("/admin/v1/export", "GET",
        [&m](const http_request_view&, std::string_view q, http_response& res, counter_shard&) {
          answer_export(m, q, res);
        });
  r.add("/admin/v1/audit", "GET",
        [&m](const http_request_view&, std::string_view q, http_response& res, counter_shard&) {
          answer_audit(m, q, res);
        });
  r.add("/admin/v1/jobs", "GET",
        [&m](const http_request_view&, std::string_view q, http_response& res, counter_shard&) {
          job_state(m, q, res);
        });
  // The writing routes: each needs the whole request (the caller is audited).
  using write_handler = void (*)(admin_api&, admin_api::impl&, const http_request_view&,
                                 std::string_view, http_response&, counter_shard&);
  // `changes_counts`: the route rewrites stored counts, which cluster mode
  // refuses (refuse_count_changes) until it applies them to the cluster.
  auto add_write = [&](const char* path, write_handler fn, bool changes_counts) {
    r.add(path, "POST",
          [&api, &m, fn, changes_counts](const http_request_view& req, std::string_view q,
                                         http_response& res, counter_shard& shard) {
            if (changes_counts && !m.count_changes_refused.empty()) {
              return res.text(409, m.count_changes_refused);
            }
            fn(api, m, req, q, res, shard);
          });
  };
  add_write("/admin/v1/adjust", answer_adjust, true);
  add_write("/admin/v1/rename", answer_rename, true);
  add_write("/admin/v1/merge", answer_merge, true);
  add_write("/admin/v1/title", answer_title, false);
  add_write("/admin/v1/import/start", import_start, true);
  add_write("/admin/v1/import/chunk", import_chunk, true);
  add_write("/admin/v1/import/commit", import_commit, true);
  add_write("/admin/v1/import/abort", import_abort, true);
  add_write("/admin/v1/backup", backup_start, false);
}

}  // namespace pvc
