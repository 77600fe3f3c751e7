// The store's admin operations: corrections (adjust, rename,
// merge), imports, exports, the audit journal, backups and restores.
//
// Consistency with the flusher (see store_admin.hpp): writes that read
// before they write hold impl::write_mutex, which store::apply holds for
// each flush. Reads alone use a RocksDB snapshot or iterator (consistent on
// their own).
#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/utilities/backup_engine.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <unordered_map>

#include "core/json_text.hpp"
#include "core/store_keys.hpp"
#include "store/store.hpp"
#include "store/store_impl.hpp"

namespace pvc {

store_snapshot::~store_snapshot() {
  auto db = owner->read();
  std::lock_guard lock(owner->snapshots_mutex);
  owner->snapshots.erase(this);
  if (snap && db) db->ReleaseSnapshot(snap);
}

namespace {

// Staged import rows: "#import/<session>/<target key>" -> count (8 bytes) +
// file line (8 bytes); "#import/<session>/S<site>" -> "" (a site marker).
// Beside #flush_seq in the '#' (pvcd's own) key space; never read as counts.
constexpr std::string_view import_prefix = "#import/";

std::string staging_prefix(std::string_view session) {
  std::string p(import_prefix);
  p += session;
  if (!session.empty()) p += '/';
  return p;
}

// The first key after every key that starts with `prefix`.
std::string prefix_end(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff)
    prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

// The time for a new audit record: now, or just after the newest record if
// the clock is behind it, so keys stay unique and in order. Call under the
// write mutex.
std::int64_t next_audit_time(rocksdb::DB& db) {
  const std::int64_t now = unix_us_now();
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
  it->SeekForPrev(std::string(audit_key_prefix) + "g");  // past every hex digit
  std::int64_t last = 0;
  if (it->Valid() && parse_audit_key(it->key().ToStringView(), last) && last >= now) {
    return last + 1;
  }
  return now;
}

rocksdb::Status add_audit(rocksdb::DB& db, rocksdb::WriteBatch& batch, const audit_entry& e) {
  const std::int64_t t = next_audit_time(db);
  return batch.Put(audit_key(t), format_audit_record(e, t));
}

// Reads a count; a missing key reads as 0 with found=false.
rocksdb::Status read_count(rocksdb::DB& db, const std::string& key, std::uint64_t& v, bool& found,
                           const rocksdb::ReadOptions& ro = rocksdb::ReadOptions()) {
  std::string value;
  rocksdb::Status s = db.Get(ro, key, &value);
  v = 0;
  found = false;
  if (s.IsNotFound()) return rocksdb::Status::OK();
  if (!s.ok()) return s;
  if (!keys::decode_count(value, v)) return rocksdb::Status::Corruption("not an 8-byte count", key);
  found = true;
  return s;
}

admin_outcome store_failed(const std::string& why) {
  return admin_outcome::error(admin_status::failed, "store: " + why);
}

admin_outcome store_failed(const rocksdb::Status& s) {
  return store_failed(s.ToString());
}

rocksdb::WriteOptions synced() {
  rocksdb::WriteOptions wo;
  wo.sync = true;  // admin changes are rare and must survive a power cut
  return wo;
}

void append_kv(std::string& out, std::string_view key, std::string_view json_string_value) {
  if (out.size() > 1) out += ',';
  append_json_string(out, key);
  out += ':';
  append_json_string(out, json_string_value);
}

void append_kv(std::string& out, std::string_view key, std::uint64_t v) {
  if (out.size() > 1) out += ',';
  append_json_string(out, key);
  out += ':';
  append_json_number(out, v);
}

void append_change(std::string& out, std::string_view key, std::uint64_t before,
                   std::uint64_t after) {
  if (out.size() > 1) out += ',';
  append_json_string(out, key);
  out += fmt::format(":{{\"before\":{},\"after\":{}}}", before, after);
}

// "D<YYYYMMDD>..." -> the day; false for anything else.
bool day_of_key(std::string_view key, day_number& out) {
  if (key.size() < 9 || key[0] != 'D') return false;
  const auto day = parse_day_key(key.substr(1, 8));
  if (!day) return false;
  out = *day;
  return true;
}

// The first and last day with any daily counts; false when there are none.
bool day_range(rocksdb::DB& db, day_number& first, day_number& last, rocksdb::Status& s) {
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
  it->Seek("D");
  if (!it->Valid() || !day_of_key(it->key().ToStringView(), first)) {
    s = it->status();
    return false;
  }
  it->SeekForPrev("E");
  if (!it->Valid() || !day_of_key(it->key().ToStringView(), last)) {
    s = it->status();
    return false;
  }
  return true;
}

// Splits "site[\0article]".
void split_site_article(std::string_view rest, std::string_view& site, std::string_view& article,
                        bool& has_article) {
  const std::size_t sep = rest.find(keys::sep);
  has_article = sep != std::string_view::npos;
  site = rest.substr(0, sep);
  article = has_article ? rest.substr(sep + 1) : std::string_view{};
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

// ---- adjust, rename, merge -----------------------------------------------------

admin_outcome store::adjust(std::string_view site, std::string_view article, std::int64_t delta,
                            std::optional<day_number> day, const audit_entry& audit) {
  if (delta == 0) return admin_outcome::error(admin_status::bad_request, "delta must not be 0");
  struct target {
    const char* name;
    std::string key;
    std::uint64_t before = 0;
    std::uint64_t after = 0;
  };
  std::vector<target> targets = {{"article_total", keys::article_total(site, article)},
                                 {"site_total", keys::site_total(site)}};
  if (day) {
    const std::string d = day_key(*day);
    targets.push_back({"article_day", keys::article_day(d, site, article)});
    targets.push_back({"site_day", keys::site_day(d, site)});
    targets.push_back({"site_month", keys::site_month(month_key(*day), site)});
  }
  if (delta < -static_cast<std::int64_t>(max_import_count) ||
      delta > static_cast<std::int64_t>(max_import_count)) {
    return admin_outcome::error(admin_status::bad_request,
                                "delta must be within -9007199254740991..9007199254740991");
  }
  const std::uint64_t magnitude =
      static_cast<std::uint64_t>(delta < 0 ? -delta : delta);  // in range: checked above
  std::lock_guard lock(impl_->write_mutex);
  if (auto why = impl_->ready_for_write(); !why.empty()) return store_failed(why);
  rocksdb::DB& db = *impl_->db;
  rocksdb::WriteBatch batch;
  for (target& t : targets) {
    bool found = false;
    if (auto s = read_count(db, t.key, t.before, found); !s.ok()) return store_failed(s);
    if (delta < 0 && t.before < magnitude) {
      return admin_outcome::error(
          admin_status::bad_request,
          fmt::format("refused: {} is {}; subtracting {} would make it negative", t.name, t.before,
                      magnitude));
    }
    if (delta > 0 && t.before > UINT64_MAX - magnitude) {
      return admin_outcome::error(admin_status::bad_request, "refused: the count would overflow");
    }
    t.after = delta < 0 ? t.before - magnitude : t.before + magnitude;
    if (auto s = batch.Put(t.key, keys::encode_count(t.after)); !s.ok()) return store_failed(s);
  }
  std::string details = "{";
  append_kv(details, "site", site);
  append_kv(details, "article", article);
  details += fmt::format(",\"delta\":{}", delta);
  if (day) append_kv(details, "day", day_key(*day));
  for (const target& t : targets)
    append_change(details, t.name, t.before, t.after);
  details += '}';
  audit_entry e = audit;
  e.details = details;
  rocksdb::Status s = batch.Put(keys::site_marker(site), "");
  if (s.ok()) s = add_audit(db, batch, e);
  if (s.ok()) {
    s = impl_->write_checked(synced(), batch);
  }
  if (!s.ok()) return store_failed(s);
  return {admin_status::ok, {}, details};
}

namespace {

// Moves every count of `from` onto `to` (added to what `to` has) in `batch`.
// Call under the write mutex. Fills the numbers for the journal.
admin_outcome move_article(rocksdb::DB& db, rocksdb::WriteBatch& batch, std::string_view site,
                           std::string_view from, std::string_view to, bool to_must_be_new,
                           std::string& details) {
  if (from == to) {
    return admin_outcome::error(admin_status::bad_request, "the two article ids are the same");
  }
  std::uint64_t from_total = 0, to_total = 0;
  bool from_found = false, to_found = false;
  rocksdb::Status s = read_count(db, keys::article_total(site, from), from_total, from_found);
  if (s.ok()) s = read_count(db, keys::article_total(site, to), to_total, to_found);
  if (!s.ok()) return store_failed(s);
  if (!from_found) {
    return admin_outcome::error(admin_status::not_found,
                                fmt::format("{} has no counts on site {}", from, site));
  }
  if (to_must_be_new && to_found) {
    return admin_outcome::error(
        admin_status::conflict,
        fmt::format("{} already has counts on site {}; merge {} into it instead", to, site, from));
  }
  s = batch.Put(keys::article_total(site, to), keys::encode_count(from_total + to_total));
  if (s.ok()) s = batch.Delete(keys::article_total(site, from));

  // Daily history: every day between the first and the last stored day.
  std::uint64_t days_moved = 0;
  day_number first = 0, last = -1;
  rocksdb::Status range_status;
  if (s.ok() && !day_range(db, first, last, range_status)) {
    if (!range_status.ok()) return store_failed(range_status);
    last = first - 1;  // no daily counts at all
  }
  constexpr day_number days_per_read = 256;
  for (day_number start = first; s.ok() && start <= last; start += days_per_read) {
    const day_number end = std::min<day_number>(last, start + days_per_read - 1);
    std::vector<std::string> key_text;
    for (day_number d = start; d <= end; ++d) {
      const std::string dk = day_key(d);
      key_text.push_back(keys::article_day(dk, site, from));
      key_text.push_back(keys::article_day(dk, site, to));
    }
    std::vector<rocksdb::Slice> key_slices(key_text.begin(), key_text.end());
    std::vector<std::string> values;
    const std::vector<rocksdb::Status> got =
        db.MultiGet(rocksdb::ReadOptions(), key_slices, &values);
    for (std::size_t i = 0; s.ok() && i < key_text.size(); i += 2) {
      if (got[i].IsNotFound()) continue;
      if (!got[i].ok()) return store_failed(got[i]);
      if (!got[i + 1].ok() && !got[i + 1].IsNotFound()) return store_failed(got[i + 1]);
      std::uint64_t moved = 0, had = 0;
      if (!keys::decode_count(values[i], moved) ||
          (got[i + 1].ok() && !keys::decode_count(values[i + 1], had))) {
        return store_failed(rocksdb::Status::Corruption("not an 8-byte count", key_text[i]));
      }
      s = batch.Put(key_text[i + 1], keys::encode_count(moved + had));
      if (s.ok()) s = batch.Delete(key_text[i]);
      ++days_moved;
    }
  }
  if (!s.ok()) return store_failed(s);
  details = "{";
  append_kv(details, "site", site);
  append_kv(details, "from", from);
  append_kv(details, to_must_be_new ? "to" : "into", to);
  append_kv(details, "views_moved", from_total);
  append_kv(details, "days_moved", days_moved);
  append_change(details, to_must_be_new ? "to_total" : "into_total", to_total,
                from_total + to_total);
  details += '}';
  return {};
}

}  // namespace

admin_outcome store::rename_article(std::string_view site, std::string_view from,
                                    std::string_view to, const audit_entry& audit) {
  return move_article_counts(site, from, to, true, audit);
}

admin_outcome store::merge_articles(std::string_view site, std::string_view from,
                                    std::string_view into, const audit_entry& audit) {
  return move_article_counts(site, from, into, false, audit);
}

admin_outcome store::move_article_counts(std::string_view site, std::string_view from,
                                         std::string_view to, bool to_must_be_new,
                                         const audit_entry& audit) {
  std::lock_guard lock(impl_->write_mutex);
  if (auto why = impl_->ready_for_write(); !why.empty()) return store_failed(why);
  rocksdb::DB& db = *impl_->db;
  rocksdb::WriteBatch batch;
  std::string details;
  admin_outcome r = move_article(db, batch, site, from, to, to_must_be_new, details);
  if (!r.ok()) return r;
  audit_entry e = audit;
  e.details = details;
  rocksdb::Status s = add_audit(db, batch, e);
  if (s.ok()) {
    s = impl_->write_checked(synced(), batch);
  }
  if (!s.ok()) return store_failed(s);
  return {admin_status::ok, {}, details};
}

// ---- import --------------------------------------------------------------------

admin_outcome store::stage_import(std::string_view session, std::span<const staged_row> rows) {
  if (session.empty()) return admin_outcome::error(admin_status::bad_request, "no session");
  std::lock_guard lock(impl_->write_mutex);
  if (auto why = impl_->ready_for_write(); !why.empty()) return store_failed(why);
  rocksdb::DB& db = *impl_->db;
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
    if (!s.ok()) return store_failed(s);
    chunk_lines.emplace(std::move(key), r.line);
  }
  rocksdb::WriteOptions wo;
  wo.sync = false;  // staged rows are disposable until the commit
  rocksdb::Status s = impl_->write_checked(wo, batch);
  if (!s.ok()) return store_failed(s);
  return {};
}

admin_outcome store::commit_import(
    std::string_view session, import_mode mode, const audit_entry& audit,
    const std::function<void(std::string_view site, std::string_view article)>& on_article) {
  if (session.empty()) return admin_outcome::error(admin_status::bad_request, "no session");
  // Held through the three passes; a flush waits (ingest goes on).
  std::unique_lock lock(impl_->write_mutex);
  if (auto why = impl_->ready_for_write(); !why.empty()) return store_failed(why);
  rocksdb::DB& db = *impl_->db;
  const std::string prefix = staging_prefix(session);
  const std::string end = prefix_end(prefix);
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;

  // Pass 1: what the file holds, for the journal (whose record sorts first
  // in the file written below, so it must be complete before the rows).
  std::uint64_t rows = 0, site_rows = 0, article_rows = 0, day_rows = 0, month_rows = 0;
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
  std::string details = "{";
  append_kv(details, "mode", mode == import_mode::set ? "set" : "add");
  append_kv(details, "rows", rows);
  append_kv(details, "site_rows", site_rows);
  append_kv(details, "article_rows", article_rows);
  append_kv(details, "day_rows", day_rows);
  append_kv(details, "month_rows", month_rows);
  details += ",\"sites\":[";
  for (std::size_t i = 0; i < sites.size() && i < 100; ++i) {
    if (i) details += ',';
    append_json_string(details, sites[i]);
  }
  details += "]}";
  audit_entry e = audit;
  e.details = details;

  // Pass 2: one SST file with every row as a Put (set) or a Merge (add) of
  // its counter, ingested atomically: all rows become visible at once, or
  // none. The file streams to disk, so memory stays flat for any size.
  const std::string sst = impl_->dir + "/import-" + std::string(session) + ".sst";
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
      impl_->note_write(s);
    }
  }
  std::error_code ignored;
  std::filesystem::remove(sst, ignored);
  if (!s.ok()) return store_failed(s);

