#pragma once
// The in-memory counter table: one shard per I/O thread. A shard is written
// only by its own thread with plain (relaxed, lock-free) operations, so a hot
// article hit from every thread never shares a cache line; the flusher merges
// the shards.
//
//   I/O thread i ──record()──► shard i: active delta_table (today)
//                                       sealed tables (earlier days, waiting)
//   flusher ──(runs on thread i)── drain() ──► tables handed over whole
//           ──(later, on thread i)── recycle(table) ──► reused, no allocation
//
// Thread-safety: record/reject/drain/recycle only on the shard's owner
// thread. stats() and current_day() may be read from any thread.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/delta_table.hpp"
#include "core/hash.hpp"
#include "core/hit_parser.hpp"
#include "core/http_stats.hpp"
#include "core/key_guard.hpp"
#include "core/reject_reason.hpp"
#include "core/site_registry.hpp"

namespace pvc {

// A counter written by one thread and read by others (metrics): a relaxed
// load-add-store compiles to a plain add, with no locked instruction.
class owned_counter {
 public:
  void add(std::uint64_t n) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void set(std::uint64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

struct shard_stats {
  std::array<owned_counter, transport_count> hits_accepted;   // hit requests/lines
  std::array<owned_counter, transport_count> views_accepted;  // sum of their COUNTs
  std::array<std::array<owned_counter, reject_reason_count>, transport_count> hits_rejected;
  owned_counter udp_datagrams;
  // Times the UDP listener woke and found datagrams (see "Gathering" in udp_listener.cpp).
  owned_counter udp_wakeups;
  owned_counter udp_kernel_drops;  // this thread's socket's drop count (SO_MEMINFO)
  owned_counter http_connections;  // open now (a gauge), both listeners
  owned_counter http_evictions;    // closed to stay under http_max_connections

  // HTTP, by route: answers by status code, and latency as a histogram
  // (per-bucket counts, not cumulative) with the sum in nanoseconds.
  std::array<std::array<owned_counter, http_code_count>, max_http_routes> http_requests;
  std::array<std::array<owned_counter, http_bucket_count>, max_http_routes> http_latency;
  std::array<owned_counter, max_http_routes> http_latency_sum_ns;

  void observe_http(http_route route, unsigned status, std::uint64_t nanoseconds) noexcept {
    const auto r = static_cast<std::size_t>(route);
    http_requests[r][http_code_index(status)].add(1);
    http_latency[r][http_bucket_index(nanoseconds)].add(1);
    http_latency_sum_ns[r].add(nanoseconds);
  }
};

class counter_table;

class alignas(64) counter_shard {
 public:
  counter_shard(counter_table& table, std::size_t index);

  // Which shard (and so which I/O thread) this is: 0..shard_count-1.
  std::size_t index() const noexcept { return index_; }

  // Counts a parsed hit. Returns false (and counts the rejection, reason
  // site_limit or cardinality) when the key is new to this interval and its
  // site or the key caps refuse it; last_refusal() tells which.
  bool record(const hit& h, transport t) { return record_batch({&h, 1}, t) == 1; }

  // record() for each hit (one datagram's lines), in order, with the same
  // results, except that the day is read once per max_batch hits (a batch
  // that straddles local midnight counts in the day it started in); returns
  // how many were counted. Every key of a batch is hashed and its slot
  // prefetched before the first is counted, so the cache misses of a batch
  // over a large table overlap instead of queuing.
  static constexpr std::size_t max_batch = 32;
  std::size_t record_batch(std::span<const hit> hits, transport t);
  reject_reason last_refusal() const noexcept { return refusal_; }
  void reject(transport t, reject_reason r) noexcept {
    stats_.hits_rejected[static_cast<std::size_t>(t)][static_cast<std::size_t>(r)].add(1);
  }

  // Moves every table with counts into `out` and starts a fresh one.
  void drain(std::vector<std::unique_ptr<delta_table>>& out);
  // Gives a drained (and reset) table back for reuse.
  void recycle(std::unique_ptr<delta_table> table);

  shard_stats& stats() noexcept { return stats_; }
  const shard_stats& stats() const noexcept { return stats_; }
  // Keys held right now (approximate when read from another thread).
  std::size_t tracked_keys() const noexcept { return tracked_keys_.get(); }

 private:
  std::size_t record_up_to_max_batch(std::span<const hit> hits, transport t);
  void start_day(std::int32_t day);
  // A key new to this shard's table: is its site admitted, and is the key
  // within the key caps? Sets refusal_ when not.
  bool admit(std::string_view site, std::uint64_t key_hash);
  std::unique_ptr<delta_table> take_spare();

  counter_table& table_;
  std::size_t index_;
  std::unique_ptr<delta_table> active_;
  std::vector<std::unique_ptr<delta_table>> sealed_;
  std::vector<std::unique_ptr<delta_table>> spares_;
  std::unordered_set<std::string, seeded_string_hash, std::equal_to<>> admitted_sites_;
  owned_counter tracked_keys_;
  reject_reason refusal_ = reject_reason::site_limit;
  shard_stats stats_;
};

class counter_table {
 public:
  counter_table(std::size_t shard_count, site_registry& sites, std::int32_t today);

  counter_shard& shard(std::size_t i) { return *shards_[i]; }
  const counter_shard& shard(std::size_t i) const { return *shards_[i]; }
  std::size_t shard_count() const noexcept { return shards_.size(); }
  // Optional cap on distinct keys (see key_guard.hpp); null = no cap.
  void set_key_guard(key_guard* guard) noexcept { guard_ = guard; }
  key_guard* guard() const noexcept { return guard_; }

  site_registry& sites() noexcept { return sites_; }
  const site_registry& sites() const noexcept { return sites_; }

  // The local day that new hits belong to. Advanced by the daemon's clock at
  // local midnight; shards seal their table when they see it change.
  std::int32_t current_day() const noexcept { return day_.load(std::memory_order_relaxed); }
  void set_current_day(std::int32_t day) noexcept { day_.store(day, std::memory_order_relaxed); }

 private:
  // Own cache line: read by every hit on every thread, written once a day.
  alignas(64) std::atomic<std::int32_t> day_;
  site_registry& sites_;
  key_guard* guard_ = nullptr;
  std::vector<std::unique_ptr<counter_shard>> shards_;
};

}  // namespace pvc
