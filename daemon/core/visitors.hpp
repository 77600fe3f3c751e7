#pragma once
// Distinct visitors per site: today, yesterday, this month, and "online now"
// (seen within the online window). Visitors are the keyed hashes of
// visitor_id.hpp; the counts are HyperLogLog estimates (hyperloglog.hpp).
//
// Per site, shared by the I/O threads (no locks on the beacon path):
//   day[2], month[2]   precision-14 sketches (16 KiB each) for the current and
//                      the next period, slot = period & 1; the next one is
//                      prepared ahead, so midnight needs no work on a beacon
//   online[11]         precision-10 sketches (1 KiB each), one per tenth of
//                      the online window; "online" merges the last eleven
// That is 75 KiB per site that received a browser beacon (bounded by max_sites).
//
// Salts: one per day and one per month, read by the I/O threads through a
// small seqlock per slot (slot = period & 1). The flusher thread owns their
// life: it makes the next period's salt ahead of time, writes it to the store
// before it is used, and deletes a salt (store and memory) in the first
// write after its period ends.
//
// Persistence, on the flusher thread (collect/written): a sketch that
// changed is written with the flusher's batch at most once a minute (12 KiB
// each: a thousand busy sites would otherwise write megabytes a second), and
// at the last flush of a clean stop; when a period ends its estimate is
// written as a count and the sketch is deleted (see widget_keys.hpp);
// restore() reads it all back at start-up. A crash loses at most a minute
// of sketch changes: visitors of that minute who come back count again.
//
// Cost of a counted browser beacon: two SipHash-2-4 (address + User-Agent +
// site, then 8 bytes), a per-thread hash-map lookup of the site, three
// relaxed register loads and, rarely, a compare-exchange. No lock, no
// allocation (after a site's first beacon on a thread), no system call.
//
// Thread-safety: ids/record/counts on I/O thread `shard` (counts also from
// any one thread that passes its own shard index); restore before the I/O
// threads start; collect/written on the flusher thread.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/calendar.hpp"
#include "core/hash.hpp"
#include "core/hyperloglog.hpp"
#include "core/visitor_id.hpp"
#include "core/widget_keys.hpp"

namespace pvc {

struct visitor_ids {
  std::uint64_t month = 0;  // month id: month sketch, online, de-duplication
  std::uint64_t day = 0;    // day id: day sketch
  bool valid = false;       // false while the period's salt is not installed
};

struct visitor_counts {
  std::uint64_t online = 0;
  std::uint64_t today = 0;
  std::uint64_t yesterday = 0;
  std::uint64_t this_month = 0;
};

class visitor_counter {
 public:
  static constexpr unsigned period_precision = 14;
  static constexpr unsigned online_precision = 10;
  static constexpr std::size_t online_buckets = 11;

  // `online_window`: how long after a view a visitor counts as online.
  // `make_salt`: where new salts come from (tests make them predictable).
  using salt_fn = salt (*)();
  visitor_counter(std::size_t threads, std::chrono::seconds online_window,
                  salt_fn make_salt = random_salt);
  ~visitor_counter();
  visitor_counter(const visitor_counter&) = delete;
  visitor_counter& operator=(const visitor_counter&) = delete;

  // Start-up, before any I/O thread runs: `stored` holds every K and V key
  // and the U d<yesterday> keys with their values. Installs the salts and
  // sketches of the current periods (making salts that are missing) and
  // returns the writes that tidy the store: finished periods' sketches
  // become counts, salts of other periods are deleted. Write them at once.
  key_writes restore(day_number today,
                     const std::vector<std::pair<std::string, std::string>>& stored);

  // The visitor's ids for `day` (invalid until the day's salt is installed).
  visitor_ids ids(day_number day, std::string_view address, std::string_view user_agent,
                  std::string_view site) const noexcept;
  // Records a counted view at `now_seconds` (a steady clock, whole seconds).
  void record(std::size_t shard, std::string_view site, day_number day, const visitor_ids& ids,
              std::int64_t now_seconds);
  // Distinct visitors of `site` as of `today`; recomputed at most once a second per site.
  visitor_counts counts(std::size_t shard, std::string_view site, day_number today,
                        std::int64_t now_seconds);

  // Flusher thread: adds what changed since the last successful write to
  // `out` (salts to write or delete, sketches, counts of finished periods);
  // written() gets the outcome and, on success, retires finished periods.
  // `now_seconds` paces sketch writes; `everything` writes every changed
  // sketch now (the last flush before a clean stop).
  static constexpr std::int64_t save_interval_seconds = 60;
  void collect(day_number today, key_writes& out, std::int64_t now_seconds, bool everything);
  void written(bool ok);

  std::size_t site_count() const;

