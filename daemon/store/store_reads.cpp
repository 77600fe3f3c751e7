// The store's reads for the read layer (read/embedded_reader.cpp): counts by
// key, and the scans behind "most viewed" (read/top_lists.cpp). Each reads one RocksDB snapshot, so
// its figures are consistent with each other. Key layout: core/store_keys.hpp.
#include <rocksdb/db.h>

#include <algorithm>
#include <memory>

#include "core/store_keys.hpp"
#include "store/store.hpp"
#include "store/store_impl.hpp"

namespace pvc {
namespace {

// fn(rest of key, count) for each key under `prefix`, over one snapshot.
std::string scan_counts(rocksdb::DB& db, std::string_view prefix, bool fill_cache,
                        const std::function<void(std::string_view, std::uint64_t)>& fn) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = fill_cache;
  const rocksdb::Snapshot* snap = db.GetSnapshot();
  ro.snapshot = snap;
  std::string error;
  {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(ro));
    const rocksdb::Slice p(prefix.data(), prefix.size());
    for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
      std::uint64_t v = 0;
      if (!keys::decode_count(it->value().ToStringView(), v)) continue;
      fn(it->key().ToStringView().substr(prefix.size()), v);
    }
    if (!it->status().ok()) error = it->status().ToString();
  }
  db.ReleaseSnapshot(snap);
  return error;
}

}  // namespace

std::string store::for_each_article_on_day(
    std::string_view site, day_number day,
    const std::function<void(std::string_view article, std::uint64_t views)>& fn) const {
  auto db = impl_->read();
  if (!db) return impl::closed_error;
  return scan_counts(*db, keys::article_day(day_key(day), site, ""), true, fn);
}

std::string store::for_each_article_total(
    std::string_view site,
    const std::function<void(std::string_view article, std::uint64_t total)>& fn,
    bool fill_cache) const {
  auto db = impl_->read();
  if (!db) return impl::closed_error;
  return scan_counts(*db, keys::article_total(site, ""), fill_cache, fn);
}

std::string store::read_article_totals(std::string_view site, std::span<const std::string> articles,
                                       std::vector<std::uint64_t>& out) const {
  std::vector<std::string> key_strings;
  key_strings.reserve(articles.size());
  for (const std::string& a : articles)
    key_strings.push_back(keys::article_total(site, a));
  return read_counts(key_strings, out);
}

std::string store::read_counts(std::span<const std::string> keys,
                               std::vector<std::uint64_t>& out) const {
  out.assign(keys.size(), 0);
  if (keys.empty()) return {};
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values;
  auto db = impl_->read();
  if (!db) return impl::closed_error;
  const rocksdb::Snapshot* snap = db->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  std::vector<rocksdb::Status> st = db->MultiGet(ro, slices, &values);
  db->ReleaseSnapshot(snap);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (st[i].IsNotFound()) continue;
    if (!st[i].ok()) return st[i].ToString();
    if (!keys::decode_count(values[i], out[i])) return "a count is not 8 bytes: " + keys[i];
  }
  return {};
}

}  // namespace pvc
