#include "core/rate_limiter.hpp"

#include <algorithm>
#include <vector>

#include "core/hash.hpp"

namespace pvc {

void rate_limiter::make_room(stripe& s, time_point now) {
  // A bucket that has refilled completely holds no information: drop it.
  const auto full_after = std::chrono::duration<double>(burst_ / rate_);
  std::erase_if(s.buckets, [&](const auto& kv) { return now - kv.second.last >= full_after; });
  if (s.buckets.size() < max_clients_per_stripe) return;
  // Still full of active clients: forget the least recently seen half in one
  // pass, so the cost is amortised over the next inserts.
  std::vector<time_point> seen;
  seen.reserve(s.buckets.size());
  for (const auto& kv : s.buckets)
    seen.push_back(kv.second.last);
  auto middle = seen.begin() + static_cast<std::ptrdiff_t>(seen.size() / 2);
  std::nth_element(seen.begin(), middle, seen.end());
  const time_point cutoff = *middle;
  std::erase_if(s.buckets, [&](const auto& kv) { return kv.second.last < cutoff; });
  if (s.buckets.size() >= max_clients_per_stripe) s.buckets.erase(s.buckets.begin());
}

bool rate_limiter::allow(std::string_view client, time_point now) {
  const std::uint64_t h = hash_bytes(client, process_hash_seed());
  stripe& s = stripes_[h % stripe_count];
  std::lock_guard lock(s.mutex);
  auto it = s.buckets.find(h);
  if (it == s.buckets.end()) {
    if (s.buckets.size() >= max_clients_per_stripe) make_room(s, now);
    it = s.buckets.emplace(h, bucket{burst_, now}).first;
  }
  bucket& b = it->second;
  b.tokens =
      std::min(burst_, b.tokens + std::chrono::duration<double>(now - b.last).count() * rate_);
  b.last = now;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

rate_limiter::occupancy rate_limiter::tracked() {
  occupancy out;
  for (stripe& s : stripes_) {
    std::lock_guard lock(s.mutex);
    out.clients += s.buckets.size();
    out.fullest_stripe = std::max(out.fullest_stripe, s.buckets.size());
  }
  return out;
}

}  // namespace pvc
