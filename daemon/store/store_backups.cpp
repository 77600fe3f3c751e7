// Backups (store_backups.hpp): checkpoints, summaries, and RocksDB's
// BackupEngine for backups, their listing and restores.
#include "store/store_backups.hpp"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/backup_engine.h>
#include <rocksdb/utilities/checkpoint.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "core/store_keys.hpp"
#include "store/store.hpp"
#include "store/store_admin_util.hpp"
#include "store/store_impl.hpp"

namespace pvc {

using store_admin_util::split_site_article;

std::string checkpoint_to(store& st, const std::string& dir) {
  auto& impl = store_access::of(st);
  // Between two flushes: the checkpoint holds whole flushes only, and the
  // summary read from it is exactly what was counted up to that flush.
  std::lock_guard lock(impl.write_mutex);
  if (auto why = impl.ready_for_write(); !why.empty()) return why;
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(impl.db.get(), &raw);
  if (!s.ok()) return s.ToString();
  std::unique_ptr<rocksdb::Checkpoint> cp(raw);
  s = cp->CreateCheckpoint(dir);  // flushes the memtable: a write
  impl.note_write(s);
  return s.ok() ? std::string() : s.ToString();
}

std::string summarize(const store& st, store_summary& out) {
  auto& impl = store_access::of(st);
  out = {};
  auto db = impl.read();
  if (!db) return impl.closed_error;
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view k = it->key().ToStringView();
    const char type = k.empty() ? '\0' : k[0];
    if (k == keys::flush_seq) {
      keys::decode_count(it->value().ToStringView(), out.flush_seq);
      continue;
    }
    if (type != 'D' && type != 'M' && type != 'T') continue;
    ++out.counters;
    if (type != 'T') continue;
    std::uint64_t v = 0;
    if (!keys::decode_count(it->value().ToStringView(), v)) return "not an 8-byte count";
    std::string_view site, article;
    bool has_article = false;
    split_site_article(k.substr(1), site, article, has_article);
    if (has_article) {
      out.article_views += v;
    } else {
      out.sites.emplace_back(site, v);
    }
  }
  return it->status().ok() ? std::string() : it->status().ToString();
}

std::string backup_to(store& st, const std::string& backup_dir, const std::string& metadata,
                      const std::atomic<bool>& cancel, backup_info& out) {
  auto& impl = store_access::of(st);
  rocksdb::BackupEngine* raw = nullptr;
  rocksdb::IOStatus s = rocksdb::BackupEngine::Open(rocksdb::Env::Default(),
                                                    rocksdb::BackupEngineOptions(backup_dir), &raw);
  if (!s.ok()) return "cannot open the backup directory " + backup_dir + ": " + s.ToString();
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);
  rocksdb::CreateBackupOptions o;
  o.flush_before_backup = true;
  // Called every few MB copied: lets a shutdown stop a long backup.
  o.progress_callback = [&] {
    if (cancel.load(std::memory_order_relaxed)) engine->StopBackup();
  };
  rocksdb::BackupID id = 0;
  {
    auto db = impl.read();
    if (!db) return impl.closed_error;
    s = engine->CreateNewBackupWithMetadata(o, db.get(), metadata, &id);
  }
  if (!s.ok()) return "backup failed: " + s.ToString();
  rocksdb::BackupInfo info;
  if (auto st = engine->GetBackupInfo(id, &info); !st.ok()) return st.ToString();
  out.id = info.backup_id;
  out.created_unix = info.timestamp;
  out.size_bytes = info.size;
  out.files = info.number_files;
  out.metadata = info.app_metadata;
  return {};
}

std::string list_backups(const std::string& backup_dir, std::uint32_t id, bool verify,
                         std::vector<backup_info>& out) {
  std::error_code ec;
  if (!std::filesystem::is_directory(std::filesystem::path(backup_dir) / "meta", ec)) {
    return backup_dir + " holds no pvcd backup (no meta/ directory)";
  }
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  rocksdb::IOStatus s = rocksdb::BackupEngineReadOnly::Open(
      rocksdb::Env::Default(), rocksdb::BackupEngineOptions(backup_dir), &raw);
  if (!s.ok()) return "cannot open the backups in " + backup_dir + ": " + s.ToString();
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw);
  std::vector<rocksdb::BackupInfo> infos;
  engine->GetBackupInfo(&infos);
  std::vector<rocksdb::BackupID> corrupt;
  engine->GetCorruptedBackups(&corrupt);
  for (const auto& i : infos) {
    if (id != 0 && i.backup_id != id) continue;
    backup_info b;
    b.id = i.backup_id;
    b.created_unix = i.timestamp;
    b.size_bytes = i.size;
    b.files = i.number_files;
    b.metadata = i.app_metadata;
    if (verify) {
      if (auto v = engine->VerifyBackup(i.backup_id, /*verify_with_checksum=*/true); !v.ok()) {
        b.verify_error = v.ToString();
      }
    }
    out.push_back(std::move(b));
  }
  for (rocksdb::BackupID c : corrupt) {
    if (id != 0 && c != id) continue;
    backup_info b;
    b.id = c;
    b.verify_error = "the backup's metadata is corrupt";
    out.push_back(std::move(b));
  }
  if (out.empty()) {
    return id != 0 ? fmt::format("{} holds no backup {}", backup_dir, id)
                   : backup_dir + " holds no backup";
  }
  std::sort(out.begin(), out.end(),
            [](const backup_info& a, const backup_info& b) { return a.id < b.id; });
  return {};
}

std::string restore_backup(const std::string& backup_dir, std::uint32_t id,
                           const std::string& target_dir) {
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  rocksdb::IOStatus s = rocksdb::BackupEngineReadOnly::Open(
      rocksdb::Env::Default(), rocksdb::BackupEngineOptions(backup_dir), &raw);
  if (!s.ok()) return "cannot open the backups in " + backup_dir + ": " + s.ToString();
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw);
  if (id == 0) {
    std::vector<rocksdb::BackupInfo> infos;
    engine->GetBackupInfo(&infos);
    for (const auto& i : infos)
      id = std::max<std::uint32_t>(id, i.backup_id);
    if (id == 0) return backup_dir + " holds no backup";
  }
  s = engine->RestoreDBFromBackup(rocksdb::RestoreOptions(), id, target_dir, target_dir);
  return s.ok() ? std::string() : "restore failed: " + s.ToString();
}

}  // namespace pvc
