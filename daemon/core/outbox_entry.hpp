#pragma once
// One flush as the node's outbox keeps it until the cluster has it: the
// counts of every (day, site, article) the flush wrote, in one RocksDB value
// written in the same atomic batch as the flush itself (flush/ and cluster/),
// so a flush is in the outbox exactly when it is in the node's store.
//
// Encoding (integers LEB128 varints unless said):
//   2 (format), the number of rows, then per row: day (zig-zag), site
//   length, site, article length, article, views;
//   then per visit (core/visitor_batch.hpp): site length, site, day
//   (zig-zag), month id and day id (8 bytes little-endian each), minute
// Rows of one table share its day; a flush of several tables (one per I/O
// thread, or one per day across midnight) repeats a key, which decode() sums.
//
// Pure; thread-safe.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/calendar.hpp"
#include "core/delta_table.hpp"
#include "core/visitor_batch.hpp"

namespace pvc {

std::string encode_outbox_entry(std::span<const delta_table* const> tables,
                                const visits_by_site& visits = {});

// One site's part of a flush: per day, the site's views and its articles'.
struct site_part {
  struct day_counts {
    day_number day = 0;
    std::uint64_t site_views = 0;
    std::map<std::string, std::uint64_t, std::less<>> articles;
  };
  std::vector<day_counts> days;  // by day
  std::vector<visit> visits;     // its distinct visitors' views in this flush
};

// The flush by site; false if `bytes` is not an entry this code wrote.
bool decode_outbox_entry(std::string_view bytes,
                         std::map<std::string, site_part, std::less<>>& out);

}  // namespace pvc
