#include "core/visitors.hpp"

#include <algorithm>
#include <cmath>

#include "core/hash.hpp"
#include "core/store_keys.hpp"

namespace pvc {
namespace {

std::size_t slot_of(std::int32_t period) noexcept {
  return static_cast<std::size_t>(static_cast<std::uint32_t>(period) & 1u);
}

std::uint64_t rounded(double estimate) {
  return estimate <= 0 ? 0 : static_cast<std::uint64_t>(std::llround(estimate));
}

std::string period_key(bool is_day, std::int32_t period) {
  return is_day ? day_key(period) : month_number_key(period);
}

}  // namespace

// Online buckets are a tenth of the window, so "online" spans the window
// plus at most a tenth.
visitor_counter::visitor_counter(std::size_t threads, std::chrono::seconds online_window,
                                 salt_fn make_salt)
    : bucket_seconds_(std::max<std::int64_t>(1, (online_window.count() + 9) / 10)),
      make_salt_(make_salt) {
  for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i)
    caches_.push_back(std::make_unique<shard_cache>());
}

visitor_counter::~visitor_counter() = default;

bool visitor_counter::read_salt(const salt_slot& slot, std::int32_t period, salt& out) noexcept {
  if (slot.period.load(std::memory_order_acquire) != period) return false;
  out.k0 = slot.k0.load(std::memory_order_relaxed);
  out.k1 = slot.k1.load(std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_acquire);
  return slot.period.load(std::memory_order_relaxed) == period;
}

void visitor_counter::write_salt(salt_slot& slot, std::int32_t period, const salt& value) noexcept {
  slot.period.store(no_period, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  slot.k0.store(value.k0, std::memory_order_relaxed);
  slot.k1.store(value.k1, std::memory_order_relaxed);
  slot.period.store(period, std::memory_order_release);
}

visitor_ids visitor_counter::ids(day_number day, std::string_view address,
                                 std::string_view user_agent,
                                 std::string_view site) const noexcept {
  visitor_ids out;
  const month_number month = month_of(day);
  salt month_salt, day_salt;
  if (!read_salt(month_salts_[slot_of(month)], month, month_salt) ||
      !read_salt(day_salts_[slot_of(day)], day, day_salt)) {
    return out;
  }
  out.month = month_visitor_id(month_salt, address, user_agent, site);
  out.day = day_visitor_id(day_salt, out.month);
  out.valid = true;
  return out;
}

visitor_counter::site_state* visitor_counter::create_locked(std::string_view site) {
  sites_.push_back(std::make_unique<site_state>(std::string(site)));
  site_state* s = sites_.back().get();
  by_name_.emplace(s->name, s);
  assign_periods(*s, current_day_.load(std::memory_order_relaxed),
                 current_month_.load(std::memory_order_relaxed));
  return s;
}

// Gives the current and the next period a slot each, where missing.
void visitor_counter::assign_periods(site_state& s, std::int32_t day, std::int32_t month) {
  auto assign = [](std::array<period_sketch, 2>& slots, std::int32_t current) {
    if (current == no_period) return;
    for (std::int32_t p : {current, current + 1}) {
      period_sketch& slot = slots[slot_of(p)];
      const std::int32_t held = slot.period.load(std::memory_order_relaxed);
      // Only a free slot is reused: a finished period keeps its slot until
      // its count is stored (collect/written).
      if (held != no_period) continue;
      slot.period.store(no_period, std::memory_order_relaxed);
      slot.sketch.clear();
      slot.persisted = slot.changes.load(std::memory_order_relaxed);
      slot.period.store(p, std::memory_order_release);
    }
  };
  assign(s.day, day);
  assign(s.month, month);
}

visitor_counter::site_state* visitor_counter::find(std::size_t shard, std::string_view site,
                                                   bool create) {
  auto& cache = caches_[shard % caches_.size()]->sites;
  if (auto it = cache.find(site); it != cache.end()) return it->second;
  site_state* s = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (auto it = by_name_.find(site); it != by_name_.end()) {
      s = it->second;
    } else if (create) {
      s = create_locked(site);
    }
  }
  if (s) cache.emplace(std::string(site), s);
  return s;
}

std::vector<visitor_counter::site_state*> visitor_counter::all_sites() const {
  std::lock_guard lock(mutex_);
  std::vector<site_state*> out;
  out.reserve(sites_.size());
  for (const auto& s : sites_)
    out.push_back(s.get());
  return out;
}

