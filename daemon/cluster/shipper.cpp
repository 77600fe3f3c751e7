#include "cluster/shipper.hpp"

#include <spdlog/spdlog.h>

#include <set>
#include <thread>

#include "app/embedded.hpp"
#include "cluster/key_slot.hpp"
#include "core/cluster_keys.hpp"
#include "core/outbox_entry.hpp"

namespace pvc {
namespace {

using cluster::command;
using cluster::keyed_command;

// FCALL pvcd_apply for one site's part of flush `seq` (the argument layout
// is the function's, pvcd_functions.lua).
command apply_call(std::string_view node, std::uint64_t seq, std::uint64_t prev,
                   std::string_view site, const site_part& part) {
  command keys = {cluster_keys::markers(site), cluster_keys::total(site),
                  cluster_keys::articles(site)};
  command args = {std::string(node), std::to_string(seq), std::to_string(prev)};
  for (const site_part::day_counts& d : part.days) {
    keys.push_back(cluster_keys::day_total(site, d.day));
    keys.push_back(cluster_keys::day_articles(site, d.day));
    keys.push_back(cluster_keys::month_total(site, d.day));
    keys.push_back(cluster_keys::month_articles(site, d.day));
    args.push_back(std::to_string(d.site_views));
    args.push_back(std::to_string(d.articles.size()));
    for (const auto& [article, views] : d.articles) {
      args.push_back(article);
      args.push_back(std::to_string(views));
    }
  }
  command call = {"FCALL", "pvcd_apply", std::to_string(keys.size())};
  call.reserve(call.size() + keys.size() + args.size());
  for (auto& k : keys)
    call.push_back(std::move(k));
  for (auto& a : args)
    call.push_back(std::move(a));
  return call;
}

// "ok", "dup:N" or "gap:N" (pvcd_functions.lua); false for anything else.
bool parse_answer(const cluster::redis_reply& r, std::string& verdict, std::uint64_t& marker) {
  if (r.type != cluster::reply_type::string && r.type != cluster::reply_type::status) return false;
  const std::string_view t = r.text;
  if (t == "ok") {
    verdict = "ok";
    return true;
  }
  const auto colon = t.find(':');
  if (colon == std::string_view::npos) return false;
  verdict = std::string(t.substr(0, colon));
  marker = std::strtoull(std::string(t.substr(colon + 1)).c_str(), nullptr, 10);
  return verdict == "dup" || verdict == "gap";
}

// PFADD of a flush's visits: day ids into the day's HyperLogLog, month ids
// into the month's and the minute's ("online"); 8 raw bytes per id.
std::vector<keyed_command> visitor_commands_of(
    const std::map<std::string, site_part, std::less<>>& parts, std::chrono::seconds online_ttl) {
  std::vector<keyed_command> out;
  auto id_bytes = [](std::uint64_t id) {
    std::string b(8, '\0');
    for (int i = 0; i < 8; ++i)
      b[static_cast<std::size_t>(i)] = static_cast<char>((id >> (8 * i)) & 0xff);
    return b;
  };
  constexpr long long day_ttl = 3 * 86400, month_ttl = 63 * 86400;
  for (const auto& [site, part] : parts) {
    std::map<std::string, std::pair<command, long long>> adds;  // key -> PFADD, its TTL
    auto add = [&](const std::string& key, long long ttl, std::uint64_t id) {
      auto& [c, t] = adds[key];
      if (c.empty()) c = {"PFADD", key};
      t = ttl;
      c.push_back(id_bytes(id));
    };
    for (const visit& v : part.visits) {
      add(cluster_keys::day_visitors(site, v.day), day_ttl, v.day_id);
      add(cluster_keys::month_visitors(site, v.day), month_ttl, v.month_id);
      add(cluster_keys::online(site, v.minute), online_ttl.count(), v.month_id);
    }
    for (auto& [key, c_ttl] : adds) {
      out.push_back({key, std::move(c_ttl.first)});
      out.push_back({key, {"EXPIRE", key, std::to_string(c_ttl.second)}});
    }
  }
  return out;
}

}  // namespace

shipper::shipper(outbox& box, cluster::cluster_client& client, shipper_options options)
    : box_(box), client_(client), options_(std::move(options)) {}

std::string shipper::load_functions() {
  for (const auto& r : client_.function_load(embedded::pvcd_functions_lua(), true)) {
    if (!r.result.ok())
      return "loading pvcd's functions on " + r.node.to_string() + ": " + r.result.error;
    if (r.result.reply.is_error()) {
      return "loading pvcd's functions on " + r.node.to_string() + ": " + r.result.reply.text;
    }
  }
  functions_loaded_ = true;
  return {};
}

// After a restart, where each site of this flush stands in the cluster.
std::string shipper::read_markers(const std::map<std::string, site_part, std::less<>>& parts) {
  std::vector<keyed_command> asks;
  std::vector<std::string_view> sites;
  for (const auto& [site, part] : parts) {
    if (last_applied_.contains(site)) continue;
    const std::string key = cluster_keys::markers(site);
    asks.push_back({key, {"HGET", key, box_.incarnation()}});
    sites.push_back(site);
  }
  if (asks.empty()) return {};
  const std::vector<cluster::call_result> got = client_.run_many(asks);
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (!got[i].ok()) return got[i].error;
    const cluster::redis_reply& r = got[i].reply;
    if (r.is_error()) return r.text;
    last_applied_[std::string(sites[i])] =
        r.is_nil() ? 0 : std::strtoull(r.text.c_str(), nullptr, 10);
  }
  return {};
}

