#pragma once
// The store's private state, shared by the files that implement store
// (store.cpp: counts; store_corrections.cpp, store_imports.cpp,
// store_exports.cpp, store_audit.cpp, store_backups.cpp: the admin roles;
// store_visitors.cpp: the widget's keys; store_health.cpp: the defences
// against a failing disk). Only those files include RocksDB.
//
// Two locks:
//  * write_mutex, taken by every write. It keeps a flush from landing between
//    an admin operation's read and its write (see store_types.hpp), and it
//    is the only way to `db` for a writer.
//  * db_mutex, held shared by every reader while it uses `db`, exclusively by
//    a reopen (which also holds write_mutex). RocksDB stops taking writes
//    after some disk errors until it is closed and opened again; that reopen
//    swaps `db` under readers' feet, hence this lock. Readers never take
//    write_mutex while they hold it, so the order is always write_mutex, then
//    db_mutex.
//
// Paged exports keep a RocksDB snapshot from one request to the next, on no
// thread in particular, so they hold no lock between pages: their snapshots
// are registered in `snapshots`, and a reopen releases them first (RocksDB
// must not close with snapshots outstanding); the export's next page then
// says to start again. Lock order: db_mutex, then snapshots_mutex.
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>

#include "store/store.hpp"

namespace pvc {

struct store::impl {
  std::string dir;
  store_options options;
  rocksdb::Options db_options;  // what open() used; a reopen uses them again
  std::mutex write_mutex;
  mutable std::shared_timed_mutex db_mutex;
  std::unique_ptr<rocksdb::DB> db;  // null only after a reopen failed
  bool stopped = false;             // under write_mutex: a write failed, reopen first
  // Mutable: snapshot() registers one from a const store, like a read.
  mutable std::mutex snapshots_mutex;
  mutable std::set<store_snapshot*> snapshots;  // live export snapshots, under snapshots_mutex

  // A reader's use of `db`: holds db_mutex shared. False when the store is
  // closed (a reopen failed); `closed_error` says so.
  class reading {
   public:
    explicit reading(const impl& i) : lock_(i.db_mutex), db_(i.db.get()) {}
    explicit operator bool() const noexcept { return db_ != nullptr; }
    rocksdb::DB* operator->() const noexcept { return db_; }
    rocksdb::DB& operator*() const noexcept { return *db_; }
    rocksdb::DB* get() const noexcept { return db_; }

   private:
    std::shared_lock<std::shared_timed_mutex> lock_;
    rocksdb::DB* db_;
  };
  reading read() const { return reading(*this); }
  static constexpr const char* closed_error =
      "the store is closed after a disk error; it reopens when the disk takes writes again";

  // Call with write_mutex held, before any write. "" when `db` may be written:
  // the data dir takes a small synced write (store_health.cpp) and, after a
  // failed write, the store was closed and opened again. Else why not.
  std::string ready_for_write();
  // With write_mutex held: ready_for_write(), then the write. A failure
  // marks the store for a reopen before the next write.
  rocksdb::Status write(const rocksdb::WriteOptions& wo, rocksdb::WriteBatch& batch);
  // The same, for a caller that has called ready_for_write() itself (it read
  // the store under the same lock before it built the batch).
  rocksdb::Status write_checked(const rocksdb::WriteOptions& wo, rocksdb::WriteBatch& batch);
  // With write_mutex held, after any other kind of write (an ingest, a range
  // delete): a failure marks the store for a reopen.
  void note_write(const rocksdb::Status& s);

 private:
  std::string reopen();
};

// The admin roles are free functions, not members (store.hpp says why the
// class keeps only counting and reads): this is their one way to the state.
struct store_access {
  static store::impl& of(store& s) noexcept { return *s.impl_; }
  static const store::impl& of(const store& s) noexcept { return *s.impl_; }
};

// A paged export's snapshot (see above). `snap` is null once a reopen
// released it; read and written under owner->snapshots_mutex.
struct store_snapshot {
  const store::impl* owner = nullptr;
  const rocksdb::Snapshot* snap = nullptr;
  ~store_snapshot();
};

// RocksDB's info log, sent to spdlog (store_health.cpp): no LOG file in the
// data dir, whose failed write during a disk outage would later abort the
// process inside Debian's RocksDB (built with assertions on).
std::shared_ptr<rocksdb::Logger> make_store_logger();

// "" when `dir` takes a write now, else why not: read-only, less free space
// than store::free_space_reserve, or a small write and fdatasync of a probe
// file failing (store_health.cpp).
std::string check_dir_writable(const std::string& dir);

}  // namespace pvc
