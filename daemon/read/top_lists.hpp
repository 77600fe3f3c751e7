#pragma once
// "Most viewed" ("Tin xem nhiều"), computed in this one place from the
// embedded store, two ways:
//
//   compute(site, period, n)  exact now, any n up to 1000: pvctl top, the
//                             admin API. Scans the period's day counts, or
//                             every total of the site for `all`.
//   cached(site, period)      what the public /api/v1/top serves: the first
//                             50, from memory, never reading the store on the
//                             request. One background thread refreshes every
//                             list asked for in the last ten minutes, at most
//                             `refresh` (10 s) apart.
//
// The cached `all` list does not rescan the site each refresh: the first one
// (and one an hour, to pick up admin corrections) scans every total; later
// ones re-read the totals of the previous top 50 plus every article viewed
// since the previous refresh (the day counts of its day, the day before and
// today). An article in neither had a total below the 50th at the previous
// refresh and has not grown, so the new top 50 is exact.
//
// Each list carries its articles' titles, read from the store with the list
// (so a changed title shows from the list's next refresh on).
//
// Thread-safety: compute() from any thread; cached() from any thread (a
// mutex, held for a map lookup); refresh() on the refresher thread, or a
// test's.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/figures.hpp"

namespace pvc {

class store;

class top_lists {
 public:
  // Steady time in whole seconds; tests inject it.
  using clock_fn = std::function<std::int64_t()>;
  using day_fn = std::function<day_number()>;
  static constexpr std::size_t cached_length = 50;   // longest list /api/v1/top serves
  static constexpr std::size_t max_computed = 1000;  // longest list compute() makes

  top_lists(const store& db, day_fn today, std::chrono::seconds refresh, clock_fn now = {});
  ~top_lists();
  top_lists(const top_lists&) = delete;
  top_lists& operator=(const top_lists&) = delete;

  // The n (1..max_computed) most viewed articles of `site` now.
  top_list compute(std::string_view site, top_period period, std::size_t n) const;

  // The cached list if one was computed (null on the first ask, while the
  // refresher computes it), and asks for it (again) either way.
  std::shared_ptr<const top_list> cached(std::string_view site, top_period period);

  // The refresher thread. start() is idempotent; stop() joins it.
  void start();
  void stop();
  // One refresh round of every list asked for (the refresher's work).
  void refresh();

 private:
  struct list_key {
    std::string site;
    top_period period;
    bool operator<(const list_key& o) const {
      return period != o.period ? period < o.period : site < o.site;
    }
  };
  struct list_state {
    std::int64_t asked_at = 0;
    std::int64_t computed_at = INT64_MIN;
    std::shared_ptr<const top_list> result;
    // period `all`: the top articles at the last refresh, when and from which day.
    std::vector<ranked_article> base;
    std::int64_t base_scanned_at = INT64_MIN;
    day_number base_day = 0;
  };
  using sums = std::unordered_map<std::string, std::uint64_t>;

  // Adds each article's views of days first..last to `out`.
  std::string sum_days(std::string_view site, day_number first, day_number last, sums& out) const;
  // The incremental `all` list (see above).
  std::string refresh_all_time(const std::string& site, list_state& state, top_list& out) const;
  void run_refresher();

  const store& db_;
  day_fn today_;
  std::chrono::seconds refresh_;
  clock_fn now_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<list_key, list_state> lists_;
  bool stopping_ = false;
  std::thread refresher_;
};

}  // namespace pvc
