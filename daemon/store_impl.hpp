#pragma once
// The store's private state, shared by the files that implement store
// (store.cpp: counts; further store_*.cpp files: admin operations). Only
// those files include RocksDB.
#include <rocksdb/db.h>

#include <memory>
#include <mutex>
#include <string>

#include "store.hpp"

namespace pvc {

struct store::impl {
  std::string dir;
  store_options options;
  std::unique_ptr<rocksdb::DB> db;
  // Taken by every write that is not a plain merge of deltas-on-top: apply()
  // (each flush) and the admin operations, which read values and write
  // absolute ones. It keeps a flush from landing between such a read and its
  // write (see store_admin.hpp).
  std::mutex write_mutex;
};

}  // namespace pvc