std::string shipper::ship_once(bool& shipped) {
  shipped = false;
  if (!functions_loaded_) {
    if (std::string e = load_functions(); !e.empty()) return e;
  }
  outbox::entry e;
  std::string error;
  if (!box_.oldest(e, error)) return error;
  std::map<std::string, site_part, std::less<>> parts;
  if (!decode_outbox_entry(e.flush, parts)) {
    // Only a damaged disk makes one: shipping cannot go past it otherwise.
    spdlog::error("event=outbox_entry_unreadable seq={} action=dropped", e.seq);
    stats_.gaps.fetch_add(1, std::memory_order_relaxed);
    return box_.remove(e.seq);
  }
  box_.sending(e.seq, parts);  // from now on reads may find it in the cluster

  // New sites join the list every node reads (SADD is idempotent).
  command add_sites = {"SADD", std::string(cluster_keys::sites)};
  for (const auto& [site, part] : parts)
    if (!registered_.contains(site)) add_sites.push_back(site);
  if (add_sites.size() > 2) {
    const cluster::call_result r = client_.run(cluster_keys::sites, add_sites);
    if (!r.ok()) return r.error;
    if (r.reply.is_error()) return r.reply.text;
    for (std::size_t i = 2; i < add_sites.size(); ++i)
      registered_.insert(add_sites[i]);
  }
  if (std::string m = read_markers(parts); !m.empty()) return m;

  // One function call per site the cluster does not have yet; a gap is
  // reported, then applied after the marker (a second round).
  std::vector<std::string_view> todo;
  std::map<std::string_view, std::uint64_t> prev;
  for (const auto& [site, part] : parts) {
    const std::uint64_t last = last_applied_[site];
    if (last >= e.seq) {
      stats_.duplicates.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    todo.push_back(site);
    prev[site] = last;
  }
  std::map<std::uint16_t, std::string> written;  // a key per slot written, for WAIT
  for (int round = 0; round < 2 && !todo.empty(); ++round) {
    std::vector<keyed_command> calls;
    for (std::string_view site : todo) {
      calls.push_back(
          {cluster_keys::markers(site),
           apply_call(box_.incarnation(), e.seq, prev[site], site, parts.find(site)->second)});
    }
    const std::vector<cluster::call_result> got = client_.run_many(calls);
    std::vector<std::string_view> again;
    for (std::size_t i = 0; i < got.size(); ++i) {
      const std::string_view site = todo[i];
      if (!got[i].ok()) return got[i].error;
      std::string verdict;
      std::uint64_t marker = 0;
      if (!parse_answer(got[i].reply, verdict, marker)) {
        return "pvcd_apply on " + std::string(site) + ": " + got[i].reply.describe();
      }
      written.emplace(cluster::key_slot(calls[i].key), calls[i].key);
      if (verdict == "gap") {
        spdlog::error("event=cluster_gap site={} node={} seq={} expected_marker={} marker={}", site,
                      box_.incarnation(), e.seq, prev[site], marker);
        stats_.gaps.fetch_add(1, std::memory_order_relaxed);
        prev[site] = marker;
        again.push_back(site);
        continue;
      }
      if (verdict == "dup") {
        stats_.duplicates.fetch_add(1, std::memory_order_relaxed);
      } else {
        for (const auto& d : parts.find(site)->second.days)
          stats_.keys.fetch_add(d.articles.size(), std::memory_order_relaxed);
      }
      last_applied_[std::string(site)] = e.seq;
    }
    todo = std::move(again);
  }
  if (!todo.empty())
    return "the cluster's markers keep moving under this node (another node with its id?)";

  // Distinct visitors: PFADD adds nobody twice, so they go with every attempt.
  std::vector<keyed_command> visitor_adds = visitor_commands_of(parts, options_.online_ttl);
  if (!visitor_adds.empty()) {
    const std::vector<cluster::call_result> got = client_.run_many(visitor_adds);
    for (std::size_t i = 0; i < got.size(); ++i) {
      if (!got[i].ok()) return got[i].error;
      if (got[i].reply.is_error()) return "PFADD: " + got[i].reply.text;
      written.emplace(cluster::key_slot(visitor_adds[i].key), visitor_adds[i].key);
    }
  }

  // The flush leaves the outbox only once replicas hold it: a failover then
  // keeps it. WAIT covers every earlier write on the same connection, so one
  // per master written to.
  if (options_.wait_replicas > 0) {
    std::map<std::string, std::string> per_master;  // master -> a key it serves
    const cluster::slot_map map = client_.map();
    for (const auto& [slot, key] : written) {
      const cluster::shard* s = map.shard_of(slot);
      per_master.emplace(s ? s->master.to_string() : key, key);
    }
    for (const auto& [master, key] : per_master) {
      const cluster::call_result r =
          client_.run(key, {"WAIT", std::to_string(options_.wait_replicas),
                            std::to_string(options_.wait_timeout.count())});
      if (!r.ok()) return r.error;
      if (r.reply.type != cluster::reply_type::integer) return "WAIT: " + r.reply.describe();
      if (r.reply.integer < options_.wait_replicas) {
        return "flush " + std::to_string(e.seq) + " reached " + std::to_string(r.reply.integer) +
               " of " + std::to_string(options_.wait_replicas) + " replicas on " + master +
               " (kept, sent again)";
      }
    }
  }
  if (std::string r = box_.remove(e.seq); !r.empty()) return r;
  shipped = true;
  stats_.flushes.fetch_add(1, std::memory_order_relaxed);
  return {};
}

void shipper::title_changed(std::string_view site, std::string_view article, std::string_view title,
                            std::int64_t changed_unix) {
  {
    std::lock_guard lock(titles_mutex_);
    titles_.push_back({std::string(site), std::string(article), std::string(title), changed_unix});
  }
  notify();
}

std::string shipper::ship_titles() {
  std::vector<title_change> todo;
  {
    std::lock_guard lock(titles_mutex_);
    todo.swap(titles_);
  }
  if (todo.empty()) return {};
  if (!functions_loaded_) {
    if (std::string e = load_functions(); !e.empty()) {
      std::lock_guard lock(titles_mutex_);
      titles_.insert(titles_.begin(), todo.begin(), todo.end());
      return e;
    }
  }
  std::vector<keyed_command> calls;
  calls.reserve(todo.size());
  for (const title_change& t : todo) {
    const std::string key = cluster_keys::titles(t.site);
    calls.push_back(
        {key,
         {"FCALL", "pvcd_title", "1", key, t.article, std::to_string(t.changed_unix), t.title}});
  }
  const std::vector<cluster::call_result> got = client_.run_many(calls);
  std::vector<title_change> again;
  std::string error;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (!got[i].ok() || got[i].reply.is_error()) {
      if (error.empty()) error = got[i].ok() ? got[i].reply.text : got[i].error;
      again.push_back(std::move(todo[i]));
    }
  }
  if (!again.empty()) {
    std::lock_guard lock(titles_mutex_);
    titles_.insert(titles_.begin(), std::make_move_iterator(again.begin()),
                   std::make_move_iterator(again.end()));
  }
  return error.empty() ? std::string() : "titles: " + error;
}