  // Pass 3: tell the caller about the sites and articles now counted.
  if (on_article) {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(ro));
    for (it->Seek(prefix); it->Valid() && it->key().ToStringView() < end; it->Next()) {
      const std::string_view target = it->key().ToStringView().substr(prefix.size());
      if (target.starts_with('S')) on_article(target.substr(1), {});
      if (!target.starts_with('T')) continue;
      std::string_view site, article;
      bool has_article = false;
      split_site_article(target.substr(1), site, article, has_article);
      if (has_article) on_article(site, article);
    }
  }
  // The rows are in; staged copies that fail to go now are dropped at the
  // next start (discard_import("")), so this cannot undo the import.
  lock.unlock();
  [[maybe_unused]] const std::string leftover = discard_import(session);
  return {admin_status::ok, {}, details};
}

std::string store::discard_import(std::string_view session) {
  const std::string prefix = staging_prefix(session);
  rocksdb::WriteOptions wo;
  wo.sync = false;
  std::lock_guard lock(impl_->write_mutex);
  if (auto why = impl_->ready_for_write(); !why.empty()) return why;
  rocksdb::DB& db = *impl_->db;
  rocksdb::Status s = db.DeleteRange(wo, db.DefaultColumnFamily(), prefix, prefix_end(prefix));
  impl_->note_write(s);
  return s.ok() ? std::string() : s.ToString();
}

