#pragma once
// A cluster-mode node's outbox: every flush, kept in the node's own RocksDB
// until the Redis Cluster has it (cluster/shipper.hpp). The flusher adds a
// flush in the same atomic write as its counts and sequence number, so after
// a crash the outbox holds exactly the flushes that landed and were not
// shipped yet; flush sequence numbers are consecutive, so the entries are too.
//
//   O <seq, 8 bytes big-endian>   unix ms (8 bytes little-endian), then the
//                                 flush (core/outbox_entry.hpp)
//   #incarnation                  this data dir's node id in the cluster's
//                                 markers: 32 hex digits made when the outbox
//                                 is first opened, so a new data dir never
//                                 reuses an old one's sequence numbers
//
// Bounded: once `max_bytes` are waiting, add() refuses and the flusher holds
// the counts in memory as it does when the store fails (/readyz says so).
//
// Thread-safety: add() on the flusher thread, next()/remove() on the shipper
// thread, the figures from any.
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/delta_table.hpp"
#include "core/figures.hpp"
#include "core/outbox_entry.hpp"
#include "core/visitor_batch.hpp"
#include "core/widget_keys.hpp"

namespace pvc {

class store;

class outbox {
 public:
  // Reads what a previous run left (sizes and times) and the incarnation id,
  // making one on first use. Null and `error` set when the store fails.
  static std::unique_ptr<outbox> open(store& db, std::uint64_t max_bytes, std::string& error);

  // The flusher's hook (flusher::set_outbox): the flush's entry into `out`.
  // `visits`: the flush's distinct visitors (core/visitor_batch.hpp).
  std::string add(std::span<const delta_table* const> tables, const visits_by_site& visits,
                  std::uint64_t seq, key_writes& out);
  // After the flusher's write: whether `seq` landed (kept in the figures).
  void added(std::uint64_t seq, bool ok);

  struct entry {
    std::uint64_t seq = 0;
    std::int64_t unix_ms = 0;  // when it was flushed
    std::string flush;         // core/outbox_entry.hpp
  };
  // The oldest flush still to ship; false when none (or `error` set).
  bool oldest(entry& out, std::string& error) const;
  // Drops a shipped flush (the oldest).
  std::string remove(std::uint64_t seq);

  // The views of flushes the shipper has not sent yet (they cannot be in
  // any read of the cluster), for reads to add to the cluster's figures:
  // never more than the node counted, and nothing the cluster may have.
  // Flushes left by a previous run are not in it (they ship first).
  std::uint64_t unsent(const count_ref& ref) const;
  // The shipper, before it first sends flush `seq` (`parts`: its rows).
  void sending(std::uint64_t seq, const std::map<std::string, site_part, std::less<>>& parts);

  const std::string& incarnation() const noexcept { return incarnation_; }
  std::uint64_t depth() const;
  std::uint64_t bytes() const noexcept { return bytes_.load(std::memory_order_relaxed); }
  std::uint64_t max_bytes() const noexcept { return max_bytes_; }
  bool full() const noexcept { return bytes() >= max_bytes_; }
  // Seconds since the oldest waiting flush was written; 0 when none waits.
  double oldest_age_seconds() const;

 private:
  outbox(store& db, std::uint64_t max_bytes) : db_(db), max_bytes_(max_bytes) {}

  struct waiting {
    std::uint64_t seq;
    std::int64_t unix_ms;
    std::uint64_t bytes;
  };
  store& db_;
  const std::uint64_t max_bytes_;
  std::string incarnation_;
  mutable std::mutex mutex_;
  std::deque<waiting> waiting_;  // in seq order
  waiting proposed_{};           // add()'s entry until added() says whether it landed
  struct row {
    std::string site, article;
    day_number day;
    std::uint64_t views;
  };
  std::vector<row> proposed_rows_;  // its rows, for `unsent`
  // Unsent views by site and day, and by site 0x00 article and day.
  using by_day = std::map<day_number, std::uint64_t>;
  std::map<std::string, by_day, std::less<>> unsent_sites_;
  std::map<std::string, by_day, std::less<>> unsent_articles_;
  std::uint64_t sent_up_to_ = 0;  // the last flush sending() took out
  std::atomic<std::uint64_t> bytes_{0};
};

}  // namespace pvc
