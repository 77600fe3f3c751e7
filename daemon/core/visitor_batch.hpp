#pragma once
// Cluster mode's distinct visitors on their way to the cluster: the I/O
// threads note each counted browser view's visitor ids (visitors.hpp), and
// the flusher takes them into the flush's outbox entry, so the shipper can
// PFADD them into the cluster's HyperLogLogs, where one visitor seen by two
// nodes is one visitor (the salts are the cluster's). PFADD is idempotent:
// a flush shipped twice adds nobody twice.
//
// Thread-safety: add() on I/O thread `shard` (one uncontended mutex per
// shard); take()/put_back() on the flusher thread.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/calendar.hpp"
#include "core/visitors.hpp"

namespace pvc {

struct visit {
  day_number day = 0;
  std::uint64_t month_id = 0;  // the month HyperLogLog and "online"
  std::uint64_t day_id = 0;    // the day HyperLogLog
  std::int64_t minute = 0;     // unix minute of the view ("online now")
  auto operator<=>(const visit&) const = default;
};

// Visits by site, each distinct (a visitor's repeated views in one minute are one).
using visits_by_site = std::map<std::string, std::vector<visit>, std::less<>>;

class visitor_batch {
 public:
  explicit visitor_batch(std::size_t shards);

  void add(std::size_t shard, std::string_view site, day_number day, const visitor_ids& ids,
           std::int64_t unix_minute);
  // Everything added since the last take (and what was put back).
  void take(visits_by_site& out);
  // A flush that failed: its visits go with the next one.
  void put_back(visits_by_site&& v);

 private:
  struct alignas(64) shard_visits {
    std::mutex mutex;
    visits_by_site visits;
  };
  std::vector<std::unique_ptr<shard_visits>> shards_;
  visits_by_site returned_;  // flusher thread only
};

}  // namespace pvc
