// The store's defences against a failing disk.
//
// Debian 12's librocksdb (7.8) is built with assertions on: once one of its
// file writers has seen a failed write, the next use of that writer aborts
// the process. So pvcd keeps RocksDB away from a disk that fails:
//  * before each write, the data dir must take a small synced write of its
//    own (check_dir_writable): a full, read-only or failing disk is found
//    there, and the counts stay in memory for the next attempt;
//  * RocksDB's info log goes to spdlog, not to a LOG file in the data dir;
//  * after a write RocksDB did fail (the disk broke between the check and
//    the write, or under a background flush), RocksDB refuses every later
//    write until it is opened again: the next write reopens the store first.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "store/store_impl.hpp"

namespace pvc {
namespace {

class spdlog_logger final : public rocksdb::Logger {
 public:
  spdlog_logger() : rocksdb::Logger(rocksdb::InfoLogLevel::DEBUG_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    // RocksDB's INFO lines (every flush and compaction) are pvcd's debug.
    spdlog::level::level_enum to = level >= rocksdb::InfoLogLevel::ERROR_LEVEL ? spdlog::level::err
                                   : level == rocksdb::InfoLogLevel::WARN_LEVEL
                                       ? spdlog::level::warn
                                       : spdlog::level::debug;
    if (!spdlog::should_log(to)) return;
    char line[1024];
    std::vsnprintf(line, sizeof line, format, ap);
    // Every file a large flush ingests (store_bulk.cpp) draws this warning:
    // SstFileWriter in RocksDB 7.8 writes no unique id. Expected, so debug.
    if (to == spdlog::level::warn && std::strstr(line, "opened without unique ID")) {
      if (!spdlog::should_log(spdlog::level::debug)) return;
      to = spdlog::level::debug;
    }
    spdlog::log(to, "event=rocksdb message=\"{}\"", line);
  }
};

// Rewritten and synced before each write: a disk that fails writes or syncs
// shows it here, where a failure costs nothing.
constexpr const char* probe_file = "/pvcd-write-probe";

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

std::string probe_write(const std::string& dir) {
  const std::string path = dir + probe_file;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return errno_text("cannot create a file");
  const auto now = std::chrono::system_clock::now().time_since_epoch().count();
  std::string error;
  if (::pwrite(fd, &now, sizeof now, 0) != static_cast<ssize_t>(sizeof now)) {
    error = errno_text("cannot write");
  } else if (::fdatasync(fd) != 0) {
    error = errno_text("cannot sync a write");
  }
  ::close(fd);
  return error;
}

bool stops_rocksdb(const rocksdb::Status& s) {
  // Errors about the request itself leave RocksDB working.
  return !s.ok() && !s.IsInvalidArgument() && !s.IsNotSupported() && !s.IsBusy() &&
         !s.IsTryAgain() && !s.IsAborted();
}

}  // namespace

std::shared_ptr<rocksdb::Logger> make_store_logger() {
  return std::make_shared<spdlog_logger>();
}

std::string check_dir_writable(const std::string& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return errno_text("cannot stat");
  if (st.f_flag & ST_RDONLY) return "the file system is read-only";
  const std::uint64_t free_bytes = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  if (free_bytes < store::free_space_reserve) {
    return "only " + std::to_string(free_bytes >> 20) + " MiB free, below the " +
           std::to_string(store::free_space_reserve >> 20) + " MiB reserve";
  }
  return probe_write(dir);
}

std::string store::impl::ready_for_write() {
  if (auto why = check_dir_writable(dir); !why.empty()) return why;
  if (stopped) return reopen();
  return {};
}

rocksdb::Status store::impl::write(const rocksdb::WriteOptions& wo, rocksdb::WriteBatch& batch) {
  if (auto why = ready_for_write(); !why.empty()) return rocksdb::Status::IOError(why);
  return write_checked(wo, batch);
}

rocksdb::Status store::impl::write_checked(const rocksdb::WriteOptions& wo,
                                           rocksdb::WriteBatch& batch) {
  rocksdb::Status s = db->Write(wo, &batch);
  note_write(s);
  return s;
}

void store::impl::note_write(const rocksdb::Status& s) {
  if (!stops_rocksdb(s) || stopped) return;
  stopped = true;
  spdlog::error("event=store_write_failed error=\"{}\" action=reopen_before_next_write",
                s.ToString());
}

std::string store::impl::reopen() {
  // Readers finish first; one holding a snapshot for long (a paged export)
  // makes this attempt give up, and the next write tries again.
  std::unique_lock lock(db_mutex, std::chrono::seconds(2));
  if (!lock.owns_lock()) return "the store waits for a reader to finish before it reopens";
  if (db) {
    {
      // Exports' snapshots, released here (store_impl.hpp).
      std::lock_guard snapshots_lock(snapshots_mutex);
      for (store_snapshot* s : snapshots) {
        if (s->snap) db->ReleaseSnapshot(s->snap);
        s->snap = nullptr;
      }
    }
    db->Close().PermitUncheckedError();
    db.reset();
  }
  // Never a new, empty store: a data dir swapped for an empty one under a
  // running pvcd must be an error, not a silent loss of every count.
  rocksdb::Options o = db_options;
  o.create_if_missing = false;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, dir, &raw);
  if (!s.ok()) {
    spdlog::error("event=store_reopen_failed dir={} error=\"{}\"", dir, s.ToString());
    return "reopening the store: " + s.ToString();
  }
  db.reset(raw);
  stopped = false;
  spdlog::warn("event=store_reopened dir={}", dir);
  return {};
}

}  // namespace pvc
