#pragma once
// Helpers shared by the store's admin role files (store_corrections.cpp,
// store_imports.cpp, store_exports.cpp, store_audit.cpp, store_backups.cpp).
// Internal: like store_impl.hpp, only those files include it (RocksDB).
//
// Consistency with the flusher (see store_types.hpp): writes that read
// before they write hold impl::write_mutex, which store::apply holds for
// each flush. Reads alone use a RocksDB snapshot or iterator (consistent on
// their own).
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "admin/audit_log.hpp"
#include "core/store_keys.hpp"
#include "store/store_types.hpp"

namespace pvc::store_admin_util {

// The first key after every key that starts with `prefix`.
inline std::string prefix_end(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff)
    prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

// The time for a new audit record: now, or just after the newest record if
// the clock is behind it, so keys stay unique and in order. Call under the
// write mutex.
inline std::int64_t next_audit_time(rocksdb::DB& db) {
  const std::int64_t now = unix_us_now();
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
  it->SeekForPrev(std::string(audit_key_prefix) + "g");  // past every hex digit
  std::int64_t last = 0;
  if (it->Valid() && parse_audit_key(it->key().ToStringView(), last) && last >= now) {
    return last + 1;
  }
  return now;
}

inline rocksdb::Status add_audit(rocksdb::DB& db, rocksdb::WriteBatch& batch,
                                 const audit_entry& e) {
  const std::int64_t t = next_audit_time(db);
  return batch.Put(audit_key(t), format_audit_record(e, t));
}

// Reads a count; a missing key reads as 0 with found=false.
inline rocksdb::Status read_count(rocksdb::DB& db, const std::string& key, std::uint64_t& v,
                                  bool& found,
                                  const rocksdb::ReadOptions& ro = rocksdb::ReadOptions()) {
  std::string value;
  rocksdb::Status s = db.Get(ro, key, &value);
  v = 0;
  found = false;
  if (s.IsNotFound()) return rocksdb::Status::OK();
  if (!s.ok()) return s;
  if (!keys::decode_count(value, v)) return rocksdb::Status::Corruption("not an 8-byte count", key);
  found = true;
  return s;
}

inline admin_outcome store_failed(const std::string& why) {
  return admin_outcome::error(admin_status::failed, "store: " + why);
}

inline admin_outcome store_failed(const rocksdb::Status& s) {
  return store_failed(s.ToString());
}

inline rocksdb::WriteOptions synced() {
  rocksdb::WriteOptions wo;
  wo.sync = true;  // admin changes are rare and must survive a power cut
  return wo;
}

// Splits "site[\0article]".
inline void split_site_article(std::string_view rest, std::string_view& site,
                               std::string_view& article, bool& has_article) {
  const std::size_t sep = rest.find(keys::sep);
  has_article = sep != std::string_view::npos;
  site = rest.substr(0, sep);
  article = has_article ? rest.substr(sep + 1) : std::string_view{};
}

}  // namespace pvc::store_admin_util
