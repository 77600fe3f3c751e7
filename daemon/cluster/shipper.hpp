#pragma once
// Cluster mode's one writer to Redis: takes the node's outbox in order and
// applies each flush to the cluster exactly once.
//
//   for the oldest flush in the outbox, per site it holds:
//     FCALL pvcd_apply (pvcd_functions.lua) with the site's keys, this node's
//     incarnation, the flush's seq and the previous flush that held the site
//   and PFADD its distinct visitors into the site's HyperLogLogs (idempotent,
//   so sent with every attempt)
//   then WAIT for `wait_replicas` replicas on every master written to, and
//   only then drop the flush from the outbox
//
// A retry after any failure (a lost reply, a failover, a timeout in WAIT)
// sends the whole flush again: the function answers "dup" for the sites it
// already applied, so nothing counts twice. After a restart the previous
// flush of a site is not known: the shipper reads the site's marker first
// and continues from it. A "gap" (the cluster lost flushes it had confirmed:
// a failover to a replica that had not got them, or a restored backup) is
// logged and counted, and the flush is applied after the marker: those
// counts are the stated loss, never an over-count.
//
// Thread-safety: run() on the shipper's own thread; stats() from any.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_client.hpp"
#include "cluster/outbox.hpp"

namespace pvc {

struct shipper_options {
  // Replicas that must hold a flush before it leaves the outbox (WAIT), and
  // how long one WAIT may take.
  int wait_replicas = 1;
  std::chrono::milliseconds wait_timeout{1000};
  // Drain rate after an outage: at most this many flushes a second.
  double max_flushes_per_second = 100;
  // Pause after a failed attempt (doubling up to the cap).
  std::chrono::milliseconds retry_first{100};
  std::chrono::milliseconds retry_cap{5000};
  // How long a minute's "online" HyperLogLog is kept: the online window and a margin.
  std::chrono::seconds online_ttl{7 * 60};
};

struct shipper_stats {
  std::atomic<std::uint64_t> flushes{0};     // flushes shipped and acknowledged
  std::atomic<std::uint64_t> keys{0};        // (day, article) counts shipped
  std::atomic<std::uint64_t> duplicates{0};  // site parts the cluster had already
  std::atomic<std::uint64_t> gaps{0};        // site parts after flushes the cluster lost
  std::atomic<std::uint64_t> errors{0};      // failed attempts
  std::atomic<bool> failing{false};          // since the last failed attempt, until a success
};

class shipper {
 public:
  shipper(outbox& box, cluster::cluster_client& client, shipper_options options);

  // Ships the oldest waiting flush, if any. Returns "" (shipped, or nothing
  // waits: then `shipped` is false) or the error.
  std::string ship_once(bool& shipped);

  // Ships until stop(): as soon as a flush waits (notify() or a short poll),
  // at most max_flushes_per_second, backing off after failures.
  void run();
  void stop();
  void notify();  // a flush was added (the flusher thread)

  // A title written to this node's store (title_table's change listener;
  // any thread): sent to the cluster with `pvcd_title`, where the newest
  // change wins. Held in memory until sent; after a restart the node sends
  // all of its titles again (harmless: older changes lose).
  void title_changed(std::string_view site, std::string_view article, std::string_view title,
                     std::int64_t changed_unix);
  // Sends the titles waiting; "" or the error (they stay queued).
  std::string ship_titles();

  const shipper_stats& stats() const noexcept { return stats_; }

 private:
  std::string load_functions();
  std::string read_markers(const std::map<std::string, struct site_part, std::less<>>& parts);

  outbox& box_;
  cluster::cluster_client& client_;
  const shipper_options options_;
  bool functions_loaded_ = false;
  // Per site, the last flush of this node the cluster has (from this run's
  // answers, or its marker read after a restart).
  std::map<std::string, std::uint64_t, std::less<>> last_applied_;
  std::set<std::string, std::less<>> registered_;  // sites known to be in pvc:sites
  shipper_stats stats_;

  struct title_change {
    std::string site, article, title;
    std::int64_t changed_unix;
  };
  std::mutex titles_mutex_;
  std::vector<title_change> titles_;  // waiting to be sent, in order

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool pending_ = false;
};

}  // namespace pvc
