#include "core/title_table.hpp"

#include <mutex>

#include "core/hash.hpp"
#include "core/store_keys.hpp"

namespace pvc {
namespace {

std::uint64_t fingerprint(std::string_view site, std::string_view article) {
  return hash_key(site, article, process_hash_seed());
}

std::uint64_t title_hash(std::string_view title) {
  return hash_bytes(title, 0x7469746c65ULL);
}

}  // namespace

title_table::title_table(title_limits limits) : limits_(limits) {}

void title_table::supersede_locked(std::uint64_t fp, std::string_view site,
                                   std::string_view article, std::string_view title,
                                   std::int64_t changed_unix) {
  // A beacon title not yet collected is simply dropped.
  pending_.erase(fp);
  // One collected may be in a flush's batch right now, and land after the
  // change that was just written: the change is queued for the next flush
  // too, so it is written again after that batch, whatever the order.
  if (in_flight_.erase(fp) != 0) {
    pending_[fp] = {std::string(site), std::string(article), std::string(title), changed_unix,
                    title.empty()};
  }
}

title_verdict title_table::room_locked(std::uint64_t fp, std::string_view site) const {
  if (entries_.contains(fp)) return title_verdict::taken;
  if (entries_.size() >= limits_.max_titles) return title_verdict::all_full;
  auto it = per_site_.find(std::string(site));
  if (it != per_site_.end() && it->second >= limits_.max_per_site) return title_verdict::site_full;
  return title_verdict::taken;
}

title_verdict title_table::add_locked(std::uint64_t fp, std::string_view site) {
  const title_verdict room = room_locked(fp, site);
  if (room != title_verdict::taken) return room;
  if (entries_.try_emplace(fp).second) ++per_site_[std::string(site)];
  return title_verdict::taken;
}

bool title_table::preload(std::string_view site, std::string_view article, std::string_view title,
                          std::int64_t changed_unix) {
  const std::uint64_t fp = fingerprint(site, article);
  std::unique_lock lock(mutex_);
  if (add_locked(fp, site) != title_verdict::taken) return false;
  entries_[fp] = {title_hash(title), changed_unix};
  // An import replaced the title: a beacon title waiting for its flush is older.
  supersede_locked(fp, site, article, title, changed_unix);
  return true;
}

title_verdict title_table::offer(std::string_view site, std::string_view article,
                                 std::string_view title, std::int64_t now_unix) {
  const std::uint64_t fp = fingerprint(site, article);
  const std::uint64_t h = title_hash(title);
  auto refuse = [this](title_verdict v) {
    refused_[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed);
    return v;
  };
  {
    std::shared_lock lock(mutex_);
    auto it = entries_.find(fp);
    if (it != entries_.end()) {
      if (it->second.title_hash == h) return title_verdict::unchanged;
      if (now_unix - it->second.changed_unix < limits_.change_interval_seconds) {
        return refuse(title_verdict::too_soon);
      }
    }
  }
  std::unique_lock lock(mutex_);
  // Checked again: another thread may have changed it between the locks.
  auto it = entries_.find(fp);
  if (it == entries_.end()) {
    if (const title_verdict v = add_locked(fp, site); v != title_verdict::taken) return refuse(v);
    it = entries_.find(fp);
  } else if (it->second.title_hash == h) {
    return title_verdict::unchanged;
  } else if (now_unix - it->second.changed_unix < limits_.change_interval_seconds) {
    return refuse(title_verdict::too_soon);
  }
  it->second = {h, now_unix};
  pending_[fp] = {std::string(site), std::string(article), std::string(title), now_unix};
  return title_verdict::taken;
}

title_verdict title_table::room_for(std::string_view site, std::string_view article) const {
  const std::uint64_t fp = fingerprint(site, article);
  std::shared_lock lock(mutex_);
  const title_verdict v = room_locked(fp, site);
  if (v != title_verdict::taken) {
    refused_[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed);
  }
  return v;
}

void title_table::noted_set(std::string_view site, std::string_view article, std::string_view title,
                            std::int64_t now_unix) {
  const std::uint64_t fp = fingerprint(site, article);
  std::unique_lock lock(mutex_);
  // The admin route checked room_for; a race past a cap by one admin
  // change is let through rather than leave the store and the table apart.
  if (entries_.try_emplace(fp).second) ++per_site_[std::string(site)];
  entries_[fp] = {title_hash(title), now_unix};
  supersede_locked(fp, site, article, title, now_unix);
  if (changed_) changed_(site, article, title, now_unix);
}

void title_table::noted_clear(std::string_view site, std::string_view article,
                              std::int64_t now_unix) {
  const std::uint64_t fp = fingerprint(site, article);
  std::unique_lock lock(mutex_);
  supersede_locked(fp, site, article, {}, 0);
  if (changed_) changed_(site, article, {}, now_unix);
  if (entries_.erase(fp) == 0) return;
  auto it = per_site_.find(std::string(site));
  if (it != per_site_.end() && --it->second == 0) per_site_.erase(it);
}

void title_table::collect(key_writes& out) {
  std::unique_lock lock(mutex_);
  // A failed write's titles, unless a newer one of the same article waits.
  for (auto& [fp, p] : pending_)
    in_flight_[fp] = std::move(p);
  pending_.clear();
  for (const auto& [fp, p] : in_flight_) {
    if (p.remove) {
      out.erase.push_back(keys::article_title(p.site, p.article));
    } else {
      out.put.emplace_back(keys::article_title(p.site, p.article),
                           keys::encode_title(p.changed_unix, p.title));
    }
  }
}

void title_table::written(bool ok) {
  std::unique_lock lock(mutex_);
  if (ok && changed_) {
    for (const auto& [fp, p] : in_flight_)
      changed_(p.site, p.article, p.remove ? std::string_view() : p.title, p.changed_unix);
  }
  if (ok) in_flight_.clear();
  // else: kept, and written again with the next collect
}

std::size_t title_table::size() const {
  std::shared_lock lock(mutex_);
  return entries_.size();
}

std::size_t title_table::memory_bytes() const {
  std::shared_lock lock(mutex_);
  std::size_t bytes = entries_.size() * bytes_per_title;
  for (const auto& [site, n] : per_site_)
    bytes += sizeof(std::pair<std::string, std::size_t>) + site.size() + 16;
  for (const auto* m : {&pending_, &in_flight_}) {
    for (const auto& [fp, p] : *m)
      bytes += sizeof(p) + 16 + p.site.size() + p.article.size() + p.title.size();
  }
  return bytes;
}

}  // namespace pvc
