#include "core/visitor_batch.hpp"

#include <algorithm>

namespace pvc {

visitor_batch::visitor_batch(std::size_t shards) {
  for (std::size_t i = 0; i < std::max<std::size_t>(shards, 1); ++i)
    shards_.push_back(std::make_unique<shard_visits>());
}

void visitor_batch::add(std::size_t shard, std::string_view site, day_number day,
                        const visitor_ids& ids, std::int64_t unix_minute) {
  if (!ids.valid) return;  // no agreed salt yet
  shard_visits& s = *shards_[shard % shards_.size()];
  std::lock_guard lock(s.mutex);
  auto it = s.visits.find(site);
  if (it == s.visits.end()) it = s.visits.emplace(std::string(site), std::vector<visit>{}).first;
  it->second.push_back({day, ids.month, ids.day, unix_minute});
}

void visitor_batch::take(visits_by_site& out) {
  out = std::move(returned_);
  returned_.clear();
  for (auto& s : shards_) {
    visits_by_site mine;
    {
      std::lock_guard lock(s->mutex);
      mine.swap(s->visits);
    }
    for (auto& [site, v] : mine) {
      auto& into = out[site];
      into.insert(into.end(), v.begin(), v.end());
    }
  }
  for (auto& [site, v] : out) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  }
}

void visitor_batch::put_back(visits_by_site&& v) {
  for (auto& [site, list] : v) {
    auto& into = returned_[site];
    into.insert(into.end(), list.begin(), list.end());
  }
}

}  // namespace pvc
