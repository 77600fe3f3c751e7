#pragma once
// The read side: every figure pvcd answers (views, the widget's numbers,
// distinct visitors, most viewed, the list of sites, exports) comes through a
// `reader`, whatever holds the counts. The routes (serve/read_routes.cpp),
// the admin API and the metrics call it and never see store keys.
//
//   embedded_reader  (read/embedded_reader.cpp) the embedded RocksDB store,
//                    the in-memory visitor sketches and the cached
//                    most-viewed lists of read/top_lists.hpp
//
// A second backend (a Redis Cluster) implements the same interface.
//
// Thread-safety: every member may be called from any I/O thread at once;
// `thread` is the calling I/O thread's index (per-thread caches, no locks).
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/figures.hpp"
#include "core/visitors.hpp"
#include "store/store_types.hpp"

namespace pvc {

// A paged export over one consistent view of the counts.
class export_cursor {
 public:
  virtual ~export_cursor() = default;
  // Rows after `after_key` (a key a previous page returned; "" from the
  // start), at most `limit`; `next_key` is "" after the last row. "" or the error.
  virtual std::string page(std::string_view after_key, std::size_t limit,
                           std::vector<export_row>& out, std::string& next_key) = 0;
};

class reader {
 public:
  virtual ~reader() = default;

  // The day every figure is counted in (the configured zone's).
  virtual day_number today() const = 0;

  // A site and some of its articles, all of one day (a read racing local
  // midnight is taken again).
  virtual views_snapshot views(std::string_view site,
                               std::span<const std::string_view> articles) = 0;

  // Distinct visitors of `site` and who is online now.
  virtual visitor_counts visitors(std::string_view site, std::size_t thread) = 0;

  // Most viewed, as the public routes serve it: at most top_cached_length
  // entries, from memory, refreshed in the background; null while the first
  // computation of this list runs (the route answers 503, retry).
  static constexpr std::size_t top_cached_length = 50;
  virtual std::shared_ptr<const top_list> cached_top(std::string_view site, top_period period) = 0;
  // Most viewed, exact now (pvctl top): n up to 1000.
  virtual top_list top(std::string_view site, top_period period, std::size_t n) = 0;

  // Every site with its total, today and this month.
  virtual site_list sites() = 0;

  // The titles of some articles of `site`, "" where none (or on a failed read).
  virtual std::vector<std::string> titles(std::string_view site,
                                          std::span<const std::string_view> articles) = 0;

  // A new export (null and `error` set when none can start now).
  virtual std::shared_ptr<export_cursor> open_export(const export_filter& filter,
                                                     std::string& error) = 0;
};

}  // namespace pvc