  // Cluster mode: every node must hash visitors with the same salt, so a
  // salt is agreed with the cluster before it is used. `agree(is_day,
  // period, candidate)` returns the cluster's salt for the period (the
  // candidate, if this node is the first to ask), or nothing when the
  // cluster cannot be asked now. A period without an agreed salt counts no
  // visitors (views still count); agreement is tried again at the next
  // flush, at most every `retry_seconds`. Set before restore().
  using agree_fn =
      std::function<std::optional<salt>(bool is_day, std::int32_t period, const salt& candidate)>;
  void set_salt_agreement(agree_fn agree, std::int64_t retry_seconds = 10) {
    agree_ = std::move(agree);
    agree_retry_seconds_ = retry_seconds;
  }

 private:
  static constexpr std::int32_t no_period = INT32_MIN;
  static constexpr std::int64_t clearing = -1;

  struct salt_slot {
    std::atomic<std::int32_t> period{no_period};
    std::atomic<std::uint64_t> k0{0};
    std::atomic<std::uint64_t> k1{0};
  };
  struct period_sketch {
    std::atomic<std::int32_t> period{no_period};
    std::atomic<std::uint64_t> changes{0};  // bumped (release) after a register grows
    std::uint64_t persisted = 0;            // flusher only: `changes` last written
    std::int64_t saved_at = INT64_MIN;      // flusher only: when it was last written
    atomic_hll sketch{period_precision};
  };
  struct online_bucket {
    std::atomic<std::int64_t> epoch{-2};  // bucket number, or `clearing`
    atomic_hll sketch{online_precision};
  };
  struct site_state {
    explicit site_state(std::string n) : name(std::move(n)) {}
    std::string name;
    std::array<period_sketch, 2> day;
    std::array<period_sketch, 2> month;
    std::array<online_bucket, online_buckets> online;
    std::atomic<std::int32_t> yesterday_day{no_period};  // a finished day and its count
    std::atomic<std::uint64_t> yesterday_count{0};
    std::mutex cache_mutex;  // the counts() cache, taken by readers only
    visitor_counts cached;
    day_number cached_day = no_period;
    std::int64_t cached_at = INT64_MIN;
  };
  struct alignas(64) shard_cache {
    std::unordered_map<std::string, site_state*, seeded_string_hash, std::equal_to<>> sites;
  };
  // Salts of one kind (days or months), owned by the flusher thread.
  struct salt_book {
    std::map<std::int32_t, salt> known;
    std::set<std::int32_t> persisted;
    std::set<std::int32_t> agreed;  // cluster mode: salts the cluster confirmed
  };
  // A sketch change collected for the write in flight.
  struct pending {
    site_state* site;
    period_sketch* slot;
    bool is_day;
    bool finished;  // true: the period ended, `value` is its count
    std::int32_t period;
    std::uint64_t value;  // finished: the count; else the `changes` written
  };

  site_state* find(std::size_t shard, std::string_view site, bool create);
  site_state* create_locked(std::string_view site);
  void assign_periods(site_state& s, std::int32_t day, std::int32_t month);
  std::vector<site_state*> all_sites() const;
  void add_online(site_state& s, std::uint64_t id, std::int64_t now_seconds);
  std::uint64_t online_estimate(const site_state& s, std::int64_t now_seconds) const;
  static bool read_salt(const salt_slot& slot, std::int32_t period, salt& out) noexcept;
  static void write_salt(salt_slot& slot, std::int32_t period, const salt& value) noexcept;
  void plan_salts(salt_book& book, std::int32_t current, bool is_day, key_writes& out);
  void agree_salts(salt_book& book, std::int32_t current, bool is_day, std::int64_t now_seconds);
  void install_salts(salt_book& book, std::array<salt_slot, 2>& slots, std::int32_t current);
  void collect_slot(site_state& s, period_sketch& slot, std::int32_t current, bool is_day,
                    bool everything, key_writes& out);

  std::int64_t bucket_seconds_;
  salt_fn make_salt_;
  std::array<salt_slot, 2> day_salts_;
  std::array<salt_slot, 2> month_salts_;
  std::atomic<std::int32_t> current_day_{no_period};  // periods new sites are prepared for
  std::atomic<std::int32_t> current_month_{no_period};

  mutable std::mutex mutex_;  // the site registry
  std::vector<std::unique_ptr<site_state>> sites_;
  std::map<std::string, site_state*, std::less<>> by_name_;
  std::vector<std::unique_ptr<shard_cache>> caches_;

  // Flusher thread only.
  salt_book day_book_;
  salt_book month_book_;
  std::vector<pending> in_flight_;
  day_number collected_day_ = no_period;
  std::int64_t collected_at_ = 0;
  agree_fn agree_;
  std::int64_t agree_retry_seconds_ = 10;
  std::int64_t agree_failed_at_ = INT64_MIN;
};

}  // namespace pvc
