#include "store/store.hpp"

#include <rocksdb/db.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <vector>

#include "core/store_keys.hpp"
#include "store/flush_rows.hpp"
#include "store/store_impl.hpp"

namespace pvc {
namespace {

// Adds 8-byte little-endian counts. Associative, so RocksDB may combine
// operands in any grouping during compaction.
class count_add_operator final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& /*key*/, const rocksdb::Slice* existing,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger* /*logger*/) const override {
    std::uint64_t base = 0;
    std::uint64_t add = 0;
    if (existing && !keys::decode_count(existing->ToStringView(), base)) return false;
    if (!keys::decode_count(value.ToStringView(), add)) return false;
    *new_value = keys::encode_count(base + add);
    return true;
  }
  const char* Name() const override { return "pvc.count_add"; }
};

class batch_sink final : public flush_sink {
 public:
  explicit batch_sink(rocksdb::WriteBatch& batch) : batch_(batch) {}
  rocksdb::Status merge(std::string_view key, std::uint64_t n) override {
    char v[8];
    keys::encode_count_to(v, n);
    return batch_.Merge(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(v, 8));
  }
  rocksdb::Status put(std::string_view key, std::string_view value) override {
    return batch_.Put(rocksdb::Slice(key.data(), key.size()),
                      rocksdb::Slice(value.data(), value.size()));
  }

 private:
  rocksdb::WriteBatch& batch_;
};

}  // namespace

store::store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

store::~store() {
  if (impl_ && impl_->db) {
    // Make sure the log is on disk before closing (sync_writes=false leaves
    // it buffered); not after a failed write, whose log writer RocksDB must
    // not touch again (store_health.cpp).
    if (!impl_->stopped) impl_->db->FlushWAL(true).PermitUncheckedError();
    impl_->db->Close().PermitUncheckedError();
  }
}

const std::string& store::dir() const noexcept {
  return impl_->dir;
}

std::unique_ptr<store> store::open(const std::string& dir, const store_options& options,
                                   std::string& error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    error = "data_dir: cannot create " + dir + ": " + ec.message();
    return nullptr;
  }
  rocksdb::Options o;
  o.create_if_missing = true;
  o.merge_operator = std::make_shared<count_add_operator>();
  o.IncreaseParallelism(2);
  o.max_background_jobs = 2;
  // Counters are tiny; a modest memtable keeps RSS predictable.
  o.write_buffer_size = 32u << 20;
  o.info_log = make_store_logger();
  if (auto why = check_dir_writable(dir); !why.empty()) {
    error = "data_dir: " + dir + ": " + why;
    return nullptr;
  }
  remove_stale_bulk_files(dir);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, dir, &raw);
  if (!s.ok()) {
    error = "data_dir: cannot open the store in " + dir + ": " + s.ToString();
    return nullptr;
  }
  auto p = std::make_unique<impl>();
  p->dir = dir;
  p->options = options;
  p->db_options = o;
  p->db.reset(raw);
  return std::unique_ptr<store>(new store(std::move(p)));
}

std::string store::apply(std::span<const delta_table* const> tables, std::uint64_t flush_seq,
                         const key_writes* extra) {
  std::size_t expected = 0;
  for (const delta_table* t : tables)
    expected += t->size();
  if (expected >= impl_->options.bulk_flush_min_keys)
    return apply_as_file(tables, flush_seq, extra);
  // Two merges per article plus a few per site; ~48 bytes each for short ids.
  rocksdb::WriteBatch batch(expected * 2 * 48 + 4096);
  // In key order: RocksDB's memtable (a skip list) inserts a run of
  // ascending keys next to the previous one, where the tables' hash order
  // costs a search from the top each (BM_flush_1M_keys: 15.3 s unsorted,
  // 3.6 s sorted). Sorted together, a key that several threads counted is
  // one merge, not one per thread.
  batch_sink sink(batch);
  const sorted_flush sorted = sort_flush(tables);
  rocksdb::Status s = write_day_keys(sink, sorted, flush_seq);
  if (s.ok()) s = write_total_keys(sink, sorted);
  if (extra) {
    for (const auto& [k, v] : extra->put)
      if (s.ok()) s = batch.Put(k, v);
    for (const auto& k : extra->erase)
      if (s.ok()) s = batch.Delete(k);
  }
  if (!s.ok()) return "building the batch: " + s.ToString();
  rocksdb::WriteOptions wo;
  wo.sync = impl_->options.sync;
  {
    // Admin writes read-then-write under this mutex: no flush lands in between.
    std::lock_guard lock(impl_->write_mutex);
    s = impl_->write(wo, batch);
  }
  if (!s.ok()) return s.ToString();
  return {};
}

std::string store::ready_for_write() {
  std::lock_guard lock(impl_->write_mutex);
  return impl_->ready_for_write();
}

bool store::last_flush_seq(std::uint64_t& out) const {
  auto db = impl_->read();
  if (!db) return false;
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), keys::flush_seq, &value);
  if (s.IsNotFound()) {
    out = 0;
    return true;
  }
  return s.ok() && keys::decode_count(value, out);
}

std::vector<std::string> store::sites() const {
  std::vector<std::string> out;
  auto db = impl_->read();
  if (!db) return out;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("S"); it->Valid() && it->key().starts_with("S"); it->Next()) {
    out.emplace_back(it->key().ToStringView().substr(1));
  }
  return out;
}

std::string store::for_each_article(
    const std::function<void(std::string_view site, std::string_view article)>& fn) const {
  auto db = impl_->read();
  if (!db) return impl::closed_error;
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // one pass over everything: keep the block cache for readers
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
  for (it->Seek("T"); it->Valid() && it->key().starts_with("T"); it->Next()) {
    const std::string_view k = it->key().ToStringView().substr(1);
    const std::size_t sep = k.find(keys::sep);
    if (sep != std::string_view::npos) fn(k.substr(0, sep), k.substr(sep + 1));
  }
  return it->status().ok() ? std::string() : it->status().ToString();
}

}  // namespace pvc