void visitor_counter::record(std::size_t shard, std::string_view site, day_number day,
                             const visitor_ids& ids, std::int64_t now_seconds) {
  if (!ids.valid) return;
  site_state* s = find(shard, site, true);
  auto add = [](period_sketch& slot, std::int32_t period, std::uint64_t id) {
    // A slot not (yet) holding this period: only after a clock jump, until the next flush.
    if (slot.period.load(std::memory_order_acquire) != period) return;
    if (slot.sketch.add(id)) slot.changes.fetch_add(1, std::memory_order_release);
  };
  add(s->day[slot_of(day)], day, ids.day);
  const month_number month = month_of(day);
  add(s->month[slot_of(month)], month, ids.month);
  add_online(*s, ids.month, now_seconds);
}

void visitor_counter::add_online(site_state& s, std::uint64_t id, std::int64_t now_seconds) {
  const std::int64_t epoch = now_seconds / bucket_seconds_;
  online_bucket& b = s.online[static_cast<std::size_t>(epoch) % online_buckets];
  std::int64_t held = b.epoch.load(std::memory_order_acquire);
  if (held != epoch) {
    // The first view of a new tenth of the window recycles the bucket of
    // eleven tenths ago. Whoever wins the exchange clears it; a view that
    // arrives during those few hundred nanoseconds is not counted online.
    if (held == clearing || held > epoch) return;
    if (!b.epoch.compare_exchange_strong(held, clearing, std::memory_order_acq_rel)) {
      if (held != epoch) return;
    } else {
      b.sketch.clear();
      b.epoch.store(epoch, std::memory_order_release);
    }
  }
  b.sketch.add(id);
}

std::uint64_t visitor_counter::online_estimate(const site_state& s,
                                               std::int64_t now_seconds) const {
  const std::int64_t epoch = now_seconds / bucket_seconds_;
  hll_sketch merged(online_precision);
  hll_sketch one(online_precision);
  for (const online_bucket& b : s.online) {
    const std::int64_t held = b.epoch.load(std::memory_order_acquire);
    if (held == clearing || held > epoch ||
        held <= epoch - static_cast<std::int64_t>(online_buckets)) {
      continue;
    }
    one.clear();
    b.sketch.merge_into(one);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (b.epoch.load(std::memory_order_relaxed) != held) continue;  // recycled meanwhile
    merged.merge(one);
  }
  return merged.count();
}

visitor_counts visitor_counter::counts(std::size_t shard, std::string_view site, day_number today,
                                       std::int64_t now_seconds) {
  site_state* s = find(shard, site, false);
  if (!s) return {};
  std::lock_guard lock(s->cache_mutex);
  if (s->cached_day == today && s->cached_at == now_seconds) return s->cached;
  visitor_counts c;
  auto estimate = [](const std::array<period_sketch, 2>& slots, std::int32_t period,
                     std::uint64_t& out) {
    const period_sketch& slot = slots[slot_of(period)];
    if (slot.period.load(std::memory_order_acquire) != period) return false;
    out = rounded(slot.sketch.estimate());
    return true;
  };
  estimate(s->day, today, c.today);
  if (!estimate(s->day, today - 1, c.yesterday) &&
      s->yesterday_day.load(std::memory_order_acquire) == today - 1) {
    c.yesterday = s->yesterday_count.load(std::memory_order_relaxed);
  }
  estimate(s->month, month_of(today), c.this_month);
  // Two estimates of nested sets: keep them ordered as the sets are.
  c.this_month = std::max(c.this_month, c.today);
  c.online = online_estimate(*s, now_seconds);
  s->cached = c;
  s->cached_day = today;
  s->cached_at = now_seconds;
  return c;
}

