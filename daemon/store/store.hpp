#pragma once
// The embedded RocksDB store: counts flushed by the flusher, read by the API.
// RocksDB stays behind this interface (pimpl), so only store.cpp includes it.
//
// Exactly-once flushes: every flush carries a sequence number written in the
// same atomic WriteBatch as its counts. If a write reports failure, the
// flusher asks `last_flush_seq()` before retrying: a batch that did land is
// never written twice, one that did not is retried with the same number.
//
// Thread-safety: all members are thread-safe (RocksDB is; see
// store_impl.hpp for the two locks); `apply` is meant for the single flusher
// thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/calendar.hpp"
#include "core/delta_table.hpp"
#include "core/figures.hpp"
#include "core/widget_keys.hpp"
#include "store/store_types.hpp"

namespace pvc {

struct store_options {
  bool sync = true;  // fsync the WAL on every flush: a power cut keeps flushed counts too
  // A flush of at least this many keys is written as SST files and
  // ingested (store_bulk.cpp) rather than as a WriteBatch. Measured on the
  // bench box (bench/RESULTS.md, "CPU per unit of work"), ingesting costs
  // less than the memtable from a few thousand keys a flush on, compaction
  // of the files included: at ~4,400 keys a flush pvcd used 0.39 s of CPU
  // in 20 s against 0.56 s, and at 150k one-hit datagrams a second the
  // memtable inserts were a third of pvcd's CPU. Below this, a flush's few
  // entries go to the memtable and leave no file behind.
  std::size_t bulk_flush_min_keys = 2'000;
};

class store {
 public:
  // Opens or creates the store in `dir`. On failure returns null and sets
  // `error` to a one-line message naming the path.
  static std::unique_ptr<store> open(const std::string& dir, const store_options& options,
                                     std::string& error);
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  // Adds the tables' counts and records `flush_seq`, in one atomic write,
  // together with `extra` (the widget's visitor sketches and salts, see
  // flusher.hpp). Returns "" on success, else the error.
  std::string apply(std::span<const delta_table* const> tables, std::uint64_t flush_seq,
                    const key_writes* extra = nullptr);

  // "" when a write may go ahead now, else why not: the data dir is
  // read-only, has less free space than the reserve, or fails a small synced
  // write; or RocksDB failed a write and reopening it failed. Every write
  // checks this itself (store_health.cpp: Debian's RocksDB aborts the process
  // on a second failed write to a file); the flusher calls it before it asks
  // last_flush_seq() about a failed attempt, so that a reopen, which replays
  // RocksDB's log, comes before that answer.
  std::string ready_for_write();
  static constexpr std::uint64_t free_space_reserve = 8u << 20;  // a flush batch and the log

  // The sequence number of the last flush that landed (0 for a new store).
  // Returns false when it cannot be read.
  bool last_flush_seq(std::uint64_t& out) const;

  // Sites with counts, for the site registry at start-up.
  std::vector<std::string> sites() const;

  // Calls fn(site, article) for every article with stored counts (the key
  // caps' known set at start-up). Returns "" or the error.
  std::string for_each_article(
      const std::function<void(std::string_view site, std::string_view article)>& fn) const;

  // ---- Reads (store_reads.cpp), for the read layer (read/embedded_reader.cpp).
  // Each is one consistent read.

  // The 8-byte counts of `keys` (0 when missing; key layout in
  // core/store_keys.hpp), over one snapshot.
  std::string read_counts(std::span<const std::string> keys, std::vector<std::uint64_t>& out) const;

  // fn(article, views) for each article of `site` viewed on `day`.
  std::string for_each_article_on_day(
      std::string_view site, day_number day,
      const std::function<void(std::string_view article, std::uint64_t views)>& fn) const;
  // fn(article, total) for every article of `site`; `fill_cache` false for
  // one-off full scans.
  std::string for_each_article_total(
      std::string_view site,
      const std::function<void(std::string_view article, std::uint64_t total)>& fn,
      bool fill_cache) const;
  // The all-time totals of some articles of `site` (0 when missing).
  std::string read_article_totals(std::string_view site, std::span<const std::string> articles,
                                  std::vector<std::uint64_t>& out) const;

  const std::string& dir() const noexcept;

  // The admin roles (corrections, imports, exports, the audit journal,
  // backups) are free functions over a store, one header each beside this
  // one: store_corrections.hpp, store_imports.hpp, store_exports.hpp,
  // store_audit.hpp, store_backups.hpp. They hold no state of their own (all
  // of it is impl's), so a class per role would only wrap a store&; as
  // functions, this class keeps what the flusher and the read layer use, and
  // each caller includes only the role it calls.

  // ---- Visitor state (store_visitors.cpp; key layout in core/widget_keys.hpp).

  // What visitor_counter::restore needs at start-up: every salt (K) and
  // sketch (V) key and yesterday's distinct-visitor count, with their values.
  std::string read_visitor_state(day_number today,
                                 std::vector<std::pair<std::string, std::string>>& out) const;

  // Puts and deletes in one atomic write (start-up tidying of visitor state).
  std::string write_keys(const key_writes& writes);
  // Calls fn(key, value) for every key starting with `prefix`, over one
  // snapshot. `fill_cache` false for one-off large scans. Returns "" or the error.
  std::string scan_prefix(
      std::string_view prefix,
      const std::function<void(std::string_view key, std::string_view value)>& fn,
      bool fill_cache = true) const;

 private:
  // store_bulk.cpp: apply() for large flushes, and the files a crash left.
  static constexpr std::string_view bulk_file_prefix = "pvcd-flush-";
  std::string apply_as_file(std::span<const delta_table* const> tables, std::uint64_t flush_seq,
                            const key_writes* extra);
  static void remove_stale_bulk_files(const std::string& dir);

  struct impl;
  friend struct store_snapshot;  // an export's snapshot (store_impl.hpp)
  friend struct store_access;    // the admin role files' way to impl (store_impl.hpp)
  explicit store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace pvc
