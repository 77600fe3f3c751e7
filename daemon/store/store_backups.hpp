#pragma once
// Backups (store_backups.cpp): a checkpoint (hard links, a consistent point
// between two flushes) in `dir`, which must not exist; a summary of the
// counts; a RocksDB BackupEngine backup of a store into `backup_dir`; and,
// with no store open, listing and restoring those backups.
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "store/store_types.hpp"

namespace pvc {

class store;

std::string checkpoint_to(store& st, const std::string& dir);
std::string summarize(const store& st, store_summary& out);
std::string backup_to(store& st, const std::string& backup_dir, const std::string& metadata,
                      const std::atomic<bool>& cancel, backup_info& out);
// The backups in `backup_dir` (only `id` when non-zero), each checked
// against its checksums when `verify`.
std::string list_backups(const std::string& backup_dir, std::uint32_t id, bool verify,
                         std::vector<backup_info>& out);
// Restores backup `id` (0 = the latest) into `target_dir`, a fresh directory.
std::string restore_backup(const std::string& backup_dir, std::uint32_t id,
                           const std::string& target_dir);

}  // namespace pvc
