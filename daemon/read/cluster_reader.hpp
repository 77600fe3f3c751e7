#pragma once
// The reader of cluster mode: every node answers the cluster-wide figures
// from the Redis Cluster (key layout: core/cluster_keys.hpp), out of a small
// cache, so no read route waits on Redis:
//
//   counts, site_names, visitors, most viewed (cached)
//       served from memory. A count asked for the first time is not there:
//       the read answers `reader::warming` (the route says 503, retry in a
//       second) and wakes the refresher, which fetches it at once.
//   the refresher thread
//       re-reads, at most once a second, everything asked for in the last
//       `keep_asked` (one pipelined round trip per Redis node; replicas when
//       configured), and the list of sites.
//   top (exact, pvctl top)
//       read from the cluster on the caller's thread (the admin API's, an
//       I/O thread: two attempts of 200 ms at most).
//
// A read shows what the shippers have applied: flush interval + shipping +
// at most one refresh (1 s) behind the hits. While the cluster cannot be
// reached the cache keeps its last figures, and `stale()` says since when.
//
// Thread-safety: as reader.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "cluster/cluster_client.hpp"
#include "cluster/outbox.hpp"
#include "read/reader.hpp"

namespace pvc {

class counter_table;

class cluster_reader final : public reader {
 public:
  // `online_window`: how far back "online now" looks (whole minutes of the
  // cluster's per-minute HyperLogLogs, rounded up).
  cluster_reader(cluster::client_options options, const counter_table& table,
                 std::chrono::seconds online_window,
                 std::chrono::seconds keep_asked = std::chrono::seconds(300));
  ~cluster_reader() override;

  // This node's flushes not sent yet, added to every count read (so a
  // node's own views show without waiting for the shipper, and during an
  // outage). Set before start().
  void set_unsent(const outbox* box) { unsent_ = box; }

  void start();
  void stop();
  // One refresh round (the refresher's work; tests call it).
  void refresh();

  day_number today() const override;
  std::string counts(std::span<const count_ref> refs, std::vector<std::uint64_t>& out) override;
  std::vector<std::string> site_names() override;
  visitor_counts visitors(std::string_view site, std::size_t thread) override;
  std::shared_ptr<const top_list> cached_top(std::string_view site, top_period period) override;
  top_list top(std::string_view site, top_period period, std::size_t n) override;
  std::vector<std::string> titles(std::string_view site,
                                  std::span<const std::string_view> articles) override;
  std::shared_ptr<export_cursor> open_export(const export_filter& filter,
                                             std::string& error) override;

  // Seconds since the last refresh that reached the cluster (or since
  // start); under `current_within` (a refresh or two) it answers 0.
  static constexpr double current_within = 3.0;
  double stale_seconds() const override;
  const cluster::client_counters& client_counters() const { return refresh_client_.counters(); }
  std::uint64_t cache_hits() const { return hits_.load(std::memory_order_relaxed); }
  std::uint64_t cache_misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  // A cached count: GET of a STRING, or ZSCORE of a member.
  struct count_source {
    std::string key;
    std::string member;  // "" for a STRING
    auto operator<=>(const count_source&) const = default;
  };
  struct cached_count {
    std::uint64_t value = 0;
    bool fetched = false;
    std::chrono::steady_clock::time_point asked;
  };
  struct cached_visitors {
    visitor_counts counts;
    std::chrono::steady_clock::time_point asked;
  };
  struct list_key {
    std::string site;
    top_period period;
    auto operator<=>(const list_key&) const = default;
  };
  struct cached_list {
    std::shared_ptr<const top_list> list;
    std::chrono::steady_clock::time_point asked;
  };

  static count_source source_of(const count_ref& ref);
  static cluster::client_options direct_options(cluster::client_options o);
  static cluster::command top_command(std::string_view site, top_period period, std::size_t n,
                                      day_number day);
  static top_list top_from(const cluster::call_result& r, top_period period, std::size_t n,
                           day_number day);
  void run_refresher();
  // Titles of a list's articles from the cache (asking for those missing);
  // under mutex_.
  void attach_cached_titles_locked(std::string_view site, top_list& list,
                                   std::chrono::steady_clock::time_point now);
  // "UNIX_SECONDS TITLE" (pvcd_functions.lua) -> TITLE.
  static std::string title_of(const cluster::redis_reply& r);

  const counter_table& table_;
  const outbox* unsent_ = nullptr;
  const std::int64_t online_minutes_;
  const std::chrono::seconds keep_asked_;
  cluster::cluster_client refresh_client_;  // the refresher thread's
  std::mutex direct_mutex_;
  cluster::cluster_client direct_client_;  // top(): the admin API's exact reads

  mutable std::mutex mutex_;
  std::map<count_source, cached_count> counts_;
  std::map<list_key, cached_list> lists_;
  std::map<std::string, cached_visitors, std::less<>> visitors_;
  struct cached_title {
    std::string title;
    std::chrono::steady_clock::time_point asked;
  };
  std::map<std::pair<std::string, std::string>, cached_title> titles_;  // (site, article)
  std::vector<std::string> sites_;
  std::chrono::steady_clock::time_point last_good_refresh_{};
  bool warming_wanted_ = false;
  bool stop_ = false;
  std::condition_variable wake_;
  std::thread thread_;
  std::atomic<std::uint64_t> hits_{0}, misses_{0};
};

}  // namespace pvc
