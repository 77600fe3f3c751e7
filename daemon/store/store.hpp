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
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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
  // A flush of at least this many keys is written as one SST file and
  // ingested (store_bulk.cpp) rather than as a WriteBatch.
  std::size_t bulk_flush_min_keys = 50'000;
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

  // ---- Reads (store.cpp, store_reads.cpp), for the read layer
  // (read/embedded_reader.cpp) and the metrics. Each is one consistent read.

  // A site and some of its articles as of `today`.
  views_snapshot read_views(std::string_view site, std::span<const std::string_view> articles,
                            day_number today) const;
  // Every site with its total, today and this month.
  site_list read_sites(day_number today) const;
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

  // ---- Admin operations (store_admin.cpp; types and the consistency rule
  // with concurrent flushes in store_admin.hpp). Writes journal themselves:
  // their audit record goes into the same atomic write as the change.

  // Adds `delta` (negative to subtract) to an article's and its site's
  // all-time totals and, with `day`, to their counts of that day and the
  // site's month. Refused when a count would drop below zero.
  admin_outcome adjust(std::string_view site, std::string_view article, std::int64_t delta,
                       std::optional<day_number> day, const audit_entry& audit);
  // Moves every count of `from` (all-time and each day) to `to`, which must
  // have none. Site totals are unchanged.
  admin_outcome rename_article(std::string_view site, std::string_view from, std::string_view to,
                               const audit_entry& audit);
  // Adds every count of `from` to `into` and removes `from`. Site totals
  // are unchanged.
  admin_outcome merge_articles(std::string_view site, std::string_view from, std::string_view into,
                               const audit_entry& audit);

  // Imports: rows are checked and staged under a session id (nothing
  // visible), then committed in one atomic write, or discarded.
  admin_outcome stage_import(std::string_view session, std::span<const staged_row> rows);
  // After the commit, `on_article` is called for each site it touched
  // (article "") and each article given an all-time count.
  admin_outcome commit_import(
      std::string_view session, import_mode mode, const audit_entry& audit,
      const std::function<void(std::string_view site, std::string_view article)>& on_article);
  // Drops a session's staged rows; "" drops every session's (start-up).
  std::string discard_import(std::string_view session);

  // Exports, paged over one snapshot: rows after `after_key` (a key a
  // previous page returned; "" from the start), at most `limit`; `next_key`
  // is "" after the last row. snapshot() is null when the store is closed
  // (store_impl.hpp).
  std::shared_ptr<const store_snapshot> snapshot() const;
  std::string export_rows(const store_snapshot& snap, const export_filter& filter,
                          std::string_view after_key, std::size_t limit,
                          std::vector<export_row>& out, std::string& next_key) const;

  // The audit journal: records at or after `since_unix_us`, after
  // `after_key`, at most `limit`, oldest first.
  admin_outcome append_audit(const audit_entry& e);
  std::string read_audit(std::int64_t since_unix_us, std::string_view after_key, std::size_t limit,
                         std::vector<std::string>& records, std::string& next_key) const;
  // Copies the audit records of the (closed) store in `dir` that this one
  // lacks: a restore keeps the journal of the data dir it replaces.
  std::string copy_audit_from(const std::string& dir, std::uint64_t& copied);

  // Backups: a checkpoint (hard links, a consistent point between two
  // flushes) in `dir`, which must not exist; a summary of the counts; a
  // RocksDB BackupEngine backup of this store into `backup_dir`.
  std::string checkpoint_to(const std::string& dir);
  std::string summarize(store_summary& out) const;
  std::string backup_to(const std::string& backup_dir, const std::string& metadata,
                        const std::atomic<bool>& cancel, backup_info& out);
  // The backups in `backup_dir` (only `id` when non-zero), each checked
  // against its checksums when `verify`.
  static std::string list_backups(const std::string& backup_dir, std::uint32_t id, bool verify,
                                  std::vector<backup_info>& out);
  // Restores backup `id` (0 = the latest) into `target_dir`, a fresh directory.
  static std::string restore_backup(const std::string& backup_dir, std::uint32_t id,
                                    const std::string& target_dir);

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
  // The 8-byte counts of `keys` (0 when missing), read over one snapshot.
  std::string read_counts(std::span<const std::string> keys, std::vector<std::uint64_t>& out) const;

 private:
  // rename_article (`to` must have no counts) and merge_articles, in one write.
  admin_outcome move_article_counts(std::string_view site, std::string_view from,
                                    std::string_view to, bool to_must_be_new,
                                    const audit_entry& audit);
  // store_bulk.cpp: apply() for large flushes, and the files a crash left.
  static constexpr std::string_view bulk_file_prefix = "pvcd-flush-";
  std::string apply_as_file(std::span<const delta_table* const> tables, std::uint64_t flush_seq,
                            const key_writes* extra);
  static void remove_stale_bulk_files(const std::string& dir);

  struct impl;
  friend struct store_snapshot;  // an export's snapshot (store_impl.hpp)
  explicit store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace pvc