key_writes visitor_counter::restore(
    day_number today, const std::vector<std::pair<std::string, std::string>>& stored) {
  key_writes tidy;
  const month_number month = month_of(today);
  current_day_.store(today, std::memory_order_relaxed);
  current_month_.store(month, std::memory_order_relaxed);
  auto wanted = [](std::int32_t p, std::int32_t current) {
    return p == current || p == current + 1;
  };
  std::lock_guard lock(mutex_);
  auto site_named = [&](std::string_view name) {
    auto it = by_name_.find(name);
    return it != by_name_.end() ? it->second : create_locked(name);
  };
  for (const auto& [key, value] : stored) {
    const std::string_view k = key;
    if (k.size() < 2) continue;
    const bool is_day = k[1] == 'd';
    const std::size_t period_len = is_day ? 8 : 6;
    if (k[0] == 'K' && (k[1] == 'd' || k[1] == 'm')) {
      const auto p = is_day ? parse_day_key(k.substr(2)) : parse_month_key(k.substr(2));
      const auto s = decode_salt(value);
      salt_book& book = is_day ? day_book_ : month_book_;
      if (p && s && wanted(*p, is_day ? today : month)) {
        book.known[*p] = *s;
        book.persisted.insert(*p);
      } else {
        tidy.erase.push_back(key);  // its period is over (or it is not a salt)
      }
      continue;
    }
    if (k[0] == 'U' && is_day && k.size() > 10) {
      std::uint64_t n = 0;
      if (parse_day_key(k.substr(2, 8)) == today - 1 && keys::decode_count(value, n)) {
        site_state* s = site_named(k.substr(10));
        s->yesterday_day.store(today - 1, std::memory_order_relaxed);
        s->yesterday_count.store(n, std::memory_order_relaxed);
      }
      continue;
    }
    if (k[0] != 'V' || (k[1] != 'd' && k[1] != 'm') || k.size() <= 2 + period_len) continue;
    const auto p =
        is_day ? parse_day_key(k.substr(2, period_len)) : parse_month_key(k.substr(2, period_len));
    const auto sketch = hll_sketch::parse(value);
    const std::string_view name = k.substr(2 + period_len);
    if (!p || !sketch || sketch->precision() != period_precision) {
      tidy.erase.push_back(key);  // unreadable: a sketch is not worth a failed start
      continue;
    }
    const std::int32_t current = is_day ? today : month;
    if (*p < current) {
      // Finished while pvcd was down: keep its count, drop the sketch.
      const std::uint64_t n = sketch->count();
      tidy.put.emplace_back(is_day ? keys::day_visitors(day_key(*p), name)
                                   : keys::month_visitors(month_number_key(*p), name),
                            keys::encode_count(n));
      tidy.erase.push_back(key);
      if (is_day && *p == today - 1) {
        site_state* s = site_named(name);
        s->yesterday_day.store(*p, std::memory_order_relaxed);
        s->yesterday_count.store(n, std::memory_order_relaxed);
      }
      continue;
    }
    if (!wanted(*p, current)) {
      tidy.erase.push_back(key);  // from a clock that ran ahead
      continue;
    }
    site_state* s = site_named(name);
    period_sketch& slot = (is_day ? s->day : s->month)[slot_of(*p)];
    slot.period.store(*p, std::memory_order_relaxed);
    slot.sketch.clear();
    slot.sketch.merge_from(*sketch);
    slot.persisted = slot.changes.load(std::memory_order_relaxed);
  }
  for (const auto& s : sites_)
    assign_periods(*s, today, month);
  for (std::int32_t p : {today, today + 1}) {
    if (!day_book_.known.count(p)) day_book_.known[p] = make_salt_();
  }
  for (std::int32_t p : {month, month + 1}) {
    if (!month_book_.known.count(p)) month_book_.known[p] = make_salt_();
  }
  agree_salts(day_book_, today, true, INT64_MIN);
  agree_salts(month_book_, month, false, INT64_MIN);
  install_salts(day_book_, day_salts_, today);
  install_salts(month_book_, month_salts_, month);
  return tidy;
}

void visitor_counter::install_salts(salt_book& book, std::array<salt_slot, 2>& slots,
                                    std::int32_t current) {
  for (std::int32_t p : {current, current + 1}) {
    auto it = book.known.find(p);
    if (it == book.known.end()) continue;
    if (agree_ && !book.agreed.count(p)) continue;  // not the cluster's (yet)
    salt_slot& slot = slots[slot_of(p)];
    if (slot.period.load(std::memory_order_relaxed) != p) write_salt(slot, p, it->second);
  }
}

void visitor_counter::agree_salts(salt_book& book, std::int32_t current, bool is_day,
                                  std::int64_t now_seconds) {
  if (!agree_) return;
  if (now_seconds != INT64_MIN && agree_failed_at_ != INT64_MIN &&
      now_seconds - agree_failed_at_ < agree_retry_seconds_) {
    return;
  }
  for (std::int32_t p : {current, current + 1}) {
    if (book.agreed.count(p)) continue;
    auto it = book.known.find(p);
    if (it == book.known.end()) it = book.known.emplace(p, make_salt_()).first;
    const std::optional<salt> theirs = agree_(is_day, p, it->second);
    if (!theirs) {
      agree_failed_at_ = now_seconds;
      return;
    }
    if (!(*theirs == it->second)) book.persisted.erase(p);  // another node's: store it instead
    it->second = *theirs;
    book.agreed.insert(p);
  }
}

