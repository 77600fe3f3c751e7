#include "read/cluster_reader.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include <algorithm>
#include "core/cluster_keys.hpp"
#include "core/counter_table.hpp"
#include "core/thread_name.hpp"
#include "core/visitors.hpp"

namespace pvc {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

// A count as Redis prints it: an integer (GET), or a score (ZSCORE; a
// double, exact for every count below 2^53).
std::uint64_t count_of(const cluster::redis_reply& r) {
  if (r.type == cluster::reply_type::integer) return static_cast<std::uint64_t>(r.integer);
  if (r.type != cluster::reply_type::string) return 0;
  return static_cast<std::uint64_t>(std::strtod(r.text.c_str(), nullptr));
}

cluster::read_from read_side(const cluster::client_options& o) {
  return o.read_from_replicas ? cluster::read_from::replica : cluster::read_from::master;
}

}  // namespace

cluster_reader::cluster_reader(cluster::client_options options, const counter_table& table,
                               std::chrono::seconds online_window, std::chrono::seconds keep_asked)
    : table_(table),
      online_minutes_(std::max<std::int64_t>(1, (online_window.count() + 59) / 60)),
      keep_asked_(keep_asked),
      refresh_client_(options),
      direct_client_(direct_options(std::move(options))),
      last_good_refresh_(clock::now()) {}

// pvctl top reads the cluster on the admin route's I/O thread, which also
// serves hits: bounded to two short attempts, so an unreachable cluster
// holds that thread at most about half a second.
cluster::client_options cluster_reader::direct_options(cluster::client_options o) {
  o.max_attempts = 2;
  o.connect_timeout = std::min(o.connect_timeout, std::chrono::milliseconds(200));
  o.command_timeout = std::min(o.command_timeout, std::chrono::milliseconds(200));
  return o;
}

cluster_reader::~cluster_reader() {
  stop();
}

void cluster_reader::start() {
  if (!thread_.joinable())
    thread_ = std::thread([this] {
      name_this_thread("pvcd-refresh");
      run_refresher();
    });
}

void cluster_reader::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

cluster_reader::count_source cluster_reader::source_of(const count_ref& ref) {
  const bool site = ref.article.empty();
  switch (ref.period) {
    case count_period::all:
      return site ? count_source{cluster_keys::total(ref.site), {}}
                  : count_source{cluster_keys::articles(ref.site), std::string(ref.article)};
    case count_period::day:
      return site ? count_source{cluster_keys::day_total(ref.site, ref.day), {}}
                  : count_source{cluster_keys::day_articles(ref.site, ref.day),
                                 std::string(ref.article)};
    case count_period::month:
      return site ? count_source{cluster_keys::month_total(ref.site, ref.day), {}}
                  : count_source{cluster_keys::month_articles(ref.site, ref.day),
                                 std::string(ref.article)};
  }
  return {};
}

day_number cluster_reader::today() const {
  return table_.current_day();
}

std::string cluster_reader::counts(std::span<const count_ref> refs,
                                   std::vector<std::uint64_t>& out) {
  out.assign(refs.size(), 0);
  bool cold = false;
  const auto now = clock::now();
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < refs.size(); ++i) {
      cached_count& c = counts_[source_of(refs[i])];
      c.asked = now;
      if (!c.fetched) cold = true;
      out[i] = c.value;
    }
    if (cold) warming_wanted_ = true;
  }
  if (cold) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    wake_.notify_one();
    return std::string(warming);
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  if (unsent_) {
    for (std::size_t i = 0; i < refs.size(); ++i)
      out[i] += unsent_->unsent(refs[i]);
  }
  return {};
}

std::vector<std::string> cluster_reader::site_names() {
  std::lock_guard lock(mutex_);
  return sites_;
}

visitor_counts cluster_reader::visitors(std::string_view site, std::size_t) {
  // From the cluster's HyperLogLogs, as of the last refresh (zeros until the
  // first one for this site, a second at most).
  std::lock_guard lock(mutex_);
  auto it = visitors_.find(site);
  if (it == visitors_.end()) {
    it = visitors_.emplace(std::string(site), cached_visitors{}).first;
    warming_wanted_ = true;
    wake_.notify_one();
  }
  it->second.asked = clock::now();
  return it->second.counts;
}

std::shared_ptr<const top_list> cluster_reader::cached_top(std::string_view site,
                                                           top_period period) {
  std::lock_guard lock(mutex_);
  cached_list& l = lists_[{std::string(site), period}];
  l.asked = clock::now();
  if (!l.list) {
    warming_wanted_ = true;
    wake_.notify_one();
  }
  return l.list;
}

