// The store's visitor state (salts, sketches, counts of finished periods,
// see core/widget_keys.hpp), and the generic key reads and writes it uses.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "core/store_keys.hpp"
#include "core/widget_keys.hpp"
#include "store/store.hpp"
#include "store/store_impl.hpp"

namespace pvc {

std::string store::read_visitor_state(day_number today,
                                      std::vector<std::pair<std::string, std::string>>& out) const {
  out.clear();
  auto keep = [&](std::string_view k, std::string_view v) { out.emplace_back(k, v); };
  std::string err = scan_prefix("K", keep);
  if (err.empty()) err = scan_prefix("V", keep);
  if (err.empty()) err = scan_prefix(keys::day_visitors(day_key(today - 1), ""), keep);
  return err;
}

std::string store::write_keys(const key_writes& writes) {
  rocksdb::WriteBatch batch;
  rocksdb::Status s;
  for (const auto& [k, v] : writes.put)
    if (s.ok()) s = batch.Put(k, v);
  for (const auto& k : writes.erase)
    if (s.ok()) s = batch.Delete(k);
  if (!s.ok()) return "building the batch: " + s.ToString();
  rocksdb::WriteOptions wo;
  wo.sync = impl_->options.sync;
  // These keys are not counts, but taking the mutex keeps one rule for every
  // write that is not a flush (see store_impl.hpp).
  std::lock_guard lock(impl_->write_mutex);
  s = impl_->write(wo, batch);
  return s.ok() ? std::string() : s.ToString();
}

std::string store::scan_prefix(
    std::string_view prefix,
    const std::function<void(std::string_view key, std::string_view value)>& fn,
    bool fill_cache) const {
  auto db = impl_->read();
  if (!db) return impl::closed_error;
  rocksdb::ReadOptions ro;
  ro.fill_cache = fill_cache;
  const rocksdb::Snapshot* snap = db->GetSnapshot();
  ro.snapshot = snap;
  std::string error;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
    const rocksdb::Slice p(prefix.data(), prefix.size());
    for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
      fn(it->key().ToStringView(), it->value().ToStringView());
    }
    if (!it->status().ok()) error = it->status().ToString();
  }
  db->ReleaseSnapshot(snap);
  return error;
}

}  // namespace pvc
