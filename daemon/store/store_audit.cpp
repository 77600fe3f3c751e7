// The audit journal (store_audit.hpp): records under "#audit/<time>"
// (admin/audit_log.hpp), written under the write mutex like every admin write.
#include "store/store_audit.hpp"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>

#include "store/store.hpp"
#include "store/store_admin_util.hpp"
#include "store/store_impl.hpp"

namespace pvc {

using namespace store_admin_util;

admin_outcome append_audit(store& st, const audit_entry& e) {
  auto& impl = store_access::of(st);
  std::lock_guard lock(impl.write_mutex);
  if (auto why = impl.ready_for_write(); !why.empty()) return store_failed(why);
  rocksdb::DB& db = *impl.db;
  rocksdb::WriteBatch batch;
  rocksdb::Status s = add_audit(db, batch, e);
  if (s.ok()) {
    s = impl.write_checked(synced(), batch);
  }
  if (!s.ok()) return store_failed(s);
  return {};
}

std::string read_audit(const store& st, std::int64_t since_unix_us, std::string_view after_key,
                       std::size_t limit, std::vector<std::string>& records,
                       std::string& next_key) {
  auto& impl = store_access::of(st);
  next_key.clear();
  auto db = impl.read();
  if (!db) return impl.closed_error;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  std::string start = audit_key(std::max<std::int64_t>(since_unix_us, 0));
  if (!after_key.empty() && after_key > std::string_view(start)) start.assign(after_key);
  std::string last;
  for (it->Seek(start); it->Valid() && records.size() < limit; it->Next()) {
    const std::string_view k = it->key().ToStringView();
    std::int64_t t = 0;
    if (!k.starts_with(audit_key_prefix) || !parse_audit_key(k, t)) break;
    if (k == after_key) continue;
    records.emplace_back(it->value().ToStringView());
    last.assign(k);
  }
  if (!it->status().ok()) return it->status().ToString();
  if (records.size() == limit && it->Valid()) next_key = last;
  return {};
}

std::string copy_audit_from(store& st, const std::string& dir, std::uint64_t& copied) {
  auto& impl = store_access::of(st);
  copied = 0;
  rocksdb::Options o;
  rocksdb::DB* raw = nullptr;
  // Read-only: no merge operator needed, only audit records (plain values) are read.
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(o, dir, &raw);
  if (!s.ok()) return "cannot open " + dir + ": " + s.ToString();
  std::unique_ptr<rocksdb::DB> old(raw);
  std::lock_guard lock(impl.write_mutex);
  if (auto why = impl.ready_for_write(); !why.empty()) return why;
  rocksdb::DB& db = *impl.db;
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(old->NewIterator(rocksdb::ReadOptions()));
  const std::string prefix(audit_key_prefix);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string mine;
    s = db.Get(rocksdb::ReadOptions(), it->key(), &mine);
    if (s.ok()) continue;
    if (!s.IsNotFound()) return s.ToString();
    s = batch.Put(it->key(), it->value());
    if (!s.ok()) return s.ToString();
    ++copied;
  }
  if (!it->status().ok()) return it->status().ToString();
  it.reset();
  s = impl.write_checked(synced(), batch);
  return s.ok() ? std::string() : s.ToString();
}

}  // namespace pvc
