#pragma once
// Reload de-duplication: one visitor's repeated views of one article within
// the window count once. The key is a hash of (visitor month id, article),
// see visitor_id.hpp; the window runs from the last view that counted.
//
//   2^b buckets of 4 entries, 8 bytes each: [ 32-bit fingerprint | 32-bit time ]
//   bucket = key's low b bits; fingerprint = key's high 32 bits; time =
//   seconds since the table was made, + 1 (0 marks an empty entry)
//
// Memory is fixed when the table is made: 32 << b bytes (b = 19: 16 MiB,
// 2 Mi entries; enough for every (visitor, article) pair of a 30-minute
// window at ~1000 views/s). When a bucket's four entries are all within the
// window, the oldest is replaced: that pair's next reload counts again. So a
// full table under-deduplicates, never refuses a first view (except for a
// 1 in 2^32 fingerprint collision within one bucket).
//
// Lock-free: entries are 64-bit atomics; a lookup reads one 32-byte bucket
// (half a cache line), an admitted view writes one entry with a
// compare-exchange. Two threads racing on the very same pair may both count.
//
// Thread-safety: admit() from any thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace pvc {

class dedupe_table {
 public:
  static constexpr unsigned default_buckets_log2 = 19;

  dedupe_table(std::chrono::seconds window, unsigned buckets_log2 = default_buckets_log2);

  // True when the view counts (first within the window), and remembers it;
  // false for a repeat. `now_seconds`: a steady clock, whole seconds.
  bool admit(std::uint64_t key, std::int64_t now_seconds) noexcept;

  std::size_t memory_bytes() const noexcept { return entries_ * sizeof(std::uint64_t); }

 private:
  static constexpr std::size_t ways = 4;
  struct alignas(32) bucket {
    std::atomic<std::uint64_t> entry[ways];
  };

  std::uint32_t window_;
  std::size_t entries_;
  std::size_t mask_;
  std::atomic<std::int64_t> origin_{INT64_MIN};  // times are relative to the first call
  std::unique_ptr<bucket[]> buckets_;
};

}  // namespace pvc
