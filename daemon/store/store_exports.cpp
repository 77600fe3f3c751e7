// Exports (store_exports.hpp): counters read page by page over one
// snapshot, which a reopen may release between pages (store_impl.hpp).
#include "store/store_exports.hpp"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>

#include <memory>
#include <mutex>
#include <string>

#include "core/store_keys.hpp"
#include "store/store.hpp"
#include "store/store_admin_util.hpp"
#include "store/store_impl.hpp"

namespace pvc {

using store_admin_util::split_site_article;

store_snapshot::~store_snapshot() {
  auto db = owner->read();
  std::lock_guard lock(owner->snapshots_mutex);
  owner->snapshots.erase(this);
  if (snap && db) db->ReleaseSnapshot(snap);
}

std::shared_ptr<const store_snapshot> snapshot(const store& st) {
  auto& impl = store_access::of(st);
  auto s = std::make_shared<store_snapshot>();
  s->owner = &impl;
  auto db = impl.read();
  if (!db) return nullptr;
  std::lock_guard lock(impl.snapshots_mutex);
  s->snap = db->GetSnapshot();
  impl.snapshots.insert(s.get());
  return s;
}

std::string export_rows(const store& st, const store_snapshot& snap, const export_filter& filter,
                        std::string_view after_key, std::size_t limit, std::vector<export_row>& out,
                        std::string& next_key) {
  auto& impl = store_access::of(st);
  next_key.clear();
  // While this read holds the store, no reopen can release the snapshot.
  auto db = impl.read();
  if (!db) return impl.closed_error;
  {
    std::lock_guard lock(impl.snapshots_mutex);
    if (!snap.snap) return "the store was reopened after a disk error; start the export again";
  }
  rocksdb::ReadOptions ro;
  ro.snapshot = snap.snap;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
  const std::string& only = filter.site;
  // Counters live under D (days), M (months) and T (all-time), in that key
  // order; other prefixes between them (site markers, the widget's keys)
  // are skipped with one seek.
  const std::string totals_start = "T" + only;
  if (after_key.empty()) {
    it->Seek(filter.daily ? std::string("D") : totals_start);
  } else {
    it->Seek(rocksdb::Slice(after_key.data(), after_key.size()));
    if (it->Valid() && it->key().ToStringView() == after_key) it->Next();
  }
  std::string last_key;
  while (it->Valid() && out.size() < limit) {
    const std::string_view k = it->key().ToStringView();
    // Unsigned: a prefix byte from 0x80 up must sort after T, not before D.
    const auto type = static_cast<unsigned char>(k.empty() ? '\0' : k[0]);
    if (type == 'D' || type == 'M') {
      if (!filter.daily) {
        it->Seek(totals_start);
        continue;
      }
      const std::size_t period_len = type == 'D' ? 8 : 6;
      if (k.size() < 2 + period_len) {
        it->Next();
        continue;
      }
      const std::string_view period = k.substr(1, period_len);
      std::string_view site, article;
      bool has_article = false;
      split_site_article(k.substr(1 + period_len), site, article, has_article);
      if (!only.empty() && site != only) {
        // Jump to the site's keys of this period, or past the period.
        std::string to(1, static_cast<char>(type));
        to += period;
        to += site < only ? only : std::string("\xff");
        it->Seek(to);
        continue;
      }
      if (type == 'M' && has_article) {
        it->Next();
        continue;
      }
      export_row row;
      if (!keys::decode_count(it->value().ToStringView(), row.count)) {
        return "not an 8-byte count at a " + std::string(1, static_cast<char>(type)) + " key";
      }
      row.site = site;
      row.article = article;
      row.period = type == 'D' ? import_period::day : import_period::month;
      row.period_key = period;
      out.push_back(std::move(row));
      last_key.assign(k);
      it->Next();
    } else if (type == 'T') {
      std::string_view site, article;
      bool has_article = false;
      split_site_article(k.substr(1), site, article, has_article);
      if (!only.empty() && site != only) {
        if (site > only) break;  // past the site's totals: done
        it->Seek(totals_start);
        continue;
      }
      export_row row;
      if (!keys::decode_count(it->value().ToStringView(), row.count)) {
        return "not an 8-byte count at a T key";
      }
      row.site = site;
      row.article = article;
      if (has_article) {
        // The title from the same snapshot: export then import keeps it.
        std::string value;
        const rocksdb::Status s = db->Get(ro, keys::article_title(site, article), &value);
        if (!s.ok() && !s.IsNotFound()) return s.ToString();
        std::int64_t set_at = 0;
        std::string_view title;
        if (s.ok() && keys::decode_title(value, set_at, title)) row.title.assign(title);
      }
      out.push_back(std::move(row));
      last_key.assign(k);
      it->Next();
    } else if (type < 'D') {
      it->Seek(filter.daily ? std::string("D") : totals_start);
    } else if (type < 'M') {
      it->Seek(filter.daily ? std::string("M") : totals_start);
    } else if (type < 'T') {
      it->Seek(totals_start);
    } else {
      break;  // past every counter
    }
  }
  if (!it->status().ok()) return it->status().ToString();
  if (out.size() == limit && it->Valid()) next_key = last_key;
  return {};
}

}  // namespace pvc
