#include "cluster/outbox.hpp"

#include <openssl/rand.h>

#include <chrono>

#include "core/hex.hpp"
#include "core/outbox_entry.hpp"
#include "store/store.hpp"

namespace pvc {
namespace {

constexpr std::string_view entry_prefix = "O";
constexpr std::string_view incarnation_key = "#incarnation";

std::string entry_key(std::uint64_t seq) {
  std::string k(entry_prefix);
  for (int i = 7; i >= 0; --i)
    k += static_cast<char>((seq >> (8 * i)) & 0xff);
  return k;
}

std::uint64_t seq_of(std::string_view rest) {  // the 8 bytes after the prefix
  std::uint64_t v = 0;
  for (char c : rest.substr(0, 8))
    v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

std::int64_t unix_ms_now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void put_le64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out += static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint64_t get_le64(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

}  // namespace

std::unique_ptr<outbox> outbox::open(store& db, std::uint64_t max_bytes, std::string& error) {
  std::unique_ptr<outbox> box(new outbox(db, max_bytes));
  error = db.scan_prefix(incarnation_key, [&](std::string_view key, std::string_view value) {
    if (key == incarnation_key) box->incarnation_ = std::string(value);
  });
  if (!error.empty()) return nullptr;
  if (box->incarnation_.empty()) {
    unsigned char id[16];
    if (RAND_bytes(id, sizeof id) != 1) {
      error = "cannot make the node's incarnation id: no randomness";
      return nullptr;
    }
    box->incarnation_ = to_hex(std::string_view(reinterpret_cast<const char*>(id), sizeof id));
    key_writes w;
    w.put.emplace_back(std::string(incarnation_key), box->incarnation_);
    error = db.write_keys(w);
    if (!error.empty()) return nullptr;
  }
  error = db.scan_prefix(
      entry_prefix,
      [&](std::string_view key, std::string_view value) {
        if (key.size() != entry_prefix.size() + 8 || value.size() < 8) return;
        box->waiting_.push_back({seq_of(key.substr(entry_prefix.size())),
                                 static_cast<std::int64_t>(get_le64(value)), value.size()});
        box->bytes_ += value.size();
      },
      false);
  if (!error.empty()) return nullptr;
  // A previous run's flushes are not in the unsent figures: they ship first.
  if (!box->waiting_.empty()) box->sent_up_to_ = box->waiting_.back().seq;
  return box;
}

std::string outbox::add(std::span<const delta_table* const> tables, const visits_by_site& visits,
                        std::uint64_t seq, key_writes& out) {
  if (full()) {
    return "the outbox is full (" + std::to_string(bytes()) +
           " bytes waiting for the cluster; outbox_max_bytes " + std::to_string(max_bytes_) + ")";
  }
  std::string value;
  const std::int64_t now = unix_ms_now();
  put_le64(value, static_cast<std::uint64_t>(now));
  value += encode_outbox_entry(tables, visits);
  proposed_ = {seq, now, value.size()};
  proposed_rows_.clear();
  for (const delta_table* t : tables) {
    t->for_each([&](std::string_view site, std::string_view article, std::uint64_t views) {
      proposed_rows_.push_back({std::string(site), std::string(article), t->day(), views});
    });
  }
  out.put.emplace_back(entry_key(seq), std::move(value));
  return {};
}

void outbox::added(std::uint64_t seq, bool ok) {
  if (!ok || proposed_.seq != seq) return;
  std::lock_guard lock(mutex_);
  waiting_.push_back(proposed_);
  bytes_ += proposed_.bytes;
  for (const row& r : proposed_rows_) {
    unsent_sites_[r.site][r.day] += r.views;
    std::string key = r.site;
    key += '\0';
    key += r.article;
    unsent_articles_[key][r.day] += r.views;
  }
  proposed_rows_.clear();
}

void outbox::sending(std::uint64_t seq,
                     const std::map<std::string, site_part, std::less<>>& parts) {
  std::lock_guard lock(mutex_);
  if (seq <= sent_up_to_) return;  // taken out already (a retry)
  sent_up_to_ = seq;
  auto take = [](std::map<std::string, by_day, std::less<>>& m, const std::string& key,
                 day_number day, std::uint64_t views) {
    auto it = m.find(key);
    if (it == m.end()) return;
    auto d = it->second.find(day);
    if (d == it->second.end()) return;
    d->second -= std::min(d->second, views);
    if (d->second == 0) it->second.erase(d);
    if (it->second.empty()) m.erase(it);
  };
  for (const auto& [site, part] : parts) {
    for (const auto& d : part.days) {
      take(unsent_sites_, site, d.day, d.site_views);
      for (const auto& [article, views] : d.articles)
        take(unsent_articles_, site + '\0' + article, d.day, views);
    }
  }
}

std::uint64_t outbox::unsent(const count_ref& ref) const {
  std::lock_guard lock(mutex_);
  const std::map<std::string, by_day, std::less<>>& m =
      ref.article.empty() ? unsent_sites_ : unsent_articles_;
  std::string key(ref.site);
  if (!ref.article.empty()) {
    key += '\0';
    key += ref.article;
  }
  auto it = m.find(key);
  if (it == m.end()) return 0;
  std::uint64_t sum = 0;
  for (const auto& [day, views] : it->second) {
    if (ref.period == count_period::all || (ref.period == count_period::day && day == ref.day) ||
        (ref.period == count_period::month && month_of(day) == month_of(ref.day))) {
      sum += views;
    }
  }
  return sum;
}

bool outbox::oldest(entry& out, std::string& error) const {
  std::uint64_t seq = 0;
  {
    std::lock_guard lock(mutex_);
    if (waiting_.empty()) return false;
    seq = waiting_.front().seq;
  }
  bool found = false;
  const std::string key = entry_key(seq);
  error = db_.scan_prefix(key, [&](std::string_view k, std::string_view value) {
    if (k != key || value.size() < 8) return;
    out.seq = seq;
    out.unix_ms = static_cast<std::int64_t>(get_le64(value));
    out.flush = std::string(value.substr(8));
    found = true;
  });
  if (error.empty() && !found) error = "outbox entry " + std::to_string(seq) + " is missing";
  return found;
}

std::string outbox::remove(std::uint64_t seq) {
  key_writes w;
  w.erase.push_back(entry_key(seq));
  std::string error = db_.write_keys(w);
  if (!error.empty()) return error;
  std::lock_guard lock(mutex_);
  if (!waiting_.empty() && waiting_.front().seq == seq) {
    bytes_ -= waiting_.front().bytes;
    waiting_.pop_front();
  }
  return {};
}

std::uint64_t outbox::depth() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

double outbox::oldest_age_seconds() const {
  std::lock_guard lock(mutex_);
  if (waiting_.empty()) return 0;
  return static_cast<double>(unix_ms_now() - waiting_.front().unix_ms) / 1000.0;
}

}  // namespace pvc
