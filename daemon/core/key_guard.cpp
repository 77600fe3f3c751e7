#include "core/key_guard.hpp"

#include <algorithm>

namespace pvc {
namespace {

// 0 marks an empty slot, so fingerprints are never 0.
std::uint64_t nonzero(std::uint64_t fp) {
  return fp ? fp : 1;
}

}  // namespace

key_guard::key_guard(std::size_t max_tracked_keys, std::size_t max_new_keys_per_second,
                     clock_fn now)
    : max_keys_(max_tracked_keys),
      rate_(static_cast<double>(max_new_keys_per_second)),
      now_(std::move(now)),
      tokens_(static_cast<double>(max_new_keys_per_second)),
      refilled_(now_()) {}

bool key_guard::contains(const stripe& s, std::uint64_t fp) {
  const std::size_t mask = s.slots.size() - 1;
  for (std::size_t i = (fp >> 6) & mask;; i = (i + 1) & mask) {
    if (s.slots[i] == fp) return true;
    if (s.slots[i] == 0) return false;
  }
}

bool key_guard::insert(stripe& s, std::uint64_t fp) {
  if ((s.size + 1) * 2 > s.slots.size()) {
    // Keep the load at or below 1/2: short probes, and 16 bytes per key at worst.
    std::vector<std::uint64_t> bigger(s.slots.size() * 2);
    const std::size_t mask = bigger.size() - 1;
    for (std::uint64_t v : s.slots) {
      if (v == 0) continue;
      std::size_t i = (v >> 6) & mask;
      while (bigger[i] != 0)
        i = (i + 1) & mask;
      bigger[i] = v;
    }
    s.slots.swap(bigger);
  }
  const std::size_t mask = s.slots.size() - 1;
  std::size_t i = (fp >> 6) & mask;
  for (; s.slots[i] != 0; i = (i + 1) & mask) {
    if (s.slots[i] == fp) return false;
  }
  s.slots[i] = fp;
  ++s.size;
  return true;
}

void key_guard::preload(std::uint64_t fingerprint) {
  const std::uint64_t fp = nonzero(fingerprint);
  stripe& s = stripes_[fp % stripe_count];
  std::lock_guard lock(s.mutex);
  if (insert(s, fp)) known_.fetch_add(1, std::memory_order_relaxed);
}

bool key_guard::take_budget() {
  std::lock_guard lock(budget_mutex_);
  const auto now = now_();
  const double elapsed = std::chrono::duration<double>(now - refilled_).count();
  refilled_ = now;
  tokens_ = std::min(rate_, tokens_ + elapsed * rate_);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

bool key_guard::admit(std::uint64_t fingerprint) {
  const std::uint64_t fp = nonzero(fingerprint);
  stripe& s = stripes_[fp % stripe_count];
  {
    std::lock_guard lock(s.mutex);
    if (contains(s, fp)) return true;
  }
  if (known_.load(std::memory_order_relaxed) >= max_keys_ || !take_budget()) return false;
  std::lock_guard lock(s.mutex);
  if (insert(s, fp)) known_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

std::size_t key_guard::memory_bytes() const {
  std::size_t bytes = 0;
  for (const stripe& s : stripes_) {
    std::lock_guard lock(const_cast<std::mutex&>(s.mutex));
    bytes += s.slots.capacity() * sizeof(std::uint64_t);
  }
  return bytes;
}

}  // namespace pvc
