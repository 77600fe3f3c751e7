#pragma once
// Bounds the number of (site, article) keys pvcd tracks, so a flood of
// random article ids cannot exhaust memory, while articles pvcd already
// knows keep counting exactly.
//
//   known keys:  every key with stored counts (loaded at start-up) or
//                admitted since; always admitted.
//   new keys:    admitted while the known set is below max_tracked_keys and
//                the new-key budget (a token bucket of
//                max_new_keys_per_second, one second deep) has a token;
//                otherwise refused with reason `cardinality`.
//
// Memory: the known set keeps a 64-bit fingerprint per key in open-addressed
// tables (about 16 bytes per key at the worst load), so RSS is bounded by
// max_tracked_keys, plus the per-interval delta tables, whose size is bounded
// by the keys touched in one flush interval.
//
// Cost: admit() runs only when a key enters a thread's delta table (once per
// key per flush interval per thread), never per hit of a key already there.
// Thread-safety: all members thread-safe (striped mutexes; an atomic budget).
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace pvc {

class key_guard {
 public:
  using clock_fn = std::function<std::chrono::steady_clock::time_point()>;

  key_guard(
      std::size_t max_tracked_keys, std::size_t max_new_keys_per_second,
      clock_fn now = [] { return std::chrono::steady_clock::now(); });

  // Marks a key as known (start-up, from the store); ignores the caps.
  void preload(std::uint64_t fingerprint);

  // True when the key is known, or new and within both caps (it is then known).
  bool admit(std::uint64_t fingerprint);

  std::size_t known() const noexcept { return known_.load(std::memory_order_relaxed); }
  std::size_t max_tracked_keys() const noexcept { return max_keys_; }
  std::size_t memory_bytes() const;

 private:
  // One stripe: an open-addressed set of fingerprints (0 = empty slot).
  struct stripe {
    std::mutex mutex;
    std::vector<std::uint64_t> slots = std::vector<std::uint64_t>(64);
    std::size_t size = 0;
  };
  static constexpr std::size_t stripe_count = 64;

  // Inserts under the stripe's lock; returns false if it was already there.
  static bool insert(stripe& s, std::uint64_t fp);
  static bool contains(const stripe& s, std::uint64_t fp);
  bool take_budget();

  std::array<stripe, stripe_count> stripes_;
  std::atomic<std::size_t> known_{0};
  std::size_t max_keys_;
  double rate_;
  clock_fn now_;
  std::mutex budget_mutex_;
  double tokens_;
  std::chrono::steady_clock::time_point refilled_;
};

}  // namespace pvc
