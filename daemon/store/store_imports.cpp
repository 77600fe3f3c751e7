// Imports (store_imports.hpp): staged rows under "#import/<session>/", then
// one SST file ingested atomically (why: store_types.hpp).
#include "store/store_imports.hpp"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/store_keys.hpp"
#include "store/store.hpp"
#include "store/store_admin_util.hpp"
#include "store/store_impl.hpp"

namespace pvc {

using namespace store_admin_util;

namespace {

// Staged import rows: "#import/<session>/<target key>" -> count (8 bytes) +
// file line (8 bytes); "#import/<session>/S<site>" -> "" (a site marker);
// "#import/<session>/N<site>\0<article>" -> the row's title (its T row,
// checked for duplicates, makes it unique).
// Beside #flush_seq in the '#' (pvcd's own) key space; never read as counts.
constexpr std::string_view import_prefix = "#import/";

std::string staging_prefix(std::string_view session) {
  std::string p(import_prefix);
  p += session;
  if (!session.empty()) p += '/';
  return p;
}

std::string target_key(const import_row& r) {
  switch (r.period) {
    case import_period::all_time:
      return r.site_counter() ? keys::site_total(r.site) : keys::article_total(r.site, r.article);
    case import_period::day:
      return r.site_counter() ? keys::site_day(r.period_key, r.site)
                              : keys::article_day(r.period_key, r.site, r.article);
    case import_period::month:
      return keys::site_month(r.period_key, r.site);
  }
  return {};
}

}  // namespace

admin_outcome stage_import(store& st, std::string_view session, std::span<const staged_row> rows) {
  if (session.empty()) return admin_outcome::error(admin_status::bad_request, "no session");
  auto& impl = store_access::of(st);
  std::lock_guard lock(impl.write_mutex);
  if (auto why = impl.ready_for_write(); !why.empty()) return store_failed(why);
  rocksdb::DB& db = *impl.db;
  const std::string prefix = staging_prefix(session);
  rocksdb::WriteBatch batch;
  // Rows of this chunk, by counter: the batch is not readable before it is
  // written, so duplicates within the chunk are found here.
  std::unordered_map<std::string, std::uint64_t> chunk_lines;
  for (const staged_row& r : rows) {
    std::string key = prefix + target_key(r.row);
    std::uint64_t first_line = 0;
    if (auto it = chunk_lines.find(key); it != chunk_lines.end()) {
      first_line = it->second;
    } else {
      std::string value;
      rocksdb::Status s = db.Get(rocksdb::ReadOptions(), key, &value);
      if (s.ok()) {
        if (value.size() != 16 ||
            !keys::decode_count(std::string_view(value).substr(8), first_line)) {
          return store_failed(rocksdb::Status::Corruption("bad staged import row"));
        }
      } else if (!s.IsNotFound()) {
        return store_failed(s);
      }
    }
    if (first_line != 0) {
      return admin_outcome::error(
          admin_status::bad_request,
          fmt::format("line {}: a second row for the counter of line {}", r.line, first_line));
    }
    rocksdb::Status s =
        batch.Put(key, keys::encode_count(r.row.count) + keys::encode_count(r.line));
    if (s.ok()) s = batch.Put(prefix + keys::site_marker(r.row.site), "");
    if (s.ok() && !r.row.title.empty()) {
      s = batch.Put(prefix + keys::article_title(r.row.site, r.row.article), r.row.title);
    }
    if (!s.ok()) return store_failed(s);
    chunk_lines.emplace(std::move(key), r.line);
  }
  rocksdb::WriteOptions wo;
  wo.sync = false;  // staged rows are disposable until the commit
  rocksdb::Status s = impl.write_checked(wo, batch);
  if (!s.ok()) return store_failed(s);
  return {};
}

admin_outcome commit_import(
    store& st, std::string_view session, import_mode mode, const audit_entry& audit,
    const std::function<void(std::string_view site, std::string_view article)>& on_article,
    const std::function<void(std::string_view site, std::string_view article,
                             std::string_view title, std::int64_t set_at)>& on_title) {
  if (session.empty()) return admin_outcome::error(admin_status::bad_request, "no session");
  auto& impl = store_access::of(st);
  // Held through the three passes; a flush waits (ingest goes on).
  std::unique_lock lock(impl.write_mutex);
  if (auto why = impl.ready_for_write(); !why.empty()) return store_failed(why);
  rocksdb::DB& db = *impl.db;
  const std::string prefix = staging_prefix(session);
  const std::string end = prefix_end(prefix);
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;

  // Pass 1: what the file holds, for the journal (whose record sorts first
  // in the file written below, so it must be complete before the rows).
  std::uint64_t rows = 0, site_rows = 0, article_rows = 0, day_rows = 0, month_rows = 0, titles = 0;
  std::vector<std::string> sites;
  {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(ro));
    for (it->Seek(prefix); it->Valid() && it->key().ToStringView() < end; it->Next()) {
      const std::string_view target = it->key().ToStringView().substr(prefix.size());
      if (target.empty()) continue;
      switch (target[0]) {
        case 'S':
          sites.emplace_back(target.substr(1));
          continue;
        case 'N':
          ++titles;  // beside its article's row, not a row of its own
          continue;
        case 'D':
          ++day_rows;
          break;
        case 'M':
          ++month_rows;
          break;
        default:
          (target.find(keys::sep) == std::string_view::npos ? site_rows : article_rows) += 1;
          break;
      }
      ++rows;
    }
    if (!it->status().ok()) return store_failed(it->status());
  }
  if (rows == 0) {
    return admin_outcome::error(admin_status::bad_request, "the import holds no rows");
  }
  boost::json::array journaled_sites;
  for (std::size_t i = 0; i < sites.size() && i < 100; ++i)
    journaled_sites.emplace_back(sites[i]);
  const std::string details = boost::json::serialize(boost::json::object{
      {"mode", mode == import_mode::set ? "set" : "add"},
      {"rows", rows},
      {"site_rows", site_rows},
      {"article_rows", article_rows},
      {"day_rows", day_rows},
      {"month_rows", month_rows},
      {"sites", std::move(journaled_sites)},
      {"titles", titles},
  });
  audit_entry e = audit;
  e.details = details;