void visitor_counter::plan_salts(salt_book& book, std::int32_t current, bool is_day,
                                 key_writes& out) {
  for (std::int32_t p : {current, current + 1}) {
    auto it = book.known.find(p);
    if (it == book.known.end()) it = book.known.emplace(p, make_salt_()).first;
    if (!book.persisted.count(p)) {
      out.put.emplace_back(
          is_day ? keys::day_salt(day_key(p)) : keys::month_salt(month_number_key(p)),
          encode_salt(it->second));
    }
  }
  for (const auto& [p, s] : book.known) {
    if (p == current || p == current + 1) continue;
    out.erase.push_back(is_day ? keys::day_salt(day_key(p))
                               : keys::month_salt(month_number_key(p)));
  }
}

void visitor_counter::collect_slot(site_state& s, period_sketch& slot, std::int32_t current,
                                   bool is_day, bool everything, key_writes& out) {
  const std::int32_t p = slot.period.load(std::memory_order_acquire);
  if (p == no_period) return;
  const std::string period = period_key(is_day, p);
  if (p < current) {
    const std::uint64_t n = rounded(slot.sketch.estimate());
    out.put.emplace_back(
        is_day ? keys::day_visitors(period, s.name) : keys::month_visitors(period, s.name),
        keys::encode_count(n));
    out.erase.push_back(is_day ? keys::day_sketch(period, s.name)
                               : keys::month_sketch(period, s.name));
    in_flight_.push_back({&s, &slot, is_day, true, p, n});
    return;
  }
  // Read the change count before copying: a change after this read shows
  // in the next flush even if the copy already has it.
  const std::uint64_t changes = slot.changes.load(std::memory_order_acquire);
  if (changes == slot.persisted) return;
  if (!everything && slot.saved_at != INT64_MIN &&
      collected_at_ - slot.saved_at < save_interval_seconds) {
    return;
  }
  hll_sketch copy(period_precision);
  slot.sketch.merge_into(copy);
  out.put.emplace_back(
      is_day ? keys::day_sketch(period, s.name) : keys::month_sketch(period, s.name),
      copy.serialize());
  in_flight_.push_back({&s, &slot, is_day, false, p, changes});
}

void visitor_counter::collect(day_number today, key_writes& out, std::int64_t now_seconds,
                              bool everything) {
  in_flight_.clear();
  collected_day_ = today;
  collected_at_ = now_seconds;
  const month_number month = month_of(today);
  agree_salts(day_book_, today, true, now_seconds);
  agree_salts(month_book_, month, false, now_seconds);
  plan_salts(day_book_, today, true, out);
  plan_salts(month_book_, month, false, out);
  for (site_state* s : all_sites()) {
    for (period_sketch& slot : s->day)
      collect_slot(*s, slot, today, true, everything, out);
    for (period_sketch& slot : s->month)
      collect_slot(*s, slot, month, false, everything, out);
  }
}

void visitor_counter::written(bool ok) {
  if (!ok || collected_day_ == no_period) {
    in_flight_.clear();  // nothing is marked written: the next collect finds it all again
    return;
  }
  const day_number today = collected_day_;
  const month_number month = month_of(today);
  for (const pending& w : in_flight_) {
    if (!w.finished) {
      w.slot->persisted = w.value;
      w.slot->saved_at = collected_at_;
      continue;
    }
    if (w.is_day && w.period > w.site->yesterday_day.load(std::memory_order_relaxed)) {
      w.site->yesterday_count.store(w.value, std::memory_order_relaxed);
      w.site->yesterday_day.store(w.period, std::memory_order_release);
    }
    // The period is over and its count is stored: free the slot.
    w.slot->period.store(no_period, std::memory_order_release);
  }
  in_flight_.clear();
  // Salts: the current and next periods' are stored now; others are gone.
  for (auto* book : {&day_book_, &month_book_}) {
    const std::int32_t current = book == &day_book_ ? today : month;
    for (auto it = book->known.begin(); it != book->known.end();) {
      if (it->first == current || it->first == current + 1) {
        book->persisted.insert(it->first);
        ++it;
      } else {
        it->second = salt{};  // forget the secret, not just the map entry
        book->persisted.erase(it->first);
        book->agreed.erase(it->first);
        it = book->known.erase(it);
      }
    }
  }
  install_salts(day_book_, day_salts_, today);
  install_salts(month_book_, month_salts_, month);
  current_day_.store(today, std::memory_order_relaxed);
  current_month_.store(month, std::memory_order_relaxed);
  for (site_state* s : all_sites())
    assign_periods(*s, today, month);
}

std::size_t visitor_counter::site_count() const {
  std::lock_guard lock(mutex_);
  return sites_.size();
}

}  // namespace pvc
