#pragma once
// The store's private state, shared by the files that implement store
// (store.cpp: counts; further store_*.cpp files: admin operations). Only
// those files include RocksDB.
#include <rocksdb/db.h>

#include <memory>
#include <string>

#include "store.hpp"

namespace pvc {

struct store::impl {
  std::string dir;
  store_options options;
  std::unique_ptr<rocksdb::DB> db;
};

}  // namespace pvc
