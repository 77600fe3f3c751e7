// Large flushes go to RocksDB as one SST file, ingested atomically.
//
// Why: a WriteBatch goes through RocksDB's memtable, a skip list, at about
// 1 µs per entry on the 2-core bench machine even in key order; a flush of
// 1M dirty articles is 2M entries, so ~2 s. Written to an SST file in key
// order and ingested, the same entries take ~0.3 µs each, and the ingest
// itself is a metadata change (bench/RESULTS.md).
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
#include <unordered_map>
#include <vector>

#include "core/hash.hpp"
#include "core/store_keys.hpp"
#include "store/store_impl.hpp"

namespace pvc {
namespace {

// One counter of a drained table, laid out for the sort: `day_site` and
// `head` decide almost every comparison without leaving the row (following
// the views into the tables for every comparison made the sort half of a
// 1M-key flush), and the row is small so the sort moves little.
struct row {
  std::uint64_t day_site;  // (day, site rank) as one integer in their order
  std::uint64_t head;      // 8 article bytes after the prefix all articles share, big-endian
  const char* article_data;
  std::uint32_t article_size;
  std::uint64_t n;

  static std::uint64_t pack(day_number day, std::uint32_t site) {
    // Flipping the sign bit orders negative days before positive ones.
    return (std::uint64_t{static_cast<std::uint32_t>(day) ^ 0x8000'0000u} << 32) | site;
  }
  day_number day() const {
    return static_cast<day_number>(static_cast<std::uint32_t>(day_site >> 32) ^ 0x8000'0000u);
  }
  std::uint32_t site() const { return static_cast<std::uint32_t>(day_site); }
  std::string_view article() const { return {article_data, article_size}; }
};

// Key order of (site, article), days apart or together, given the rows'
// common article prefix length.
struct row_order {
  std::size_t common;
  bool with_day;
  bool operator()(const row& a, const row& b) const {
    const std::uint64_t x = with_day ? a.day_site : a.site(), y = with_day ? b.day_site : b.site();
    if (x != y) return x < y;
    if (a.head != b.head) return a.head < b.head;
    return a.article().substr(common) < b.article().substr(common);
  }
};

std::uint64_t head_of(std::string_view article, std::size_t from) {
  std::uint64_t h = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    const std::size_t at = from + i;
    // Missing bytes read as 0, below every id byte: a shorter id sorts first.
    h = (h << 8) | (at < article.size() ? static_cast<unsigned char>(article[at]) : 0u);
  }
  return h;
}

// Every table's counters, sorted by day, site, article: the key order of the
// D range (the separator 0x00 sorts before every id byte, so (site, article)
// order is key order). `sites` holds the site of each rank.
struct sorted_rows {
  std::vector<row> rows;
  std::vector<std::string_view> sites;
  std::size_t common = 0;
};

sorted_rows collect_sorted(std::span<const delta_table* const> tables) {
  sorted_rows out;
  std::size_t total = 0;
  for (const delta_table* t : tables)
    total += t->size();
  out.rows.reserve(total);
  // Sites get ids in the order first seen. Rows come in hash order, but most
  // deployments count one site or a few, so a row's site is most often the
  // last row's: that is checked before the map.
  std::unordered_map<std::string_view, std::uint32_t> site_ids;
  std::string_view last_site;
  std::uint32_t last_id = 0;
  std::string_view first_article;
  std::size_t common = std::string_view::npos;
  for (const delta_table* t : tables) {
    t->for_each([&](std::string_view site, std::string_view article, std::uint64_t n) {
      if (!same_id(site, last_site) || out.sites.empty()) {
        const auto [it, added] =
            site_ids.emplace(site, static_cast<std::uint32_t>(out.sites.size()));
        if (added) out.sites.push_back(site);
        last_site = site;
        last_id = it->second;
      }
      out.rows.push_back({row::pack(t->day(), last_id), 0, article.data(),
                          static_cast<std::uint32_t>(article.size()), n});
      if (common == std::string_view::npos) {
        first_article = article;
        common = article.size();
      }
      std::size_t same = 0;
      const std::size_t limit = std::min(common, article.size());
      while (same < limit && article[same] == first_article[same])
        ++same;
      common = same;
    });
  }
  out.common = common == std::string_view::npos ? 0 : common;
  // Ids to ranks in site order.
  std::vector<std::uint32_t> by_rank(out.sites.size());
  for (std::uint32_t i = 0; i < by_rank.size(); ++i)
    by_rank[i] = i;
  std::sort(by_rank.begin(), by_rank.end(),
            [&](std::uint32_t a, std::uint32_t b) { return out.sites[a] < out.sites[b]; });
  std::vector<std::uint32_t> rank_of(by_rank.size());
  std::vector<std::string_view> ranked(by_rank.size());
  for (std::uint32_t r = 0; r < by_rank.size(); ++r) {
    rank_of[by_rank[r]] = r;
    ranked[r] = out.sites[by_rank[r]];
  }
  out.sites = std::move(ranked);
  constexpr std::size_t ahead = 16;  // the articles are spread over the tables' key bytes
  for (std::size_t i = 0; i < out.rows.size(); ++i) {
    if (i + ahead < out.rows.size()) __builtin_prefetch(out.rows[i + ahead].article_data);
    row& r = out.rows[i];
    r.day_site = row::pack(r.day(), rank_of[r.site()]);
    r.head = head_of(r.article(), out.common);
  }
  std::sort(out.rows.begin(), out.rows.end(), row_order{out.common, true});
  return out;
}

// An SstFileWriter that takes the widget's keys (a few, any prefix) in
// among the counts, so that every key reaches the file in ascending order.
// It takes only the widget keys in [from, to) ("" = no bound): a flush
// writes two files with disjoint key ranges.
class sorted_file {
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

  rocksdb::Status merge(std::string_view key, std::uint64_t n) {
    if (auto s = extras_before(key); !s.ok()) return s;
    char v[8];
    keys::encode_count_to(v, n);
    return writer_.Merge(slice(key), rocksdb::Slice(v, 8));
  }

  rocksdb::Status put(std::string_view key, std::string_view value) {
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

// Emits `rows` (sorted by site, then article; equal pairs adjacent) as
// <prefix><site> with the site's sum, then <prefix><site>0x00<article> for
// each article, equal pairs summed: the key order of the D and T ranges.
// on_site(site, sum) hears each site's sum as it is emitted.
template <class Emit, class OnSite>
rocksdb::Status emit_site_runs(std::span<const row> rows, std::span<const std::string_view> sites,
                               keys::key_buffer& key, Emit&& emit, OnSite&& on_site) {
  for (std::size_t i = 0; i < rows.size();) {
    const std::uint32_t rank = rows[i].site();
    const std::string_view site = sites[rank];
    std::size_t site_end = i;
    std::uint64_t site_sum = 0;
    for (; site_end < rows.size() && rows[site_end].site() == rank; ++site_end)
      site_sum += rows[site_end].n;
    on_site(site, site_sum);
    if (auto s = emit(key.site(site), site_sum); !s.ok()) return s;
    while (i < site_end) {
      const row& first = rows[i];
      std::uint64_t n = 0;
      for (; i < site_end && rows[i].head == first.head &&
             same_id(rows[i].article(), first.article());
           ++i)
        n += rows[i].n;
      if (auto s = emit(key.article(site, first.article()), n); !s.ok()) return s;
    }
  }
  return rocksdb::Status::OK();
}

// The keys before the T range: '#' (the flush sequence number), 'D' (per
// day, each site's sum, then its articles), 'M' (each site's sum per month)
// and 'S' (the site markers).
rocksdb::Status write_day_file(sorted_file& file, const sorted_rows& sorted,
                               std::uint64_t flush_seq) {
  const std::vector<row>& rows = sorted.rows;
  auto merge = [&](std::string_view key, std::uint64_t n) { return file.merge(key, n); };
  if (auto s = file.put(keys::flush_seq, keys::encode_count(flush_seq)); !s.ok()) return s;
  std::map<std::pair<std::string, std::string_view>, std::uint64_t> months;  // (YYYYMM, site)
  for (std::size_t i = 0; i < rows.size();) {
    const day_number day = rows[i].day();
    std::size_t day_end = i;
    while (day_end < rows.size() && rows[day_end].day() == day)
      ++day_end;
    std::string day_prefix = day_key(day);
    day_prefix.insert(day_prefix.begin(), 'D');
    keys::key_buffer day_key_buf(day_prefix);
    const std::span<const row> day_rows(rows.data() + i, day_end - i);
    const std::string month = month_key(day);
    auto add_to_month = [&](std::string_view site, std::uint64_t n) { months[{month, site}] += n; };
    if (auto s = emit_site_runs(day_rows, sorted.sites, day_key_buf, merge, add_to_month); !s.ok())
      return s;
    i = day_end;
  }
  for (const auto& [month_site, n] : months) {
    if (auto s = file.merge(keys::site_month(month_site.first, month_site.second), n); !s.ok())
      return s;
  }
  for (std::string_view site : sorted.sites) {  // in site order, each once
    if (auto s = file.put(keys::site_marker(site), ""); !s.ok()) return s;
  }
  return file.finish();
}

// The T range: all-time, every day's rows together.
rocksdb::Status write_total_file(sorted_file& file, const sorted_rows& sorted) {
  auto merge = [&](std::string_view key, std::uint64_t n) { return file.merge(key, n); };
  auto ignore = [](std::string_view, std::uint64_t) {};
  keys::key_buffer total_key("T");
  const std::vector<row>& rows = sorted.rows;
  rocksdb::Status s;
  if (rows.empty() || rows.front().day() == rows.back().day()) {
    s = emit_site_runs(rows, sorted.sites, total_key, merge, ignore);
  } else {
    // A flush that spans midnight: the same rows in (site, article) order,
    // on a copy, as the day file reads the day order at the same time.
    std::vector<row> by_site(rows);
    std::stable_sort(by_site.begin(), by_site.end(), row_order{sorted.common, false});
    s = emit_site_runs(by_site, sorted.sites, total_key, merge, ignore);
  }
  return s.ok() ? file.finish() : s;
}

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
      const sorted_rows sorted = collect_sorted(tables);
      sorted_file day_file(impl_->db_options, extra, "", "T");
      sorted_file total_file(impl_->db_options, extra, "T", "");
      // RocksDB refuses an empty file; the T range is empty only for a flush
      // of no counts and no widget keys there.
      const bool with_total = !sorted.rows.empty() || total_file.has_extras();
      auto write_total = [&] {
        return guarded([&] {
          const rocksdb::Status opened = total_file.open(total_path);
          return opened.ok() ? write_total_file(total_file, sorted) : opened;
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
      if (day_status.ok()) day_status = write_day_file(day_file, sorted, flush_seq);
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