// ---- export --------------------------------------------------------------------

std::shared_ptr<const store_snapshot> store::snapshot() const {
  auto s = std::make_shared<store_snapshot>();
  s->owner = impl_.get();
  auto db = impl_->read();
  if (!db) return nullptr;
  std::lock_guard lock(impl_->snapshots_mutex);
  s->snap = db->GetSnapshot();
  impl_->snapshots.insert(s.get());
  return s;
}

std::string store::export_rows(const store_snapshot& snap, const export_filter& filter,
                               std::string_view after_key, std::size_t limit,
                               std::vector<export_row>& out, std::string& next_key) const {
  next_key.clear();
  // While this read holds the store, no reopen can release the snapshot.
  auto db = impl_->read();
  if (!db) return impl::closed_error;
  {
    std::lock_guard lock(impl_->snapshots_mutex);
    if (!snap.snap) return "the store was reopened after a disk error; start the export again";
  }
  rocksdb::ReadOptions ro;
  ro.snapshot = snap.snap;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
  const std::string& only = filter.site;
  // Counters live under D (days), M (months) and T (all-time), in that key
  // order; other prefixes between them (site markers, the widget's keys)
  // are skipped with one seek.
  const std::string totals_start = "T" + only;
  if (after_key.empty()) {
    it->Seek(filter.daily ? std::string("D") : totals_start);
  } else {
    it->Seek(rocksdb::Slice(after_key.data(), after_key.size()));
    if (it->Valid() && it->key().ToStringView() == after_key) it->Next();
  }
  std::string last_key;
  while (it->Valid() && out.size() < limit) {
    const std::string_view k = it->key().ToStringView();
    // Unsigned: a prefix byte from 0x80 up must sort after T, not before D.
    const auto type = static_cast<unsigned char>(k.empty() ? '\0' : k[0]);
    if (type == 'D' || type == 'M') {
      if (!filter.daily) {
        it->Seek(totals_start);
        continue;
      }
      const std::size_t period_len = type == 'D' ? 8 : 6;
      if (k.size() < 2 + period_len) {
        it->Next();
        continue;
      }
      const std::string_view period = k.substr(1, period_len);
      std::string_view site, article;
      bool has_article = false;
      split_site_article(k.substr(1 + period_len), site, article, has_article);
      if (!only.empty() && site != only) {
        // Jump to the site's keys of this period, or past the period.
        std::string to(1, static_cast<char>(type));
        to += period;
        to += site < only ? only : std::string("\xff");
        it->Seek(to);
        continue;
      }
      if (type == 'M' && has_article) {
        it->Next();
        continue;
      }
      export_row row;
      if (!keys::decode_count(it->value().ToStringView(), row.count)) {
        return "not an 8-byte count at a " + std::string(1, static_cast<char>(type)) + " key";
      }
      row.site = site;
      row.article = article;
      row.period = type == 'D' ? import_period::day : import_period::month;
      row.period_key = period;
      out.push_back(std::move(row));
      last_key.assign(k);
      it->Next();
    } else if (type == 'T') {
      std::string_view site, article;
      bool has_article = false;
      split_site_article(k.substr(1), site, article, has_article);
      if (!only.empty() && site != only) {
        if (site > only) break;  // past the site's totals: done
        it->Seek(totals_start);
        continue;
      }
      export_row row;
      if (!keys::decode_count(it->value().ToStringView(), row.count)) {
        return "not an 8-byte count at a T key";
      }
      row.site = site;
      row.article = article;
      out.push_back(std::move(row));
      last_key.assign(k);
      it->Next();
    } else if (type < 'D') {
      it->Seek(filter.daily ? std::string("D") : totals_start);
    } else if (type < 'M') {
      it->Seek(filter.daily ? std::string("M") : totals_start);
    } else if (type < 'T') {
      it->Seek(totals_start);
    } else {
      break;  // past every counter
    }
  }
  if (!it->status().ok()) return it->status().ToString();
  if (out.size() == limit && it->Valid()) next_key = last_key;
  return {};
}

