#pragma once
// The embedded RocksDB store: counts flushed by the flusher, read by the API.
// RocksDB stays behind this interface (pimpl), so only store.cpp includes it.
//
// Exactly-once flushes: every flush carries a sequence number written in the
// same atomic WriteBatch as its counts. If a write reports failure, the
// flusher asks `last_flush_seq()` before retrying: a batch that did land is
// never written twice, one that did not is retried with the same number.
//
// Thread-safety: all members are thread-safe (RocksDB is); `apply` is meant
// for the single flusher thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/calendar.hpp"
#include "core/delta_table.hpp"

namespace pvc {

struct site_views {
  std::uint64_t total = 0;
  std::uint64_t today = 0;
  std::uint64_t yesterday = 0;
  std::uint64_t this_month = 0;
};

struct article_views {
  std::uint64_t total = 0;
  std::uint64_t today = 0;
};

struct views_snapshot {
  site_views site;
  std::vector<article_views> articles;  // in the order asked
  std::string error;                    // non-empty when the store could not be read
};

struct store_options {
  bool sync = true;  // fsync the WAL on every flush: a power cut keeps flushed counts too
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

  // Adds the tables' counts and records `flush_seq`, in one atomic write.
  // Returns "" on success, else the error.
  std::string apply(std::span<const delta_table* const> tables, std::uint64_t flush_seq);

  // The sequence number of the last flush that landed (0 for a new store).
  // Returns false when it cannot be read.
  bool last_flush_seq(std::uint64_t& out) const;

  // Sites with counts, for the site registry at start-up.
  std::vector<std::string> sites() const;

  // Calls fn(site, article) for every article with stored counts (the key
  // caps' known set at start-up). Returns "" or the error.
  std::string for_each_article(
      const std::function<void(std::string_view site, std::string_view article)>& fn) const;

  // One consistent read of a site and some of its articles.
  views_snapshot read_views(std::string_view site, std::span<const std::string_view> articles,
                            day_number today) const;

  const std::string& dir() const noexcept;

 private:
  struct impl;
  explicit store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace pvc
