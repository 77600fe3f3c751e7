#include "read/top_lists.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "store/store.hpp"
#include "store/store_titles.hpp"

namespace pvc {
namespace {

using namespace std::chrono_literals;

// Lists not asked for this long stop being refreshed and are dropped.
constexpr std::int64_t idle_seconds = 600;
// The cached all-time list is rebuilt from a full scan this often, so admin
// corrections (which change totals without day counts) show within the hour.
constexpr std::int64_t rescan_seconds = 3600;

std::vector<ranked_article> to_vector(std::unordered_map<std::string, std::uint64_t>& sums) {
  std::vector<ranked_article> v;
  v.reserve(sums.size());
  for (auto& [article, n] : sums)
    v.push_back({article, n, {}});
  return v;
}

// Each article's title, read with the list: a cached list shows a changed
// title from its next refresh on. A failed read leaves the titles out (the
// counts are still right).
void attach_titles(const store& db, std::string_view site, top_list& list) {
  std::vector<std::string_view> ids;
  ids.reserve(list.articles.size());
  for (const ranked_article& a : list.articles)
    ids.push_back(a.article);
  std::vector<std::string> titles;
  if (!read_titles(db, site, ids, titles).empty()) return;
  for (std::size_t i = 0; i < titles.size(); ++i)
    list.articles[i].title = std::move(titles[i]);
}

}  // namespace

top_lists::top_lists(const store& db, day_fn today, std::chrono::seconds refresh, clock_fn now)
    : db_(db),
      today_(std::move(today)),
      refresh_(refresh),
      now_(now ? std::move(now) : clock_fn([] { return steady_seconds(); })) {}

top_lists::~top_lists() {
  stop();
}

std::string top_lists::sum_days(std::string_view site, day_number first, day_number last,
                                sums& out) const {
  for (day_number d = first; d <= last; ++d) {
    auto add = [&](std::string_view article, std::uint64_t n) { out[std::string(article)] += n; };
    if (auto err = db_.for_each_article_on_day(site, d, add); !err.empty()) return err;
  }
  return {};
}

top_list top_lists::compute(std::string_view site, top_period period, std::size_t n) const {
  top_list out;
  n = std::min(n, max_computed);
  if (n == 0) return out;
  const day_number today = today_();
  if (period == top_period::all) {
    // A bounded work set: trimmed back to n whenever it reaches 2n (or 1024).
    const std::size_t trim_at = std::max<std::size_t>(2 * n, 1024);
    out.error = db_.for_each_article_total(
        site,
        [&](std::string_view article, std::uint64_t v) {
          out.articles.push_back({std::string(article), v, {}});
          if (out.articles.size() >= trim_at) keep_best(out.articles, n);
        },
        false);  // a one-off scan: keep the block cache for the read API
  } else {
    out.from = first_day_of(period, today);
    out.to = today;
    sums s;
    out.error = sum_days(site, out.from, out.to, s);
    out.articles = to_vector(s);
  }
  if (!out.error.empty()) out.articles.clear();
  rank_top(out.articles, n);
  attach_titles(db_, site, out);
  return out;
}

std::string top_lists::refresh_all_time(const std::string& site, list_state& state,
                                        top_list& out) const {
  const day_number today = today_();
  const std::int64_t now = now_();
  sums s;
  if (state.base_scanned_at == INT64_MIN || now - state.base_scanned_at >= rescan_seconds) {
    // Every article of the site, once: the base the incremental refreshes build on.
    const top_list full = compute(site, top_period::all, cached_length);
    if (!full.error.empty()) return full.error;
    out.articles = full.articles;
    state.base_scanned_at = now;
  } else {
    // Candidates: the previous top, and every article viewed since (from the
    // day before the previous refresh: a flush racing midnight may still
    // have written that day's counts after it).
    for (const ranked_article& a : state.base)
      s[a.article] = 0;
    if (auto err = sum_days(site, state.base_day - 1, today, s); !err.empty()) return err;
    std::vector<std::string> ids;
    ids.reserve(s.size());
    for (const auto& [id, n] : s)
      ids.push_back(id);
    std::vector<std::uint64_t> totals;
    if (auto err = db_.read_article_totals(site, ids, totals); !err.empty()) return err;
    out.articles.clear();
    for (std::size_t i = 0; i < ids.size(); ++i)
      out.articles.push_back({std::move(ids[i]), totals[i], {}});
    rank_top(out.articles, cached_length);
  }
  state.base = out.articles;
  state.base_day = today;
  return {};
}

std::shared_ptr<const top_list> top_lists::cached(std::string_view site, top_period period) {
  std::lock_guard lock(mutex_);
  auto [it, added] = lists_.try_emplace(list_key{std::string(site), period});
  it->second.asked_at = now_();
  if (added) wake_.notify_all();
  return it->second.result;
}

void top_lists::start() {
  std::lock_guard lock(mutex_);
  if (refresher_.joinable()) return;
  stopping_ = false;
  refresher_ = std::thread([this] { run_refresher(); });
}

void top_lists::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (refresher_.joinable()) refresher_.join();
}

void top_lists::run_refresher() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, 1s);
    if (stopping_) break;
    lock.unlock();
    refresh();
    lock.lock();
  }
}

void top_lists::refresh() {
  const std::int64_t now = now_();
  std::vector<std::pair<list_key, list_state>> due;
  {
    std::lock_guard lock(mutex_);
    for (auto it = lists_.begin(); it != lists_.end();) {
      if (now - it->second.asked_at > idle_seconds) {
        it = lists_.erase(it);
        continue;
      }
      // One second early, so a list is never older than `refresh_` when served.
      if (!it->second.result || now - it->second.computed_at >= refresh_.count() - 1) {
        due.emplace_back(it->first, it->second);
      }
      ++it;
    }
  }
  for (auto& [key, state] : due) {
    const std::int64_t started = now_();
    top_list list;
    if (key.period == top_period::all) {
      list.error = refresh_all_time(key.site, state, list);
    } else {
      list = compute(key.site, key.period, cached_length);
    }
    if (!list.error.empty()) {
      spdlog::warn("event=top_failed site={} error=\"{}\"", key.site, list.error);
      continue;
    }
    if (key.period == top_period::all)
      attach_titles(db_, key.site, list);  // compute() did the rest
    std::lock_guard lock(mutex_);
    auto it = lists_.find(key);
    if (it == lists_.end()) continue;
    it->second.result = std::make_shared<const top_list>(std::move(list));
    it->second.computed_at = started;
    it->second.base = std::move(state.base);
    it->second.base_scanned_at = state.base_scanned_at;
    it->second.base_day = state.base_day;
  }
}

}  // namespace pvc
