// The store's reads for the read layer (read/embedded_reader.cpp) and the
// metrics: a site and its articles, the list of sites, and the scans behind
// "most viewed" (read/top_lists.cpp). Each reads one RocksDB snapshot, so its
// figures are consistent with each other. Key layout: core/store_keys.hpp.
#include <rocksdb/db.h>

#include <algorithm>
#include <memory>

#include "core/store_keys.hpp"
#include "store/store.hpp"
#include "store/store_impl.hpp"

namespace pvc {
namespace {

std::uint64_t read_count(const rocksdb::Status& s, const std::string& value) {
  std::uint64_t v = 0;
  if (s.ok()) keys::decode_count(value, v);
  return v;
}

// Reads `keys` over one snapshot; `error` set on a failure other than a missing key.
std::vector<std::uint64_t> multi_get_counts(rocksdb::DB& db, std::span<const std::string> keys,
                                            std::string& error) {
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values;
  const rocksdb::Snapshot* snap = db.GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  std::vector<rocksdb::Status> st = db.MultiGet(ro, slices, &values);
  db.ReleaseSnapshot(snap);
  std::vector<std::uint64_t> out(keys.size(), 0);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!st[i].ok() && !st[i].IsNotFound()) {
      error = st[i].ToString();
      return out;
    }
    out[i] = read_count(st[i], values[i]);
  }
  return out;
}

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

views_snapshot store::read_views(std::string_view site, std::span<const std::string_view> articles,
                                 day_number today) const {
  const std::string today_key = day_key(today);
  std::vector<std::string> key_strings = {
      keys::site_total(site),
      keys::site_day(today_key, site),
      keys::site_day(day_key(today - 1), site),
      keys::site_month(month_key(today), site),
  };
  for (std::string_view a : articles) {
    key_strings.push_back(keys::article_total(site, a));
    key_strings.push_back(keys::article_day(today_key, site, a));
  }
  views_snapshot out;
  auto db = impl_->read();
  if (!db) {
    out.error = impl::closed_error;
    return out;
  }
  const std::vector<std::uint64_t> v = multi_get_counts(*db, key_strings, out.error);
  if (!out.error.empty()) return out;
  out.site = {v[0], v[1], v[2], v[3]};
  out.articles.reserve(articles.size());
  for (std::size_t i = 0; i < articles.size(); ++i)
    out.articles.push_back({v[4 + 2 * i], v[5 + 2 * i]});
  return out;
}

site_list store::read_sites(day_number today) const {
  site_list out;
  std::vector<std::string> names = sites();
  std::sort(names.begin(), names.end());
  const std::string day = day_key(today), month = month_key(today);
  std::vector<std::string> key_strings;
  key_strings.reserve(3 * names.size());
  for (const std::string& s : names) {
    key_strings.push_back(keys::site_total(s));
    key_strings.push_back(keys::site_day(day, s));
    key_strings.push_back(keys::site_month(month, s));
  }
  auto db = impl_->read();
  if (!db) {
    out.error = impl::closed_error;
    return out;
  }
  const std::vector<std::uint64_t> v = multi_get_counts(*db, key_strings, out.error);
  if (!out.error.empty()) return out;
  out.sites.reserve(names.size());
  for (std::size_t i = 0; i < names.size(); ++i)
    out.sites.push_back({std::move(names[i]), v[3 * i], v[3 * i + 1], v[3 * i + 2]});
  return out;
}

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
  out.assign(articles.size(), 0);
  if (articles.empty()) return {};
  std::vector<std::string> key_strings;
  key_strings.reserve(articles.size());
  for (const std::string& a : articles)
    key_strings.push_back(keys::article_total(site, a));
  auto db = impl_->read();
  if (!db) return impl::closed_error;
  std::string error;
  out = multi_get_counts(*db, key_strings, error);
  return error;
}

}  // namespace pvc
