#include "core/counter_table.hpp"

#include <cassert>

#include "core/hash.hpp"
#include "core/ids.hpp"

namespace pvc {

// Every id a hit can carry fits a key record's length field.
static_assert(max_id_bytes <= delta_table::max_article_bytes);

counter_shard::counter_shard(counter_table& table, std::size_t index)
    : table_(table), index_(index), active_(std::make_unique<delta_table>()) {
  active_->reset(table.current_day());
}

std::size_t counter_shard::record_batch(std::span<const hit> hits, transport t) {
  std::size_t counted = 0;
  while (hits.size() > max_batch) {
    counted += record_up_to_max_batch(hits.first(max_batch), t);
    hits = hits.subspan(max_batch);
  }
  return counted + record_up_to_max_batch(hits, t);
}

std::size_t counter_shard::record_up_to_max_batch(std::span<const hit> hits, transport t) {
  assert(hits.size() <= max_batch);
  if (hits.empty()) return 0;
  const std::int32_t today = table_.current_day();
  if (today != active_->day()) [[unlikely]]
    start_day(today);
  delta_table& table = *active_;
  std::array<std::uint64_t, max_batch> hashes;
  std::array<std::uint32_t, max_batch> site_numbers;
  // A datagram's lines nearly always name one site: its hash and its number
  // in the table are reused while the next hit's site is the same (a
  // compare costs less).
  std::string_view site = hits[0].site;
  delta_table::site_entry site_entry = table.find_site_entry(site);
  for (std::size_t i = 0; i < hits.size(); ++i) {
    if (!same_id(hits[i].site, site)) [[unlikely]] {
      site = hits[i].site;
      site_entry = table.find_site_entry(site);
    }
    hashes[i] = delta_table::key_hash_in_site(site_entry.hash, hits[i].article);
    site_numbers[i] = site_entry.number;
    table.prefetch_slot(hashes[i]);
  }
  if (hits.size() > 1) {
    for (std::size_t i = 0; i < hits.size(); ++i)
      table.prefetch_key(hashes[i], hits[i].article.size());
  }
  std::size_t counted = 0;
  std::size_t inserted = 0;
  std::uint64_t views = 0;
  for (std::size_t i = 0; i < hits.size(); ++i) {
    const hit& h = hits[i];
    const auto result = table.add_hashed(
        hashes[i], h.site, site_numbers[i], h.article, h.count,
        [this](std::string_view site, std::uint64_t key_hash) { return admit(site, key_hash); });
    if (result == delta_table::add_result::refused) [[unlikely]] {
      reject(t, refusal_);
      continue;
    }
    if (result == delta_table::add_result::no_room) [[unlikely]] {
      reject(t, reject_reason::site_limit);
      continue;
    }
    if (result == delta_table::add_result::full) [[unlikely]] {
      reject(t, reject_reason::cardinality);
      continue;
    }
    inserted += result == delta_table::add_result::inserted;
    ++counted;
    views += h.count;
  }
  if (inserted != 0) tracked_keys_.add(inserted);
  const auto ti = static_cast<std::size_t>(t);
  stats_.hits_accepted[ti].add(counted);
  stats_.views_accepted[ti].add(views);
  return counted;
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