// ---- audit ---------------------------------------------------------------------

admin_outcome store::append_audit(const audit_entry& e) {
  std::lock_guard lock(impl_->write_mutex);
  if (auto why = impl_->ready_for_write(); !why.empty()) return store_failed(why);
  rocksdb::DB& db = *impl_->db;
  rocksdb::WriteBatch batch;
  rocksdb::Status s = add_audit(db, batch, e);
  if (s.ok()) {
    s = impl_->write_checked(synced(), batch);
  }
  if (!s.ok()) return store_failed(s);
  return {};
}

std::string store::read_audit(std::int64_t since_unix_us, std::string_view after_key,
                              std::size_t limit, std::vector<std::string>& records,
                              std::string& next_key) const {
  next_key.clear();
  auto db = impl_->read();
  if (!db) return impl::closed_error;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  std::string start = audit_key(std::max<std::int64_t>(since_unix_us, 0));
  if (!after_key.empty() && after_key > std::string_view(start)) start.assign(after_key);
  std::string last;
  for (it->Seek(start); it->Valid() && records.size() < limit; it->Next()) {
    const std::string_view k = it->key().ToStringView();
    std::int64_t t = 0;
    if (!k.starts_with(audit_key_prefix) || !parse_audit_key(k, t)) break;
    if (k == after_key) continue;
    records.emplace_back(it->value().ToStringView());
    last.assign(k);
  }
  if (!it->status().ok()) return it->status().ToString();
  if (records.size() == limit && it->Valid()) next_key = last;
  return {};
}