cluster::command cluster_reader::top_command(std::string_view site, top_period period,
                                             std::size_t n, day_number day) {
  // Redis orders equal scores by member, descending; ask for one more than
  // needed so ranks_before decides the last place's ties among those read.
  const std::string stop = std::to_string(n);
  switch (period) {
    case top_period::day:
      return {"ZREVRANGE", cluster_keys::day_articles(site, day), "0", stop, "WITHSCORES"};
    case top_period::month:
      return {"ZREVRANGE", cluster_keys::month_articles(site, day), "0", stop, "WITHSCORES"};
    case top_period::all:
      return {"ZREVRANGE", cluster_keys::articles(site), "0", stop, "WITHSCORES"};
    case top_period::week: {
      // The union of the seven days, summed by Redis on the site's node.
      cluster::command cmd = {"ZUNION", "7"};
      for (day_number d = day - 6; d <= day; ++d)
        cmd.push_back(cluster_keys::day_articles(site, d));
      cmd.push_back("WITHSCORES");
      return cmd;
    }
  }
  return {};
}

top_list cluster_reader::top_from(const cluster::call_result& r, top_period period, std::size_t n,
                                  day_number day) {
  top_list out;
  out.from = first_day_of(period, day);
  out.to = day;
  if (!r.ok()) {
    out.error = r.error;
    return out;
  }
  if (r.reply.is_error()) {
    out.error = r.reply.text;
    return out;
  }
  const auto& e = r.reply.elements;
  for (std::size_t i = 0; i + 1 < e.size(); i += 2)
    out.articles.push_back({e[i].text, count_of(e[i + 1]), {}});
  rank_top(out.articles, n);
  return out;
}

top_list cluster_reader::top(std::string_view site, top_period period, std::size_t n) {
  std::lock_guard lock(direct_mutex_);
  const day_number day = today();
  top_list out =
      top_from(direct_client_.run(cluster_keys::total(site), top_command(site, period, n, day)),
               period, n, day);
  if (!out.error.empty() || out.articles.empty()) return out;
  const std::string key = cluster_keys::titles(site);
  cluster::command hmget = {"HMGET", key};
  for (const ranked_article& a : out.articles)
    hmget.push_back(a.article);
  const cluster::call_result r = direct_client_.run(key, hmget);
  if (r.ok() && r.reply.elements.size() == out.articles.size()) {
    for (std::size_t i = 0; i < out.articles.size(); ++i)
      out.articles[i].title = title_of(r.reply.elements[i]);
  }
  return out;
}

std::string cluster_reader::title_of(const cluster::redis_reply& r) {
  if (r.type != cluster::reply_type::string) return {};
  const auto space = r.text.find(' ');
  return space == std::string::npos ? std::string() : r.text.substr(space + 1);
}

std::vector<std::string> cluster_reader::titles(std::string_view site,
                                                std::span<const std::string_view> articles) {
  // From the cluster's titles as of the last refresh ("" until the first
  // one for an article: a title is decoration, not worth a 503).
  std::vector<std::string> out;
  out.reserve(articles.size());
  const auto now = clock::now();
  std::lock_guard lock(mutex_);
  for (std::string_view a : articles) {
    auto [it, fresh] = titles_.try_emplace({std::string(site), std::string(a)});
    it->second.asked = now;
    if (fresh) warming_wanted_ = true;
    out.push_back(it->second.title);
  }
  if (warming_wanted_) wake_.notify_one();
  return out;
}

void cluster_reader::attach_cached_titles_locked(std::string_view site, top_list& list,
                                                 clock::time_point now) {
  for (ranked_article& a : list.articles) {
    auto [it, fresh] = titles_.try_emplace({std::string(site), a.article});
    it->second.asked = now;
    a.title = it->second.title;
  }
}

std::shared_ptr<export_cursor> cluster_reader::open_export(const export_filter&,
                                                           std::string& error) {
  error =
      "cluster mode does not export yet: the counts are in the Redis Cluster (back it up with "
      "redis-cli --cluster call ... BGSAVE, README \"Running several nodes\")";
  return nullptr;
}

double cluster_reader::stale_seconds() const {
  std::lock_guard lock(mutex_);
  const double s = std::chrono::duration<double>(clock::now() - last_good_refresh_).count();
  return s < current_within ? 0 : s;
}

