#pragma once
// Moves counts from the counter table into the store, once per flush
// interval, and keeps the table's idea of "today" in step with the clock.
//
//   every interval (and exactly at local midnight):
//     1. on each I/O thread: give back last round's tables, take its full ones
//     2. one WriteBatch with all of them plus the flush sequence number
//     3. success: tables are reset for reuse; failure: they are kept, and
//        the next round writes them again together with the new ones
//
// A flush that failed is retried only after checking the store's flush
// sequence number, so a write that did land is never applied twice. Counts
// held in memory while the store fails are written once it recovers.
//
// Thread-safety: flush_once/run on one thread (the flusher's); stats() from any.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/calendar.hpp"
#include "core/counter_table.hpp"
#include "store/store.hpp"

namespace pvc {

struct flusher_stats {
  std::atomic<std::uint64_t> flushes{0};       // batches written
  std::atomic<std::uint64_t> errors{0};        // failed attempts
  std::atomic<std::uint64_t> keys{0};          // keys written, summed over flushes
  std::atomic<std::uint64_t> views{0};         // views written, summed over flushes
  std::atomic<double> last_success_unix{0.0};  // wall-clock time of the last good flush
  std::atomic<std::uint64_t> pending_keys{0};  // keys held because the store failed
  // True from a failed flush until the held counts are written (/readyz).
  std::atomic<bool> failing{false};
  // Longest time a flush hand-off ran on an I/O thread (the ingest pause).
  std::atomic<double> max_ingest_stall_seconds{0.0};

  // Views written per site since start (pvcd_views_total{site}). Bounded by
  // max_sites; updated once per flush.
  std::map<std::string, std::uint64_t, std::less<>> site_views() const {
    std::lock_guard lock(site_mutex);
    return site_views_;
  }
  void add_site_views(const std::map<std::string, std::uint64_t, std::less<>>& delta) {
    std::lock_guard lock(site_mutex);
    for (const auto& [site, n] : delta)
      site_views_[site] += n;
  }

 private:
  mutable std::mutex site_mutex;
  std::map<std::string, std::uint64_t, std::less<>> site_views_;
};

class flusher {
 public:
  using clock_fn = std::function<std::chrono::system_clock::time_point()>;
  // Runs `task` on the thread that owns shard `i` and returns after it ran.
  using run_on_shard_fn = std::function<void(std::size_t i, std::function<void()> task)>;
  // Called after every attempt: duration in seconds, keys in the batch, success.
  using observer_fn = std::function<void(double seconds, std::size_t keys, bool ok)>;

  flusher(counter_table& table, store& db, run_on_shard_fn run_on_shard, clock_fn now);

  void set_observer(observer_fn f) { observer_ = std::move(f); }

  // Extra keys written with the counts (the widget's visitor sketches and
  // salts): `collect` adds them before each write, in the same atomic batch
  // (or alone when there are no counts); `written` gets the outcome, so
  // what failed is collected again. Both run on the flusher thread.
  struct extra_writes {
    std::function<void(key_writes& out, day_number today)> collect;
    std::function<void(bool ok)> written;
  };
  void set_extra_writes(extra_writes e) { extra_ = std::move(e); }

  // Cluster mode (cluster/outbox.hpp): `add` puts the flush into the node's
  // outbox, in the same atomic write as its counts and sequence number, and
  // returns "" or why the flush must wait (the outbox is full): that round
  // then fails like a store error, and its counts stay held in memory.
  // `written` gets the write's outcome.
  struct outbox_hooks {
    std::function<std::string(std::span<const delta_table* const> tables, std::uint64_t seq,
                              key_writes& out)>
        add;
    std::function<void(std::uint64_t seq, bool ok)> written;
  };
  void set_outbox(outbox_hooks hooks) { outbox_ = std::move(hooks); }

  // Advances the table's current day if the clock has crossed midnight.
  void update_day();

  // One round. Returns "" on success (also when there was nothing to write).
  std::string flush_once();

  // Flushes every `interval` until stop() is called. The last flush is the
  // caller's (flush_once), once the I/O threads have stopped.
  void run(std::chrono::milliseconds interval);
  void stop();

  bool has_pending() const noexcept { return !pending_.empty(); }
  const flusher_stats& stats() const noexcept { return stats_; }

 private:
  struct held_table {
    std::size_t shard;
    std::unique_ptr<delta_table> table;
  };

  void drain_all();
  bool resolve_previous_attempt(std::string& error);
  // While the store fails, folds the held tables from pending_[first] on
  // into one per day, so memory grows with distinct keys, not with the time
  // the store stays down. The tables before `first` (an attempt whose fate
  // is not known yet) stay apart.
  void consolidate_pending(std::size_t first);

  counter_table& table_;
  store& db_;
  run_on_shard_fn run_on_shard_;
  clock_fn now_;
  observer_fn observer_;
  extra_writes extra_;
  outbox_hooks outbox_;

  std::vector<held_table> pending_;                              // drained, not yet written
  std::vector<std::vector<std::unique_ptr<delta_table>>> free_;  // per shard, to give back
  std::uint64_t last_seq_ = 0;  // last sequence number known to be in the store
  std::size_t attempted_ = 0;   // pending_[0, attempted_) went into a failed write
  bool retrying_ = false;

  flusher_stats stats_;
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stop_requested_ = false;
};

}  // namespace pvc