std::string store::copy_audit_from(const std::string& dir, std::uint64_t& copied) {
  copied = 0;
  rocksdb::Options o;
  rocksdb::DB* raw = nullptr;
  // Read-only: no merge operator needed, only audit records (plain values) are read.
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(o, dir, &raw);
  if (!s.ok()) return "cannot open " + dir + ": " + s.ToString();
  std::unique_ptr<rocksdb::DB> old(raw);
  std::lock_guard lock(impl_->write_mutex);
  if (auto why = impl_->ready_for_write(); !why.empty()) return why;
  rocksdb::DB& db = *impl_->db;
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(old->NewIterator(rocksdb::ReadOptions()));
  const std::string prefix(audit_key_prefix);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string mine;
    s = db.Get(rocksdb::ReadOptions(), it->key(), &mine);
    if (s.ok()) continue;
    if (!s.IsNotFound()) return s.ToString();
    s = batch.Put(it->key(), it->value());
    if (!s.ok()) return s.ToString();
    ++copied;
  }
  if (!it->status().ok()) return it->status().ToString();
  it.reset();
  s = impl_->write_checked(synced(), batch);
  return s.ok() ? std::string() : s.ToString();
}

// ---- backup and restore --------------------------------------------------------

std::string store::checkpoint_to(const std::string& dir) {
  // Between two flushes: the checkpoint holds whole flushes only, and the
  // summary read from it is exactly what was counted up to that flush.
  std::lock_guard lock(impl_->write_mutex);
  if (auto why = impl_->ready_for_write(); !why.empty()) return why;
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(impl_->db.get(), &raw);
  if (!s.ok()) return s.ToString();
  std::unique_ptr<rocksdb::Checkpoint> cp(raw);
  s = cp->CreateCheckpoint(dir);  // flushes the memtable: a write
  impl_->note_write(s);
  return s.ok() ? std::string() : s.ToString();
}

std::string store::summarize(store_summary& out) const {
  out = {};
  auto db = impl_->read();
  if (!db) return impl::closed_error;
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

std::string store::backup_to(const std::string& backup_dir, const std::string& metadata,
                             const std::atomic<bool>& cancel, backup_info& out) {
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
    auto db = impl_->read();
    if (!db) return impl::closed_error;
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

std::string store::list_backups(const std::string& backup_dir, std::uint32_t id, bool verify,
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

std::string store::restore_backup(const std::string& backup_dir, std::uint32_t id,
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
