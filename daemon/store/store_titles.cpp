// Article titles (store_titles.hpp): N keys, Put and Delete only.
#include "store/store_titles.hpp"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <memory>
#include <mutex>

#include "core/store_keys.hpp"
#include "store/store.hpp"
#include "store/store_admin_util.hpp"
#include "store/store_impl.hpp"

namespace pvc {

using namespace store_admin_util;

std::string read_titles(const store& st, std::string_view site,
                        std::span<const std::string_view> articles, std::vector<std::string>& out) {
  out.assign(articles.size(), std::string());
  if (articles.empty()) return {};
  std::vector<std::string> key_strings;
  key_strings.reserve(articles.size());
  for (std::string_view a : articles)
    key_strings.push_back(keys::article_title(site, a));
  std::vector<rocksdb::Slice> slices(key_strings.begin(), key_strings.end());
  auto& impl = store_access::of(st);
  auto db = impl.read();
  if (!db) return impl.closed_error;
  std::vector<std::string> values;
  const rocksdb::Snapshot* snap = db->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  const std::vector<rocksdb::Status> status = db->MultiGet(ro, slices, &values);
  db->ReleaseSnapshot(snap);
  for (std::size_t i = 0; i < articles.size(); ++i) {
    if (status[i].IsNotFound()) continue;
    if (!status[i].ok()) return status[i].ToString();
    std::int64_t set_at = 0;
    std::string_view title;
    if (!keys::decode_title(values[i], set_at, title)) return "a title value shorter than 8 bytes";
    out[i].assign(title);
  }
  return {};
}

admin_outcome set_title(store& st, std::string_view site, std::string_view article,
                        std::string_view title, std::int64_t now_unix, const audit_entry& audit) {
  auto& impl = store_access::of(st);
  const std::string key = keys::article_title(site, article);
  std::lock_guard lock(impl.write_mutex);
  if (auto why = impl.ready_for_write(); !why.empty()) return store_failed(why);
  rocksdb::DB& db = *impl.db;
  std::string old_value;
  rocksdb::Status s = db.Get(rocksdb::ReadOptions(), key, &old_value);
  if (!s.ok() && !s.IsNotFound()) return store_failed(s);
  const bool had = s.ok();
  std::int64_t old_set_at = 0;
  std::string_view old_title;
  if (had && !keys::decode_title(old_value, old_set_at, old_title)) {
    return store_failed(rocksdb::Status::Corruption("a title value shorter than 8 bytes", key));
  }
  if (!had && title.empty()) {
    return admin_outcome::error(admin_status::not_found, "not_found: the article has no title");
  }
  boost::json::object details{{"site", site}, {"article", article}};
  details["before"] = had ? boost::json::value(old_title) : boost::json::value(nullptr);
  details["after"] = title.empty() ? boost::json::value(nullptr) : boost::json::value(title);
  audit_entry e = audit;
  e.details = boost::json::serialize(details);
  rocksdb::WriteBatch batch;
  s = title.empty() ? batch.Delete(key) : batch.Put(key, keys::encode_title(now_unix, title));
  if (s.ok()) s = add_audit(db, batch, e);
  if (s.ok()) s = impl.write_checked(synced(), batch);
  if (!s.ok()) return store_failed(s);
  return {admin_status::ok, {}, e.details};
}

std::string for_each_title(
    const store& st,
    const std::function<void(std::string_view site, std::string_view article,
                             std::string_view title, std::int64_t set_at_unix)>& fn) {
  auto& impl = store_access::of(st);
  auto db = impl.read();
  if (!db) return impl.closed_error;
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // once, at start-up
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
  for (it->Seek("N"); it->Valid() && it->key().starts_with("N"); it->Next()) {
    std::string_view site, article;
    bool has_article = false;
    split_site_article(it->key().ToStringView().substr(1), site, article, has_article);
    std::int64_t set_at = 0;
    std::string_view title;
    if (!has_article || !keys::decode_title(it->value().ToStringView(), set_at, title)) {
      return "a damaged title key";
    }
    fn(site, article, title, set_at);
  }
  return it->status().ok() ? std::string() : it->status().ToString();
}

}  // namespace pvc
