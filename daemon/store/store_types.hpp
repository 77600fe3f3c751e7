#pragma once
// Types of the store's operations beside counting: corrections, imports,
// exports, the audit journal, backups and restores (one header and .cpp each
// in store/: store_corrections, store_imports, store_exports, store_audit,
// store_backups). The figures it reads are core/figures.hpp.
//
// How they stay consistent with the flusher, which keeps merging deltas into
// the same keys: every admin write takes the store's write mutex, the one
// store::apply (each flush) takes too. Under it an operation reads the values
// it changes and writes absolute values (plus its audit record) in one
// WriteBatch; no flush can land between that read and that write, so no
// delta is lost, and the read is what decides whether a count would drop
// below zero (refused). Flushes that arrive meanwhile wait for one admin write
// (milliseconds); hits keep being counted in memory.
//
// Why a mutex and not merge operands only (a signed-delta or "set" operand):
// operands are stored, so a new operand encoding is an on-disk format change
// (an older pvcd could no longer read a store, or a backup, written by this
// one), and adjust must read anyway to refuse a negative result. Admin
// writes are rare; one mutex keeps the rule simple: every write that is not a
// flush's merge of deltas holds it (the widget's key writes too).
//
// Imports are staged under their own keys while the file arrives, then
// written by ingesting one SST file built from the staged rows: atomic (all
// rows become visible at once, or none), and memory stays flat for any file.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "admin/audit_log.hpp"
#include "core/calendar.hpp"
#include "core/import_csv.hpp"

namespace pvc {

// How an admin operation went. `kind` picks the HTTP status.
enum class admin_status : std::uint8_t {
  ok,
  bad_request,  // 400: the request contradicts the data (a count would go negative, ...)
  not_found,    // 404: nothing to change
  conflict,     // 409: the target exists (rename onto a counted article, ...)
  failed,       // 500: the store failed
};

struct admin_outcome {
  admin_status status = admin_status::ok;
  std::string message;  // one line, for errors
  std::string details;  // a JSON object saying what changed (also journaled)

  bool ok() const noexcept { return status == admin_status::ok; }
  static admin_outcome error(admin_status s, std::string m) { return {s, std::move(m), {}}; }
};

enum class import_mode : std::uint8_t { add, set };

// One parsed line of an import, and where it was in the file.
struct staged_row {
  import_row row;  // views into the caller's buffers
  std::uint64_t line = 0;
};

// One row of an export (owned strings: pages outlive the snapshot reads).
struct export_row {
  std::string site;
  std::string article;  // "" = the site's own counter
  std::uint64_t count = 0;
  import_period period = import_period::all_time;
  std::string period_key;
  std::string title;  // an article's all-time row: its title, "" when none

  import_row view() const { return {site, article, count, period, period_key, title}; }
};

struct export_filter {
  std::string site;    // "" = every site
  bool daily = false;  // also day and month counts
};

// A consistent view of the store for a paged export; released with the
// last reference.
struct store_snapshot;

// What a backup holds, as reported by the backup itself and by restore.
struct backup_info {
  std::uint32_t id = 0;
  std::int64_t created_unix = 0;
  std::uint64_t size_bytes = 0;
  std::uint32_t files = 0;
  std::string metadata;      // JSON written by pvcd at backup time
  std::string verify_error;  // set by verify_backups when the backup is damaged
};

// Totals of a whole store, for a backup's report and its verification.
struct store_summary {
  std::uint64_t flush_seq = 0;
  std::uint64_t counters = 0;       // T, D and M keys
  std::uint64_t article_views = 0;  // sum of every article's all-time total
  std::vector<std::pair<std::string, std::uint64_t>> sites;  // all-time total per site
};

}  // namespace pvc
