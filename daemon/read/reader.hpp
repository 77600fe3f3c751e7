#pragma once
// The read side: every figure pvcd answers (views, the widget's numbers,
// distinct visitors, most viewed, the list of sites, exports) comes through a
// `reader`, whatever holds the counts. The routes (serve/read_routes.cpp),
// the admin API and the metrics call it and never see store keys.
//
// A backend answers a few primitives (counts by reference, the site names,
// visitors, most viewed, exports); the figures a route shows are built from
// them once, here or in the route, so a new read route needs no new backend
// code as long as it asks for counts the backends hold.
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
#include <functional>
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

  // ---- What a backend answers (embedded_reader; the Redis Cluster's next).

  // The day every figure is counted in (the configured zone's).
  virtual day_number today() const = 0;

  // The counts `refs` name, read at one instant (0 for a count never
  // written), in their order into `out`. Returns "" or the error; `warming`
  // when a backend that serves from a cache has not fetched them yet (the
  // route answers 503: retry in a second).
  static constexpr std::string_view warming = "warming: these counts are being fetched";
  virtual std::string counts(std::span<const count_ref> refs, std::vector<std::uint64_t>& out) = 0;

  // Every site with counts, by name.
  virtual std::vector<std::string> site_names() = 0;

  // Distinct visitors of `site` and who is online now.
  virtual visitor_counts visitors(std::string_view site, std::size_t thread) = 0;

  // Most viewed, as the public routes serve it: at most top_cached_length
  // entries, from memory, refreshed in the background; null while the first
  // computation of this list runs (the route answers 503, retry).
  static constexpr std::size_t top_cached_length = 50;
  virtual std::shared_ptr<const top_list> cached_top(std::string_view site, top_period period) = 0;
  // Most viewed, exact now (pvctl top): n up to 1000.
  virtual top_list top(std::string_view site, top_period period, std::size_t n) = 0;

  // The titles of some articles of `site`, "" where none (or on a failed read).
  virtual std::vector<std::string> titles(std::string_view site,
                                          std::span<const std::string_view> articles) = 0;

  // A new export (null and `error` set when none can start now).
  virtual std::shared_ptr<export_cursor> open_export(const export_filter& filter,
                                                     std::string& error) = 0;

  // How far behind the figures may be because the backend cannot be
  // reached: seconds since its last good read (cluster mode), 0 when current.
  virtual double stale_seconds() const { return 0; }

  // ---- Queries built from the counts, the same for every backend (reader.cpp).

  // A site and some of its articles as of today, all of one day (a read
  // racing local midnight is taken again).
  views_snapshot views(std::string_view site, std::span<const std::string_view> articles);
  // The same as of `day`.
  views_snapshot views_on(day_number day, std::string_view site,
                          std::span<const std::string_view> articles);
};

// The views query over any source of counts (a reader's, or a bare store's
// in the store's own tests).
using counts_fn =
    std::function<std::string(std::span<const count_ref>, std::vector<std::uint64_t>&)>;
views_snapshot views_from(const counts_fn& counts, day_number day, std::string_view site,
                          std::span<const std::string_view> articles);

}  // namespace pvc
