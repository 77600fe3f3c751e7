#include "core/counter_table.hpp"

#include "core/hash.hpp"

namespace pvc {

std::size_t counter_shard::string_hash::operator()(std::string_view s) const noexcept {
  return hash_bytes(s, process_hash_seed());
}

counter_shard::counter_shard(counter_table& table, std::size_t index)
    : table_(table), index_(index), active_(std::make_unique<delta_table>()) {
  active_->reset(table.current_day());
}

bool counter_shard::record(const hit& h, transport t) {
  const std::int32_t today = table_.current_day();
  if (today != active_->day()) [[unlikely]]
    start_day(today);
  const auto result =
      active_->add(h.site, h.article, h.count,
                   [this](std::string_view site, std::uint64_t h) { return admit(site, h); });
  if (result != delta_table::add_result::added) [[unlikely]] {
    if (result == delta_table::add_result::refused) {
      reject(t, refusal_);
      return false;
    }
    tracked_keys_.add(1);
  }
  const auto ti = static_cast<std::size_t>(t);
  stats_.hits_accepted[ti].add(1);
  stats_.views_accepted[ti].add(h.count);
  return true;
}

bool counter_shard::admit(std::string_view site, std::uint64_t key_hash) {
  if (admitted_sites_.find(site) == admitted_sites_.end()) {
    if (!table_.sites().admit(site)) {
      refusal_ = reject_reason::site_limit;
      return false;
    }
    admitted_sites_.emplace(site);
  }
  if (key_guard* g = table_.guard(); g && !g->admit(key_hash)) {
    refusal_ = reject_reason::cardinality;
    return false;
  }
  return true;
}

void counter_shard::start_day(std::int32_t day) {
  if (!active_->empty()) {
    sealed_.push_back(std::move(active_));
    active_ = take_spare();
  }
  active_->reset(day);
}

std::unique_ptr<delta_table> counter_shard::take_spare() {
  if (spares_.empty()) return std::make_unique<delta_table>();
  auto t = std::move(spares_.back());
  spares_.pop_back();
  return t;
}

void counter_shard::drain(std::vector<std::unique_ptr<delta_table>>& out) {
  for (auto& t : sealed_)
    out.push_back(std::move(t));
  sealed_.clear();
  const std::int32_t today = table_.current_day();
  if (!active_->empty()) {
    out.push_back(std::move(active_));
    active_ = take_spare();
  }
  active_->reset(today);
  tracked_keys_.set(0);  // every key was handed over
}

void counter_shard::recycle(std::unique_ptr<delta_table> table) {
  // A table grown by a burst of distinct keys (a flood) is dropped rather
  // than kept, so memory returns to normal once the burst is over.
  constexpr std::size_t keep_limit_bytes = 64u << 20;
  if (table->memory_bytes() > keep_limit_bytes) return;
  spares_.push_back(std::move(table));
}

counter_table::counter_table(std::size_t shard_count, site_registry& sites, std::int32_t today)
    : day_(today), sites_(sites) {
  shards_.reserve(shard_count);
  for (std::size_t i = 0; i < shard_count; ++i) {
    shards_.push_back(std::make_unique<counter_shard>(*this, i));
  }
}

}  // namespace pvc
