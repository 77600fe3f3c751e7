#pragma once
// A flush's counts in key order, and the RocksDB keys they become: shared
// by the two ways a flush reaches the store (store.cpp: one WriteBatch;
// store_bulk.cpp: SST files for large flushes), so both write the same keys
// and sums.
//
// The drained tables of one flush (one per I/O thread and day) often hold
// the same key: a popular article is hit on every thread. Sorted together,
// equal keys are adjacent and become one operand, not one per thread, which
// matters most for the WriteBatch, whose every entry costs a skip-list
// insert in RocksDB's memtable (bench/RESULTS.md, "CPU per unit of work").
#include <rocksdb/status.h>

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/calendar.hpp"
#include "core/delta_table.hpp"

namespace pvc {

// One counter of a drained table, laid out for the sort: `day_site` and
// `head` decide almost every comparison without leaving the row (following
// the views into the tables for every comparison made the sort half of a
// 1M-key flush), and the row is small so the sort moves little.
struct flush_row {
  std::uint64_t day_site;  // (day, site rank) as one integer in their order
  std::uint64_t head;      // 8 article bytes after the prefix all articles share, big-endian
  const char* article_data;
  std::uint32_t article_size;
  std::uint64_t n;

  static std::uint64_t pack(day_number day, std::uint32_t site) {
    // Flipping the sign bit orders negative days before positive ones.
    return (std::uint64_t{static_cast<std::uint32_t>(day) ^ 0x8000'0000u} << 32) | site;
  }
  day_number day() const {
    return static_cast<day_number>(static_cast<std::uint32_t>(day_site >> 32) ^ 0x8000'0000u);
  }
  std::uint32_t site() const { return static_cast<std::uint32_t>(day_site); }
  std::string_view article() const { return {article_data, article_size}; }
};

// Every table's counters, sorted by day, site, article: the key order of the
// D range (the separator 0x00 sorts before every id byte, so (site, article)
// order is key order). Equal (day, site, article) rows are adjacent; the
// writers below sum them. `sites` holds the site of each rank. The views
// point into the tables, which must outlive this.
struct sorted_flush {
  std::vector<flush_row> rows;
  std::vector<std::string_view> sites;
  std::size_t common = 0;  // bytes every article starts with
};
sorted_flush sort_flush(std::span<const delta_table* const> tables);

// Where a flush's keys go: a WriteBatch, or an SST file (which takes keys
// in ascending order only; the writers below emit them so).
class flush_sink {
 public:
  virtual rocksdb::Status merge(std::string_view key, std::uint64_t n) = 0;
  virtual rocksdb::Status put(std::string_view key, std::string_view value) = 0;

 protected:
  ~flush_sink() = default;
};

// The keys before the T range, in order: '#' (the flush sequence number),
// 'D' (per day, each site's sum, then its articles), 'M' (each site's sum
// per month) and 'S' (the site markers).
rocksdb::Status write_day_keys(flush_sink& sink, const sorted_flush& sorted,
                               std::uint64_t flush_seq);
// The T range, in order: all-time, every day's rows together.
rocksdb::Status write_total_keys(flush_sink& sink, const sorted_flush& sorted);

}  // namespace pvc