  // Pass 2: one SST file with every row as a Put (set) or a Merge (add) of
  // its counter, ingested atomically: all rows become visible at once, or
  // none. The file streams to disk, so memory stays flat for any size.
  const std::string sst = impl.dir + "/import-" + std::string(session) + ".sst";
  const std::int64_t titles_set_at = unix_us_now() / 1'000'000;
  rocksdb::Status s;
  {
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), db.GetOptions());
    s = writer.Open(sst);
    // The audit key ("#audit/...") sorts before every counter key (D, M, S, T).
    const std::int64_t t = next_audit_time(db);
    if (s.ok()) s = writer.Put(audit_key(t), format_audit_record(e, t));
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(ro));
    for (it->Seek(prefix); s.ok() && it->Valid() && it->key().ToStringView() < end; it->Next()) {
      const std::string_view target = it->key().ToStringView().substr(prefix.size());
      if (target.empty()) continue;
      if (target[0] == 'S') {
        s = writer.Put(target, "");
        continue;
      }
      if (target[0] == 'N') {  // a title replaces the old one, in either mode
        s = writer.Put(target, keys::encode_title(titles_set_at, it->value().ToStringView()));
        continue;
      }
      std::uint64_t count = 0;
      if (!keys::decode_count(it->value().ToStringView().substr(0, 8), count)) {
        s = rocksdb::Status::Corruption("bad staged import row");
        break;
      }
      const std::string v = keys::encode_count(count);
      s = mode == import_mode::set ? writer.Put(target, v) : writer.Merge(target, v);
    }
    if (s.ok()) s = it->status();
    if (s.ok()) s = writer.Finish();
    if (s.ok()) {
      rocksdb::IngestExternalFileOptions io;
      io.move_files = true;  // a hard link: the file is in the data dir already
      s = db.IngestExternalFile({sst}, io);
      impl.note_write(s);
    }
  }
  std::error_code ignored;
  std::filesystem::remove(sst, ignored);
  if (!s.ok()) return store_failed(s);

  // Pass 3: tell the caller about the sites and articles now counted.
  if (on_article || on_title) {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(ro));
    for (it->Seek(prefix); it->Valid() && it->key().ToStringView() < end; it->Next()) {
      const std::string_view target = it->key().ToStringView().substr(prefix.size());
      if (target.starts_with('S') && on_article) on_article(target.substr(1), {});
      if (target.starts_with('N') && on_title) {
        std::string_view site, article;
        bool has_article = false;
        split_site_article(target.substr(1), site, article, has_article);
        on_title(site, article, it->value().ToStringView(), titles_set_at);
      }
      if (!target.starts_with('T') || !on_article) continue;
      std::string_view site, article;
      bool has_article = false;
      split_site_article(target.substr(1), site, article, has_article);
      if (has_article) on_article(site, article);
    }
  }
  // The rows are in; staged copies that fail to go now are dropped at the
  // next start (discard_import("")), so this cannot undo the import.
  lock.unlock();
  [[maybe_unused]] const std::string leftover = discard_import(st, session);
  return {admin_status::ok, {}, details};
}

std::string discard_import(store& st, std::string_view session) {
  auto& impl = store_access::of(st);
  const std::string prefix = staging_prefix(session);
  rocksdb::WriteOptions wo;
  wo.sync = false;
  std::lock_guard lock(impl.write_mutex);
  if (auto why = impl.ready_for_write(); !why.empty()) return why;
  rocksdb::DB& db = *impl.db;
  rocksdb::Status s = db.DeleteRange(wo, db.DefaultColumnFamily(), prefix, prefix_end(prefix));
  impl.note_write(s);
  return s.ok() ? std::string() : s.ToString();
}

}  // namespace pvc