void cluster_reader::refresh() {
  const auto now = clock::now();
  const cluster::read_from from = read_side(refresh_client_.options());
  std::vector<count_source> sources;
  std::vector<list_key> lists;
  std::vector<std::string> visitor_sites;
  std::vector<std::pair<std::string, std::string>> title_keys;
  {
    std::lock_guard lock(mutex_);
    warming_wanted_ = false;
    std::erase_if(counts_, [&](const auto& kv) { return now - kv.second.asked > keep_asked_; });
    std::erase_if(lists_, [&](const auto& kv) { return now - kv.second.asked > keep_asked_; });
    std::erase_if(visitors_, [&](const auto& kv) { return now - kv.second.asked > keep_asked_; });
    std::erase_if(titles_, [&](const auto& kv) { return now - kv.second.asked > keep_asked_; });
    for (const auto& [key, t] : titles_)
      title_keys.push_back(key);
    for (const auto& [site, v] : visitors_)
      visitor_sites.push_back(site);
    for (const auto& [source, c] : counts_)
      sources.push_back(source);
    for (const auto& [key, l] : lists_)
      lists.push_back(key);
  }
  std::vector<cluster::keyed_command> cmds;
  cmds.reserve(sources.size() + 1);
  cmds.push_back(
      {std::string(cluster_keys::sites), {"SMEMBERS", std::string(cluster_keys::sites)}, from});
  for (const count_source& s : sources) {
    cmds.push_back({s.key,
                    s.member.empty() ? cluster::command{"GET", s.key}
                                     : cluster::command{"ZSCORE", s.key, s.member},
                    from});
  }
  // Per site asked: PFCOUNT of today, yesterday, this month, and the last
  // minutes (one PFCOUNT over them: their union).
  const day_number day = today();
  const std::int64_t minute = std::chrono::duration_cast<std::chrono::minutes>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  for (const std::string& site : visitor_sites) {
    const std::string d = cluster_keys::day_visitors(site, day);
    cmds.push_back({d, {"PFCOUNT", d}, from});
    const std::string y = cluster_keys::day_visitors(site, day - 1);
    cmds.push_back({y, {"PFCOUNT", y}, from});
    const std::string m = cluster_keys::month_visitors(site, day);
    cmds.push_back({m, {"PFCOUNT", m}, from});
    cluster::command online = {"PFCOUNT"};
    for (std::int64_t k = minute - online_minutes_ + 1; k <= minute; ++k)
      online.push_back(cluster_keys::online(site, k));
    cmds.push_back({online[1], std::move(online), from});
  }
  for (const auto& [site, article] : title_keys) {
    const std::string key = cluster_keys::titles(site);
    cmds.push_back({key, {"HGET", key, article}, from});
  }
  const std::size_t first_list = cmds.size();
  for (const list_key& k : lists) {
    cmds.push_back(
        {cluster_keys::total(k.site), top_command(k.site, k.period, top_cached_length, day), from});
  }
  // Everything in one pipelined round trip per Redis node.
  const std::vector<cluster::call_result> got = refresh_client_.run_many(cmds);
  bool all_ok = true;
  std::vector<std::string> names;
  if (got[0].ok() && !got[0].reply.is_error()) {
    for (const auto& e : got[0].reply.elements)
      names.push_back(e.text);
    std::sort(names.begin(), names.end());
  } else {
    all_ok = false;
  }
  std::vector<std::pair<list_key, top_list>> tops;
  for (std::size_t i = 0; i < lists.size(); ++i) {
    top_list t = top_from(got[first_list + i], lists[i].period, top_cached_length, day);
    if (!t.error.empty()) {
      all_ok = false;
      continue;
    }
    tops.emplace_back(lists[i], std::move(t));
  }
  std::lock_guard lock(mutex_);
  if (got[0].ok() && !got[0].reply.is_error()) sites_ = std::move(names);
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const cluster::call_result& r = got[i + 1];
    if (!r.ok() || r.reply.is_error()) {
      all_ok = false;
      continue;  // the last figure stays
    }
    auto it = counts_.find(sources[i]);
    if (it == counts_.end()) continue;
    it->second.value = count_of(r.reply);
    it->second.fetched = true;
  }
  const std::size_t first_visitor = 1 + sources.size();
  for (std::size_t i = 0; i < visitor_sites.size(); ++i) {
    std::uint64_t v[4] = {};
    bool ok = true;
    for (std::size_t k = 0; k < 4; ++k) {
      const cluster::call_result& r = got[first_visitor + 4 * i + k];
      if (!r.ok() || r.reply.is_error())
        ok = false;
      else
        v[k] = count_of(r.reply);
    }
    if (!ok) {
      all_ok = false;
      continue;
    }
    auto it = visitors_.find(visitor_sites[i]);
    if (it != visitors_.end()) it->second.counts = {v[3], v[0], v[1], v[2]};
  }
  const std::size_t first_title = first_visitor + 4 * visitor_sites.size();
  for (std::size_t i = 0; i < title_keys.size(); ++i) {
    const cluster::call_result& r = got[first_title + i];
    if (!r.ok() || r.reply.is_error()) {
      all_ok = false;
      continue;
    }
    auto it = titles_.find(title_keys[i]);
    if (it != titles_.end()) it->second.title = title_of(r.reply);
  }
  for (auto& [k, t] : tops) {
    auto it = lists_.find(k);
    if (it == lists_.end()) continue;
    attach_cached_titles_locked(k.site, t, now);  // new ones show from the next refresh
    it->second.list = std::make_shared<const top_list>(std::move(t));
  }
  if (all_ok) last_good_refresh_ = clock::now();
}

void cluster_reader::run_refresher() {
  auto next = clock::now();
  std::unique_lock lock(mutex_);
  while (!stop_) {
    // Once a second, or at once for a count asked for the first time (but
    // never more often than every 50 ms, whatever the asking).
    wake_.wait_until(lock, next, [&] { return stop_ || warming_wanted_; });
    if (stop_) break;
    lock.unlock();
    const auto started = clock::now();
    refresh();
    next = started + 1s;
    std::this_thread::sleep_for(50ms);
    lock.lock();
  }
}

}  // namespace pvc