void shipper::notify() {
  {
    std::lock_guard lock(mutex_);
    pending_ = true;
  }
  wake_.notify_one();
}

void shipper::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
}

void shipper::run() {
  using namespace std::chrono;
  const auto min_gap = duration_cast<steady_clock::duration>(
      duration<double>(1.0 / std::max(options_.max_flushes_per_second, 0.001)));
  milliseconds retry = options_.retry_first;
  std::string last_error;
  for (;;) {
    const auto started = steady_clock::now();
    bool shipped = false;
    std::string error = ship_once(shipped);
    if (error.empty()) error = ship_titles();
    steady_clock::duration pause = milliseconds(200);  // nothing waits: poll now and then
    if (!error.empty()) {
      stats_.errors.fetch_add(1, std::memory_order_relaxed);
      stats_.failing.store(true, std::memory_order_relaxed);
      if (error != last_error) spdlog::warn("event=ship_failed error=\"{}\"", error);
      last_error = error;
      pause = retry;
      retry = std::min(retry * 2, options_.retry_cap);
    } else {
      if (stats_.failing.exchange(false, std::memory_order_relaxed)) {
        spdlog::info("event=ship_recovered");
      }
      last_error.clear();
      retry = options_.retry_first;
      if (shipped) pause = min_gap - (steady_clock::now() - started);
    }
    std::unique_lock lock(mutex_);
    if (stop_) return;
    if (pause > steady_clock::duration::zero()) {
      wake_.wait_for(lock, pause, [&] { return stop_ || (pending_ && error.empty() && !shipped); });
    }
    pending_ = false;
    if (stop_) return;
  }
}

}  // namespace pvc
