#include "flush/flusher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/hash.hpp"

namespace pvc {

flusher::flusher(counter_table& table, store& db, run_on_shard_fn run_on_shard, clock_fn now)
    : table_(table),
      db_(db),
      run_on_shard_(std::move(run_on_shard)),
      now_(std::move(now)),
      free_(table.shard_count()) {
  if (!db_.last_flush_seq(last_seq_)) last_seq_ = 0;
}

void flusher::update_day() {
  const day_number today = calendar::day_of(now_());
  const day_number current = table_.current_day();
  if (today != current) {
    // Never move the day backwards (a clock step back): counts already given
    // to a day stay there, and no total decreases.
    if (today > current) {
      table_.set_current_day(today);
      spdlog::info("event=day_rollover day={}", day_key(today));
    }
  }
}

void flusher::drain_all() {
  for (std::size_t i = 0; i < table_.shard_count(); ++i) {
    std::vector<std::unique_ptr<delta_table>> drained;
    auto give_back = std::move(free_[i]);
    free_[i].clear();
    std::chrono::steady_clock::duration stall{};
    run_on_shard_(i, [&, i] {
      // This runs on the I/O thread: it is all the time a flush takes from ingest.
      const auto started = std::chrono::steady_clock::now();
      counter_shard& shard = table_.shard(i);
      for (auto& t : give_back)
        shard.recycle(std::move(t));
      shard.drain(drained);
      stall = std::chrono::steady_clock::now() - started;
    });
    const double stall_s = std::chrono::duration<double>(stall).count();
    if (stall_s > stats_.max_ingest_stall_seconds.load(std::memory_order_relaxed)) {
      stats_.max_ingest_stall_seconds.store(stall_s, std::memory_order_relaxed);
    }
    for (auto& t : drained)
      pending_.push_back({i, std::move(t)});
  }
}

// After a failed write, finds out whether it landed after all.
bool flusher::resolve_previous_attempt(std::string& error) {
  if (!retrying_) return true;
  std::uint64_t stored = 0;
  if (!db_.last_flush_seq(stored)) {
    error = "cannot read the flush sequence number to decide on a retry";
    return false;
  }
  if (stored > last_seq_) {
    // The "failed" write is in the store: drop what it carried.
    spdlog::warn("event=flush_retry_skipped seq={} reason=already_applied", stored);
    for (std::size_t k = 0; k < attempted_; ++k) {
      pending_[k].table->reset(0);
      free_[pending_[k].shard].push_back(std::move(pending_[k].table));
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(attempted_));
    last_seq_ = stored;
    if (outbox_.written) outbox_.written(stored, true);  // its outbox entry landed with it
  }
  retrying_ = false;
  attempted_ = 0;
  return true;
}

void flusher::consolidate_pending(std::size_t first) {
  // pending_[0, first) stays as it is; the rest folds into one table per day.
  std::vector<held_table> merged;
  for (std::size_t k = 0; k < first; ++k)
    merged.push_back(std::move(pending_[k]));
  for (std::size_t k = first; k < pending_.size(); ++k) {
    held_table& h = pending_[k];
    auto same_day =
        std::find_if(merged.begin() + static_cast<std::ptrdiff_t>(first), merged.end(),
                     [&](const held_table& m) { return m.table->day() == h.table->day(); });
    // A table whose keys would not fit the other (millions of sites, or 4 GiB
    // of key records) stays on its own.
    if (same_day == merged.end() || !same_day->table->can_take_all_of(*h.table)) {
      merged.push_back(std::move(h));
      continue;
    }
    delta_table& into = *same_day->table;
    h.table->for_each([&](std::string_view site, std::string_view article, std::uint64_t n) {
      into.add(site, article, n);
    });
    h.table->reset(0);
    free_[h.shard].push_back(std::move(h.table));
  }
  pending_ = std::move(merged);
}

std::string flusher::flush_once() {
  update_day();
  drain_all();
  std::string error;
  // After a failed attempt the store may reopen, which replays RocksDB's log:
  // that comes before asking whether the attempt landed.
  if (retrying_) error = db_.ready_for_write();
  if (!error.empty() || !resolve_previous_attempt(error)) {
    // The failed attempt's tables stay apart; what came since folds by day,
    // so a long outage holds one table per day and shard, not one per round.
    consolidate_pending(attempted_);
    stats_.errors.fetch_add(1, std::memory_order_relaxed);
    return error;
  }
  key_writes extra;
  if (extra_.collect) extra_.collect(extra, table_.current_day());
  if (pending_.empty()) {
    if (extra.empty()) return {};
    // No counts: the extra keys alone (a salt that expired at midnight).
    error = db_.write_keys(extra);
    if (extra_.written) extra_.written(error.empty());
    return error;
  }

  std::vector<const delta_table*> tables;
  std::size_t keys = 0;
  std::uint64_t views = 0;
  std::map<std::string, std::uint64_t, std::less<>> per_site;
  for (const auto& h : pending_) {
    tables.push_back(h.table.get());
    keys += h.table->size();
    views += h.table->total();
    // Most deployments count one site or a few: the last row's site is checked first.
    std::string_view last_site;
    std::uint64_t* last_sum = nullptr;
    h.table->for_each([&](std::string_view site, std::string_view, std::uint64_t n) {
      if (!last_sum || !same_id(site, last_site)) {
        auto it = per_site.find(site);
        if (it == per_site.end()) it = per_site.emplace(std::string(site), 0).first;
        last_site = site;
        last_sum = &it->second;
      }
      *last_sum += n;
    });
  }
  const std::uint64_t seq = last_seq_ + 1;
  const auto started = std::chrono::steady_clock::now();
  if (outbox_.add) error = outbox_.add(tables, seq, extra);
  if (error.empty()) error = db_.apply(tables, seq, &extra);
  if (outbox_.written) outbox_.written(seq, error.empty());
  if (extra_.written) extra_.written(error.empty());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!error.empty()) {
    if (observer_) observer_(seconds, keys, false);
    retrying_ = true;
    stats_.errors.fetch_add(1, std::memory_order_relaxed);
    stats_.failing.store(true, std::memory_order_relaxed);
    // The retry decides by flush_seq whether this attempt landed, so the
    // attempt's tables stay apart from newer ones: fold them together only.
    consolidate_pending(0);
    attempted_ = pending_.size();
    std::size_t held = 0;
    for (const auto& h : pending_)
      held += h.table->size();
    stats_.pending_keys.store(held, std::memory_order_relaxed);
    return error;
  }
  last_seq_ = seq;
  for (auto& h : pending_) {
    h.table->reset(0);
    free_[h.shard].push_back(std::move(h.table));
  }
  pending_.clear();
  stats_.flushes.fetch_add(1, std::memory_order_relaxed);
  stats_.keys.fetch_add(keys, std::memory_order_relaxed);
  stats_.views.fetch_add(views, std::memory_order_relaxed);
  stats_.add_site_views(per_site);
  stats_.pending_keys.store(0, std::memory_order_relaxed);
  stats_.failing.store(false, std::memory_order_relaxed);
  stats_.last_success_unix.store(std::chrono::duration<double>(now_().time_since_epoch()).count(),
                                 std::memory_order_relaxed);
  // Observed after the counters above, so a scrape never sees more flush
  // durations than flushes.
  if (observer_) observer_(seconds, keys, true);
  spdlog::debug("event=flush seq={} keys={} views={} ms={:.2f}", seq, keys, views, seconds * 1000);
  return {};
}

void flusher::run(std::chrono::milliseconds interval) {
  using namespace std::chrono;
  milliseconds backoff = interval;
  for (;;) {
    // Wake at the interval, or at local midnight if that comes first, so
    // the day's last hits are sealed into the day they belong to.
    const auto now = now_();
    const auto midnight = calendar::next_midnight(now);
    auto wait = backoff;
    if (midnight - now < wait) wait = duration_cast<milliseconds>(midnight - now) + 1ms;
    {
      std::unique_lock lock(stop_mutex_);
      if (stop_cv_.wait_for(lock, wait, [this] { return stop_requested_; })) break;
    }
    const std::string error = flush_once();
    if (error.empty()) {
      backoff = interval;
    } else {
      // Back off up to 30 s so a failing disk is not hammered; counts stay in memory.
      backoff = std::min<milliseconds>(backoff * 2, std::max<milliseconds>(interval, 30s));
      spdlog::error("event=flush_failed error=\"{}\" retry_in_ms={}", error, backoff.count());
    }
  }
}

void flusher::stop() {
  std::lock_guard lock(stop_mutex_);
  stop_requested_ = true;
  stop_cv_.notify_all();
}

}  // namespace pvc
