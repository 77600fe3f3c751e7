#include "core/dedupe.hpp"

#include <algorithm>

namespace pvc {

dedupe_table::dedupe_table(std::chrono::seconds window, unsigned buckets_log2)
    : window_(static_cast<std::uint32_t>(std::max<std::int64_t>(1, window.count()))),
      entries_((std::size_t{1} << buckets_log2) * ways),
      mask_((std::size_t{1} << buckets_log2) - 1),
      buckets_(std::make_unique<bucket[]>(std::size_t{1} << buckets_log2)) {}

bool dedupe_table::admit(std::uint64_t key, std::int64_t now_seconds) noexcept {
  // Times are kept relative to the first call, in 32 bits (136 years).
  std::int64_t origin = origin_.load(std::memory_order_relaxed);
  if (origin == INT64_MIN) {
    origin_.compare_exchange_strong(origin, now_seconds - 1, std::memory_order_relaxed);
    origin = origin_.load(std::memory_order_relaxed);
  }
  const auto now = static_cast<std::uint32_t>(std::max<std::int64_t>(1, now_seconds - origin));
  const auto fingerprint = static_cast<std::uint32_t>(key >> 32);
  const std::uint64_t fresh = (std::uint64_t{fingerprint} << 32) | now;
  bucket& b = buckets_[key & mask_];

  std::size_t victim = 0;
  std::uint32_t victim_age = 0;
  std::uint64_t victim_value = 0;
  for (std::size_t i = 0; i < ways; ++i) {
    std::uint64_t e = b.entry[i].load(std::memory_order_relaxed);
    const auto t = static_cast<std::uint32_t>(e);
    const std::uint32_t age = t == 0 ? UINT32_MAX : now - t;  // empty: the best victim
    if (t != 0 && static_cast<std::uint32_t>(e >> 32) == fingerprint) {
      if (age < window_) return false;  // a repeat within the window
      b.entry[i].compare_exchange_strong(e, fresh, std::memory_order_relaxed);
      return true;
    }
    if (i == 0 || age > victim_age) {
      victim = i;
      victim_age = age;
      victim_value = e;
    }
  }
  // A lost race here only means another pair took the entry: this view
  // still counts, its repeat may count again.
  b.entry[victim].compare_exchange_strong(victim_value, fresh, std::memory_order_relaxed);
  return true;
}

}  // namespace pvc
