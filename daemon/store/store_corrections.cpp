// Corrections (store_corrections.hpp): adjust, rename and merge. Each reads
// the counts it changes and writes absolute values plus its audit record in
// one WriteBatch, under the write mutex (the consistency rule:
// store_types.hpp).
#include "store/store_corrections.hpp"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "core/store_keys.hpp"
#include "store/store.hpp"
#include "store/store_admin_util.hpp"
#include "store/store_impl.hpp"

namespace pvc {

using namespace store_admin_util;

namespace {

// "D<YYYYMMDD>..." -> the day; false for anything else.
bool day_of_key(std::string_view key, day_number& out) {
  if (key.size() < 9 || key[0] != 'D') return false;
  const auto day = parse_day_key(key.substr(1, 8));
  if (!day) return false;
  out = *day;
  return true;
}

// The first and last day with any daily counts; false when there are none.
bool day_range(rocksdb::DB& db, day_number& first, day_number& last, rocksdb::Status& s) {
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
  it->Seek("D");
  if (!it->Valid() || !day_of_key(it->key().ToStringView(), first)) {
    s = it->status();
    return false;
  }
  it->SeekForPrev("E");
  if (!it->Valid() || !day_of_key(it->key().ToStringView(), last)) {
    s = it->status();
    return false;
  }
  return true;
}

// A count's change, for the journal.
boost::json::object change(std::uint64_t before, std::uint64_t after) {
  return {{"before", before}, {"after", after}};
}

}  // namespace

admin_outcome adjust(store& st, std::string_view site, std::string_view article, std::int64_t delta,
                     std::optional<day_number> day, const audit_entry& audit) {
  if (delta == 0) return admin_outcome::error(admin_status::bad_request, "delta must not be 0");
  struct target {
    const char* name;
    std::string key;
    std::uint64_t before = 0;
    std::uint64_t after = 0;
  };
  std::vector<target> targets = {{"article_total", keys::article_total(site, article)},
                                 {"site_total", keys::site_total(site)}};
  if (day) {
    const std::string d = day_key(*day);
    targets.push_back({"article_day", keys::article_day(d, site, article)});
    targets.push_back({"site_day", keys::site_day(d, site)});
    targets.push_back({"site_month", keys::site_month(month_key(*day), site)});
  }
  if (delta < -static_cast<std::int64_t>(max_import_count) ||
      delta > static_cast<std::int64_t>(max_import_count)) {
    return admin_outcome::error(admin_status::bad_request,
                                "delta must be within -9007199254740991..9007199254740991");
  }
  const std::uint64_t magnitude =
      static_cast<std::uint64_t>(delta < 0 ? -delta : delta);  // in range: checked above
  auto& impl = store_access::of(st);
  std::lock_guard lock(impl.write_mutex);
  if (auto why = impl.ready_for_write(); !why.empty()) return store_failed(why);
  rocksdb::DB& db = *impl.db;
  rocksdb::WriteBatch batch;
  for (target& t : targets) {
    bool found = false;
    if (auto s = read_count(db, t.key, t.before, found); !s.ok()) return store_failed(s);
    if (delta < 0 && t.before < magnitude) {
      return admin_outcome::error(
          admin_status::bad_request,
          fmt::format("refused: {} is {}; subtracting {} would make it negative", t.name, t.before,
                      magnitude));
    }
    if (delta > 0 && t.before > UINT64_MAX - magnitude) {
      return admin_outcome::error(admin_status::bad_request, "refused: the count would overflow");
    }
    t.after = delta < 0 ? t.before - magnitude : t.before + magnitude;
    if (auto s = batch.Put(t.key, keys::encode_count(t.after)); !s.ok()) return store_failed(s);
  }
  boost::json::object changes;
  changes["site"] = site;
  changes["article"] = article;
  changes["delta"] = delta;
  if (day) changes["day"] = day_key(*day);
  for (const target& t : targets)
    changes[t.name] = change(t.before, t.after);
  const std::string details = boost::json::serialize(changes);
  audit_entry e = audit;
  e.details = details;
  rocksdb::Status s = batch.Put(keys::site_marker(site), "");
  if (s.ok()) s = add_audit(db, batch, e);
  if (s.ok()) {
    s = impl.write_checked(synced(), batch);
  }
  if (!s.ok()) return store_failed(s);
  return {admin_status::ok, {}, details};
}

namespace {

// Moves every count of `from` onto `to` (added to what `to` has) in `batch`.
// Call under the write mutex. Fills the numbers for the journal.
admin_outcome move_article(rocksdb::DB& db, rocksdb::WriteBatch& batch, std::string_view site,
                           std::string_view from, std::string_view to, bool to_must_be_new,
                           std::string& details) {
  if (from == to) {
    return admin_outcome::error(admin_status::bad_request, "the two article ids are the same");
  }
  std::uint64_t from_total = 0, to_total = 0;
  bool from_found = false, to_found = false;
  rocksdb::Status s = read_count(db, keys::article_total(site, from), from_total, from_found);
  if (s.ok()) s = read_count(db, keys::article_total(site, to), to_total, to_found);
  if (!s.ok()) return store_failed(s);
  if (!from_found) {
    return admin_outcome::error(admin_status::not_found,
                                fmt::format("{} has no counts on site {}", from, site));
  }
  if (to_must_be_new && to_found) {
    return admin_outcome::error(
        admin_status::conflict,
        fmt::format("{} already has counts on site {}; merge {} into it instead", to, site, from));
  }
  s = batch.Put(keys::article_total(site, to), keys::encode_count(from_total + to_total));
  if (s.ok()) s = batch.Delete(keys::article_total(site, from));

  // The title goes with the counts, unless `to` has its own (a merge keeps it).
  std::string from_title, to_title;
  const std::string from_title_key = keys::article_title(site, from);
  const std::string to_title_key = keys::article_title(site, to);
  bool title_moved = false;
  if (s.ok()) {
    const rocksdb::Status a = db.Get(rocksdb::ReadOptions(), from_title_key, &from_title);
    const rocksdb::Status b = db.Get(rocksdb::ReadOptions(), to_title_key, &to_title);
    if (!a.ok() && !a.IsNotFound()) return store_failed(a);
    if (!b.ok() && !b.IsNotFound()) return store_failed(b);
    if (a.ok()) {
      s = batch.Delete(from_title_key);
      if (s.ok() && b.IsNotFound()) {
        s = batch.Put(to_title_key, from_title);
        title_moved = true;
      }
    }
  }

  // Daily history: every day between the first and the last stored day.
  std::uint64_t days_moved = 0;
  day_number first = 0, last = -1;
  rocksdb::Status range_status;
  if (s.ok() && !day_range(db, first, last, range_status)) {
    if (!range_status.ok()) return store_failed(range_status);
    last = first - 1;  // no daily counts at all
  }
  constexpr day_number days_per_read = 256;
  for (day_number start = first; s.ok() && start <= last; start += days_per_read) {
    const day_number end = std::min<day_number>(last, start + days_per_read - 1);
    std::vector<std::string> key_text;
    for (day_number d = start; d <= end; ++d) {
      const std::string dk = day_key(d);
      key_text.push_back(keys::article_day(dk, site, from));
      key_text.push_back(keys::article_day(dk, site, to));
    }
    std::vector<rocksdb::Slice> key_slices(key_text.begin(), key_text.end());
    std::vector<std::string> values;
    const std::vector<rocksdb::Status> got =
        db.MultiGet(rocksdb::ReadOptions(), key_slices, &values);
    for (std::size_t i = 0; s.ok() && i < key_text.size(); i += 2) {
      if (got[i].IsNotFound()) continue;
      if (!got[i].ok()) return store_failed(got[i]);
      if (!got[i + 1].ok() && !got[i + 1].IsNotFound()) return store_failed(got[i + 1]);
      std::uint64_t moved = 0, had = 0;
      if (!keys::decode_count(values[i], moved) ||
          (got[i + 1].ok() && !keys::decode_count(values[i + 1], had))) {
        return store_failed(rocksdb::Status::Corruption("not an 8-byte count", key_text[i]));
      }
      s = batch.Put(key_text[i + 1], keys::encode_count(moved + had));
      if (s.ok()) s = batch.Delete(key_text[i]);
      ++days_moved;
    }
  }
  if (!s.ok()) return store_failed(s);
  boost::json::object changes;
  changes["site"] = site;
  changes["from"] = from;
  changes[to_must_be_new ? "to" : "into"] = to;
  changes["views_moved"] = from_total;
  changes["days_moved"] = days_moved;
  if (title_moved) {
    std::int64_t set_at = 0;
    std::string_view title;
    if (keys::decode_title(from_title, set_at, title)) changes["title_moved"] = title;
  }
  changes[to_must_be_new ? "to_total" : "into_total"] = change(to_total, from_total + to_total);
  details = boost::json::serialize(changes);
  return {};
}

// rename_article (`to` must have no counts) and merge_articles, in one write.
admin_outcome move_article_counts(store& st, std::string_view site, std::string_view from,
                                  std::string_view to, bool to_must_be_new,
                                  const audit_entry& audit) {
  auto& impl = store_access::of(st);
  std::lock_guard lock(impl.write_mutex);
  if (auto why = impl.ready_for_write(); !why.empty()) return store_failed(why);
  rocksdb::DB& db = *impl.db;
  rocksdb::WriteBatch batch;
  std::string details;
  admin_outcome r = move_article(db, batch, site, from, to, to_must_be_new, details);
  if (!r.ok()) return r;
  audit_entry e = audit;
  e.details = details;
  rocksdb::Status s = add_audit(db, batch, e);
  if (s.ok()) {
    s = impl.write_checked(synced(), batch);
  }
  if (!s.ok()) return store_failed(s);
  return {admin_status::ok, {}, details};
}

}  // namespace

admin_outcome rename_article(store& st, std::string_view site, std::string_view from,
                             std::string_view to, const audit_entry& audit) {
  return move_article_counts(st, site, from, to, true, audit);
}

admin_outcome merge_articles(store& st, std::string_view site, std::string_view from,
                             std::string_view into, const audit_entry& audit) {
  return move_article_counts(st, site, from, into, false, audit);
}

}  // namespace pvc
