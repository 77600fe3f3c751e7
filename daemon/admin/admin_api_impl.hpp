#pragma once
// admin_api's private state, shared by admin_api.cpp (routes, reads and
// corrections) and admin_jobs.cpp (the worker thread: jobs, imports,
// backups, ingest-rate samples).
#include <boost/json/value.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "admin/admin_api.hpp"
#include "core/hit_parser.hpp"
#include "core/reject_reason.hpp"
#include "read/reader.hpp"
#include "serve/routes.hpp"
#include "store/store.hpp"
#include "store/store_audit.hpp"
#include "store/store_backups.hpp"
#include "store/store_corrections.hpp"
#include "store/store_imports.hpp"

namespace pvc {

using steady = std::chrono::steady_clock;

// The fields of a form-encoded query, each allowed once.
class query_fields {
 public:
  explicit query_fields(std::string_view query) {
    for_each_form_field(query, [this](std::string_view name, std::string_view value) {
      for (const auto& f : fields_) {
        if (f.first == name) duplicate_ = name;
      }
      fields_.emplace_back(name, value);
    });
  }
  // The raw (still encoded) value; empty optional when absent.
  std::optional<std::string_view> raw(std::string_view name) const {
    for (const auto& f : fields_) {
      if (f.first == name) return f.second;
    }
    return std::nullopt;
  }
  std::string_view duplicate() const { return duplicate_; }

 private:
  std::vector<std::pair<std::string_view, std::string_view>> fields_;
  std::string_view duplicate_;
};

struct admin_job {
  std::string id;
  std::string kind;              // "import" or "backup"
  std::string state = "queued";  // queued, running, done, failed
  std::string error;
  boost::json::value result;  // an object when done
  std::int64_t queued_us = 0;
  std::int64_t finished_us = 0;
  // Runs on the worker thread; returns "" and sets result, or the error.
  std::function<std::string(boost::json::value& result)> run;
};

struct import_session {
  std::string id;
  import_mode mode = import_mode::add;
  audit_caller started_by;
  std::uint64_t next_line = 1;  // the file line the next chunk must start with
  std::uint64_t rows = 0;
  steady::time_point last_active;
  bool busy = false;        // a chunk is being staged
  bool committing = false;  // handed to a job: no more chunks
};

struct export_session {
  std::shared_ptr<export_cursor> cursor;
  steady::time_point last_active;
};

struct ingest_sample {
  steady::time_point at;
  std::array<std::uint64_t, transport_count> hits{};
  std::array<std::uint64_t, transport_count> views{};
};

struct admin_api::impl {
  impl(store& d, reader& r, counter_table& t, const flusher& f, token_fn tok);

  store& db;
  reader& reads;
  std::string count_changes_refused;                   // "" = allowed (refuse_count_changes)
  std::function<boost::json::object()> cluster_stats;  // empty = not cluster mode
  counter_table& table;
  const flusher& flush;
  token_fn token;
  title_table* titles = nullptr;  // set once before the routes run
  const std::chrono::system_clock::time_point started_at = std::chrono::system_clock::now();
  std::atomic<std::uint64_t> auth_refused{0};
  // When each I/O thread last logged a refusal (its own slot only).
  std::vector<steady::time_point> last_refusal_log;

  std::mutex mutex;  // guards everything below
  std::condition_variable wake;
  bool stopping = false;
  std::atomic<bool> cancel{false};  // asks a running backup to stop
  std::deque<std::shared_ptr<admin_job>> queue;
  std::shared_ptr<admin_job> running;
  std::deque<std::shared_ptr<admin_job>> recent;  // running, queued and the last finished
  std::uint64_t next_job = 1;
  std::optional<import_session> import;
  std::map<std::string, export_session, std::less<>> exports;
  // Sessions idle this long are dropped (checked once a second).
  struct idle_limits {
    steady::duration export_after = std::chrono::seconds(60);
    steady::duration import_after = std::chrono::minutes(10);
  } idle;
  std::deque<ingest_sample> samples;  // one a second, the last minute
  std::mt19937_64 random{std::random_device{}()};
  std::thread worker;

  std::string new_id();  // 16 hex digits; call under `mutex`
  ingest_sample sample_now() const;
  void run_worker();
  void expire_sessions();  // under `mutex`
  // Queues a job; returns its id. Under `mutex`.
  std::string submit(std::string kind, std::function<std::string(boost::json::value&)> run);
};

// Route handlers of admin_jobs.cpp.
void import_start(admin_api& api, admin_api::impl& m, const http_request_view& req,
                  std::string_view query, http_response& res, counter_shard& shard);
void import_chunk(admin_api& api, admin_api::impl& m, const http_request_view& req,
                  std::string_view query, http_response& res, counter_shard& shard);
void import_commit(admin_api& api, admin_api::impl& m, const http_request_view& req,
                   std::string_view query, http_response& res, counter_shard& shard);
void import_abort(admin_api& api, admin_api::impl& m, const http_request_view& req,
                  std::string_view query, http_response& res, counter_shard& shard);
void backup_start(admin_api& api, admin_api::impl& m, const http_request_view& req,
                  std::string_view query, http_response& res, counter_shard& shard);
void job_state(admin_api::impl& m, std::string_view query, http_response& res);

// Shared helpers (admin_api.cpp).
unsigned http_status_of(admin_status s);
// A decoded free-text field (reason, by, dir): false and a 400 when invalid.
bool text_field(const query_fields& q, std::string_view name, std::size_t max_bytes,
                std::string& out, http_response& res);
// A decoded id field; `required`: a 400 when absent.
bool id_field(const query_fields& q, std::string_view name, id_buffer& buf, std::string_view& out,
              http_response& res, bool required = true);
// A decimal field in lo..hi, `fallback` when absent.
bool number_field(const query_fields& q, std::string_view name, std::uint64_t lo, std::uint64_t hi,
                  std::uint64_t fallback, std::uint64_t& out, http_response& res);
void json_answer(http_response& res, unsigned status, const boost::json::value& body);
// Makes a changed key, and its site, known to the key caps and the site
// registry (admin_api.cpp).
void admit_key(counter_table& table, std::string_view site, std::string_view article);

}  // namespace pvc
