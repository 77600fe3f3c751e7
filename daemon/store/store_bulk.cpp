// Flushes of more than a few thousand keys go to RocksDB as SST files,
// ingested atomically.
//
// Why: a WriteBatch goes through RocksDB's memtable, a skip list, at 1-3 µs
// per entry on the 2-core bench machine even in key order (each comparison
// also reads RocksDB's thread-local perf context through __tls_get_addr); a
// flush of 1M dirty articles is 2M entries, so ~2 s. Written to an SST file
// in key order and ingested, the same entries take ~0.3 µs each, the ingest
// itself is a metadata change, and compacting the files later costs less
// than the inserts did (bench/RESULTS.md, store_options::bulk_flush_min_keys).
//
// What stays the same as store::apply: one atomic change holding every
// count, the site sums, the markers, the widget's keys and #flush_seq (an
// ingest lands whole or not at all), so the flusher's exactly-once rule
// holds unchanged. The file is synced before the ingest; RocksDB's log is
// not needed for it.
#include <fmt/ranges.h>
#include <rocksdb/sst_file_writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "core/store_keys.hpp"
#include "store/flush_rows.hpp"
#include "store/store_impl.hpp"

namespace pvc {
namespace {

// An SstFileWriter that takes the widget's keys (a few, any prefix) in
// among the counts, so that every key reaches the file in ascending order.
// It takes only the widget keys in [from, to) ("" = no bound): a flush
// writes two files with disjoint key ranges.
class sorted_file final : public flush_sink {
 public:
  sorted_file(const rocksdb::Options& o, const key_writes* extra, std::string_view from,
              std::string_view to)
      : writer_(rocksdb::EnvOptions(), o) {
    if (!extra) return;
    auto in_range = [&](std::string_view k) { return k >= from && (to.empty() || k < to); };
    for (const auto& [k, v] : extra->put)
      if (in_range(k)) extra_[k] = v;
    for (const auto& k : extra->erase)
      if (in_range(k)) extra_[k] = std::nullopt;  // a put and an erase of one key: the erase wins
    next_ = extra_.begin();
  }

  rocksdb::Status open(const std::string& path) { return writer_.Open(path); }
  // Whether it holds widget keys to write (RocksDB refuses an empty file).
  bool has_extras() const { return !extra_.empty(); }

  rocksdb::Status merge(std::string_view key, std::uint64_t n) override {
    if (auto s = extras_before(key); !s.ok()) return s;
    char v[8];
    keys::encode_count_to(v, n);
    return writer_.Merge(slice(key), rocksdb::Slice(v, 8));
  }

  rocksdb::Status put(std::string_view key, std::string_view value) override {
    if (auto s = extras_before(key); !s.ok()) return s;
    return writer_.Put(slice(key), slice(value));
  }

  rocksdb::Status finish() {
    if (auto s = extras_before({}); !s.ok()) return s;
    return writer_.Finish();
  }

 private:
  static rocksdb::Slice slice(std::string_view v) { return {v.data(), v.size()}; }

  // Writes the widget's keys that sort before `key` ("" = all that are left).
  rocksdb::Status extras_before(std::string_view key) {
    for (; next_ != extra_.end() && (key.empty() || next_->first < key); ++next_) {
      rocksdb::Status s =
          next_->second ? writer_.Put(next_->first, *next_->second) : writer_.Delete(next_->first);
      if (!s.ok()) return s;
    }
    return rocksdb::Status::OK();
  }

  rocksdb::SstFileWriter writer_;
  std::map<std::string, std::optional<std::string>, std::less<>> extra_;
  std::map<std::string, std::optional<std::string>, std::less<>>::iterator next_ = extra_.end();
};

// Runs a flush file step, turning an exception (memory running out while
// sorting or building keys) into a failed status: the flush then fails and
// is retried like one that met a disk error, instead of ending the process.
template <class Step>
rocksdb::Status guarded(Step&& step) {
  try {
    return step();
  } catch (const std::exception& e) {
    return rocksdb::Status::Aborted(e.what());
  }
}

}  // namespace

std::string store::apply_as_file(std::span<const delta_table* const> tables,
                                 std::uint64_t flush_seq, const key_writes* extra) {
  namespace fs = std::filesystem;
  // Two files with disjoint key ranges, written at the same time (the
  // writing is most of a large flush, and RocksDB's SstFileWriter is
  // single-threaded), ingested together in one call: RocksDB records one
  // ingestion in one manifest edit, so both land or neither does.
  const std::string stem =
      impl_->dir + "/" + std::string(bulk_file_prefix) + std::to_string(flush_seq);
  const std::string day_path = stem + "-d.sst", total_path = stem + "-t.sst";
  std::vector<std::string> files = {day_path};
  rocksdb::Status s;
  {
    // Under the write mutex from the disk check on: RocksDB writes the files.
    std::lock_guard lock(impl_->write_mutex);
    if (auto why = impl_->ready_for_write(); !why.empty()) return why;
    s = guarded([&] {
      const sorted_flush sorted = sort_flush(tables);
      sorted_file day_file(impl_->db_options, extra, "", "T");
      sorted_file total_file(impl_->db_options, extra, "T", "");
      // RocksDB refuses an empty file; the T range is empty only for a flush
      // of no counts and no widget keys there.
      const bool with_total = !sorted.rows.empty() || total_file.has_extras();
      auto write_total = [&] {
        return guarded([&] {
          const rocksdb::Status opened = total_file.open(total_path);
          if (!opened.ok()) return opened;
          const rocksdb::Status written = write_total_keys(total_file, sorted);
          return written.ok() ? total_file.finish() : written;
        });
      };
      rocksdb::Status total_status;
      std::jthread total_writer;  // joined before the locals it reads go, even on a throw
      if (with_total) {
        files.push_back(total_path);
        try {
          total_writer = std::jthread([&] { total_status = write_total(); });
        } catch (const std::system_error&) {
          // No thread to be had: the T file is written after the day file.
        }
      }
      rocksdb::Status day_status = day_file.open(day_path);
      if (day_status.ok()) day_status = write_day_keys(day_file, sorted, flush_seq);
      if (day_status.ok()) day_status = day_file.finish();
      if (total_writer.joinable()) {
        total_writer.join();
      } else if (with_total && day_status.ok()) {
        total_status = write_total();
      }
      if (!day_status.ok()) return day_status;
      if (!total_status.ok()) return total_status;
      rocksdb::IngestExternalFileOptions io;
      io.move_files = true;  // hard links: the files are in the data dir already
      const rocksdb::Status ingested = impl_->db->IngestExternalFile(files, io);
      impl_->note_write(ingested);
      return ingested;
    });
  }
  std::error_code ignored;
  fs::remove(day_path, ignored);
  fs::remove(total_path, ignored);
  if (s.ok())
    spdlog::debug("event=flush_ingested seq={} files={}", flush_seq, fmt::join(files, ","));
  return s.ok() ? std::string() : "writing the flush files: " + s.ToString();
}

void store::remove_stale_bulk_files(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(bulk_file_prefix) && name.ends_with(".sst")) {
      std::filesystem::remove(e.path(), ec);
    }
  }
}

}  // namespace pvc
