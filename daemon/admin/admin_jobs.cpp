// The admin worker thread and what runs on it or feeds it: background jobs
// (an import's commit, a backup), import sessions (chunks staged as they
// arrive), expiry of idle sessions, and the ingest-rate samples of /stats.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>

#include "admin/admin_api_impl.hpp"
#include "core/counter_table.hpp"
#include "core/hash.hpp"
#include "core/title_table.hpp"
#include "version.hpp"

namespace pvc {
namespace {

// An import with no chunk for this long may be replaced by a new one; it
// is dropped after impl::idle_limits::import_after anyway (pvctl died
// mid-upload).
constexpr auto import_takeover_after = std::chrono::seconds(60);
// Jobs kept for /admin/v1/jobs after they end.
constexpr std::size_t recent_jobs = 32;
constexpr std::size_t max_queued_jobs = 4;

}  // namespace

std::string admin_api::impl::new_id() {
  return fmt::format("{:016x}", random());
}

ingest_sample admin_api::impl::sample_now() const {
  ingest_sample s;
  s.at = steady::now();
  for (std::size_t i = 0; i < table.shard_count(); ++i) {
    const shard_stats& st = table.shard(i).stats();
    for (std::size_t t = 0; t < transport_count; ++t) {
      s.hits[t] += st.hits_accepted[t].get();
      s.views[t] += st.views_accepted[t].get();
    }
  }
  return s;
}

std::string admin_api::impl::submit(std::string kind,
                                    std::function<std::string(boost::json::value&)> run_fn) {
  auto j = std::make_shared<admin_job>();
  j->id = fmt::format("j{}", next_job++);
  j->kind = std::move(kind);
  j->queued_us = unix_us_now();
  j->run = std::move(run_fn);
  queue.push_back(j);
  recent.push_back(j);
  while (recent.size() > recent_jobs && recent.front()->state != "queued" &&
         recent.front()->state != "running") {
    recent.pop_front();
  }
  wake.notify_all();
  return j->id;
}

void admin_api::impl::expire_sessions() {
  const auto now = steady::now();
  for (auto it = exports.begin(); it != exports.end();) {
    it = now - it->second.last_active > idle.export_after ? exports.erase(it) : std::next(it);
  }
  if (import && !import->busy && !import->committing &&
      now - import->last_active > idle.import_after) {
    spdlog::warn("event=import_expired import={} rows={} idle_s={}", import->id, import->rows,
                 std::chrono::duration_cast<std::chrono::seconds>(idle.import_after).count());
    if (auto err = discard_import(db, import->id); !err.empty()) {
      spdlog::warn("event=import_cleanup_failed error=\"{}\"", err);
    }
    import.reset();
  }
}

void admin_api::impl::run_worker() {
  std::unique_lock lock(mutex);
  auto next_sample = steady::now();
  while (!stopping) {
    wake.wait_until(lock, next_sample, [this] { return stopping || !queue.empty(); });
    if (stopping) break;
    if (steady::now() >= next_sample) {
      samples.push_back(sample_now());
      while (samples.size() > 1 &&
             samples.back().at - samples.front().at > std::chrono::seconds(60))
        samples.pop_front();
      expire_sessions();
      next_sample += std::chrono::seconds(1);
      if (next_sample < steady::now()) next_sample = steady::now() + std::chrono::seconds(1);
    }
    if (queue.empty()) continue;
    running = queue.front();
    queue.pop_front();
    running->state = "running";
    std::shared_ptr<admin_job> j = running;
    lock.unlock();
    boost::json::value result;
    std::string error;
    try {
      error = j->run(result);
    } catch (const std::exception& e) {
      error = std::string("unexpected: ") + e.what();
    }
    lock.lock();
    j->finished_us = unix_us_now();
    j->state = error.empty() ? "done" : "failed";
    j->error = std::move(error);
    j->result = std::move(result);
    j->run = nullptr;
    running.reset();
  }
}

void job_state(admin_api::impl& m, std::string_view query, http_response& res) {
  const query_fields q(query);
  const std::string_view id = q.raw("id").value_or("");
  std::lock_guard lock(m.mutex);
  for (const auto& j : m.recent) {
    if (j->id != id) continue;
    boost::json::object out{{"id", j->id},
                            {"kind", j->kind},
                            {"state", j->state},
                            {"queued", format_utc_microseconds(j->queued_us)}};
    if (j->finished_us) out["finished"] = format_utc_microseconds(j->finished_us);
    if (!j->error.empty()) out["error"] = j->error;
    if (!j->result.is_null()) out["result"] = j->result;
    return json_answer(res, 200, out);
  }
  res.text(404, "no such job (jobs are kept until 32 newer ones have ended)");
}

// ---- import ----------------------------------------------------------------------

namespace {

// The session named by id=, under the mutex; a 404/409 otherwise.
import_session* find_import(admin_api::impl& m, const query_fields& q, http_response& res) {
  const std::string_view id = q.raw("id").value_or("");
  if (!m.import || m.import->id != id) {
    res.text(404, "no such import (it was aborted, refused or expired); start again");
    return nullptr;
  }
  if (m.import->committing) {
    res.text(409, "the import is being committed");
    return nullptr;
  }
  if (m.import->busy) {
    res.text(409, "a chunk of this import is being staged; send one chunk at a time");
    return nullptr;
  }
  return &*m.import;
}

// Drops the session and its staged rows: nothing of it is ever applied.
void drop_import(admin_api::impl& m, const std::string& id) {
  if (auto err = discard_import(m.db, id); !err.empty()) {
    spdlog::warn("event=import_cleanup_failed error=\"{}\"", err);
  }
  std::lock_guard lock(m.mutex);
  if (m.import && m.import->id == id) m.import.reset();
}

}  // namespace

void import_start(admin_api& api, admin_api::impl& m, const http_request_view& req,
                  std::string_view query, http_response& res, counter_shard& shard) {
  audit_caller caller;
  if (!api.authorize(req, query, res, shard, &caller)) return;
  const query_fields q(query);
  const std::string_view mode_text = q.raw("mode").value_or("");
  if (mode_text != "add" && mode_text != "set") {
    return res.text(400, "bad_request: mode must be add or set");
  }
  std::string stale;
  std::string id;
  {
    std::lock_guard lock(m.mutex);
    if (m.import) {
      const bool idle = !m.import->busy && !m.import->committing &&
                        steady::now() - m.import->last_active > import_takeover_after;
      if (!idle) {
        return res.text(409, fmt::format("another import is in progress (started by \"{}\" from "
                                         "{}); try again when it ends",
                                         m.import->started_by.by, m.import->started_by.peer));
      }
      stale = m.import->id;
      m.import.reset();
    }
    id = m.new_id();
    import_session s;
    s.id = id;
    s.mode = mode_text == "set" ? import_mode::set : import_mode::add;
    s.started_by = caller;
    s.last_active = steady::now();
    m.import = std::move(s);
  }
  if (!stale.empty()) {
    spdlog::warn("event=import_replaced import={} reason=idle", stale);
    if (auto err = discard_import(m.db, stale); !err.empty()) {
      spdlog::warn("event=import_cleanup_failed error=\"{}\"", err);
    }
  }
  spdlog::info("event=import_started import={} mode={} by=\"{}\" peer={}", id, mode_text, caller.by,
               caller.peer);
  json_answer(res, 200, {{"import", id}});
}

void import_chunk(admin_api& api, admin_api::impl& m, const http_request_view& req,
                  std::string_view query, http_response& res, counter_shard& shard) {
  if (!api.authorize(req, query, res, shard)) return;
  const query_fields q(query);
  std::uint64_t line = 0;
  if (!number_field(q, "line", 1, UINT64_MAX / 2, 0, line, res)) return;
  std::string id;
  {
    std::lock_guard lock(m.mutex);
    import_session* s = find_import(m, q, res);
    if (!s) return;
    if (line != s->next_line) {
      return res.text(409, fmt::format("expected the chunk starting at line {}", s->next_line));
    }
    s->busy = true;
    id = s->id;
  }
  // Parse every line of the chunk; the first bad one ends the import.
  std::vector<staged_row> rows;
  std::deque<std::string> unquoted;  // ids that had to be unquoted (rare)
  import_scratch scratch;
  auto owned = [&](std::string_view v, const auto& buf) -> std::string_view {
    if (v.data() >= buf.data() && v.data() < buf.data() + buf.size()) {
      return unquoted.emplace_back(v);
    }
    return v;
  };
  std::string_view body = req.body;
  std::uint64_t n = line;
  std::string refusal;
  unsigned refusal_status = 400;  // the file's fault; 500 when the store failed
  while (!body.empty()) {
    const std::size_t lf = body.find('\n');
    const std::string_view text = body.substr(0, lf);
    body = lf == std::string_view::npos ? std::string_view{} : body.substr(lf + 1);
    const import_line_result r = parse_import_line(text, scratch, n == 1);
    if (r.kind == import_line_kind::error) {
      refusal = fmt::format("line {}: {}", n, r.reason);
      break;
    }
    if (r.kind == import_line_kind::row) {
      staged_row row{r.row, n};
      row.row.site = owned(r.row.site, scratch.site);
      row.row.article = owned(r.row.article, scratch.article);
      row.row.title = owned(r.row.title, scratch.title);
      rows.push_back(row);
    }
    ++n;
  }
  if (refusal.empty()) {
    const admin_outcome staged = stage_import(m.db, id, rows);
    if (!staged.ok()) {
      refusal = staged.message;
      refusal_status = http_status_of(staged.status);
    }
  }
  if (!refusal.empty()) {
    drop_import(m, id);
    spdlog::warn("event=import_refused import={} error=\"{}\"", id, refusal);
    return res.text(refusal_status, "import refused, nothing was changed: " + refusal);
  }
  std::lock_guard lock(m.mutex);
  if (!m.import || m.import->id != id) return res.text(404, "the import was aborted");
  m.import->busy = false;
  m.import->next_line = n;
  m.import->rows += rows.size();
  m.import->last_active = steady::now();
  json_answer(res, 200, {{"rows", rows.size()}, {"next_line", n}});
}

void import_commit(admin_api& api, admin_api::impl& m, const http_request_view& req,
                   std::string_view query, http_response& res, counter_shard& shard) {
  audit_entry e{"import", {}, {}, {}};
  if (!api.authorize(req, query, res, shard, &e.caller)) return;
  const query_fields q(query);
  if (!text_field(q, "reason", 500, e.reason, res)) return;
  std::string job;
  {
    std::lock_guard lock(m.mutex);
    import_session* s = find_import(m, q, res);
    if (!s) return;
    if (s->rows == 0) {
      const std::string id = s->id;
      m.import.reset();
      [[maybe_unused]] const std::string ignored = discard_import(m.db, id);
      return res.text(400, "import refused, nothing was changed: the file holds no rows");
    }
    if (m.queue.size() >= max_queued_jobs) return res.text(503, "too many jobs queued; try later");
    s->committing = true;
    const std::string id = s->id;
    const import_mode mode = s->mode;
    const std::uint64_t rows = s->rows;
    job = m.submit("import", [&m, id, mode, rows, e](boost::json::value& result) -> std::string {
      const auto started = steady::now();
      const admin_outcome r = commit_import(
          m.db, id, mode, e,
          [&m](std::string_view site, std::string_view article) {
            admit_key(m.table, site, article);
          },
          [&m](std::string_view site, std::string_view article, std::string_view title,
               std::int64_t set_at) {
            // Past a cap the title is stored and served, but not tracked.
            if (m.titles) m.titles->preload(site, article, title, set_at);
          });
      {
        std::lock_guard lock(m.mutex);
        if (m.import && m.import->id == id) m.import.reset();
      }
      if (!r.ok()) {
        [[maybe_unused]] const std::string ignored = discard_import(m.db, id);
        spdlog::error("event=import_failed import={} error=\"{}\"", id, r.message);
        return r.message;
      }
      spdlog::info(
          "event=admin_change action=import import={} rows={} by=\"{}\" peer={} ms={}", id, rows,
          e.caller.by, e.caller.peer,
          std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started).count());
      result = details_value(r.details);
      return {};
    });
  }
  json_answer(res, 202, {{"job", job}});
}

void import_abort(admin_api& api, admin_api::impl& m, const http_request_view& req,
                  std::string_view query, http_response& res, counter_shard& shard) {
  if (!api.authorize(req, query, res, shard)) return;
  const query_fields q(query);
  std::string id;
  {
    std::lock_guard lock(m.mutex);
    import_session* s = find_import(m, q, res);
    if (!s) return;
    id = s->id;
  }
  drop_import(m, id);
  spdlog::info("event=import_aborted import={}", id);
  json_answer(res, 200, {{"aborted", true}});
}

// ---- backup ----------------------------------------------------------------------

namespace {

// The backup job: a checkpoint of the store (hard links, taken between two
// flushes, so it is one consistent state), opened as a store of its own and
// backed up from there with RocksDB's BackupEngine. Flushes pause only for
// the checkpoint, never for the copy.
std::string run_backup(admin_api::impl& m, const std::string& job, const std::string& dir,
                       const audit_caller& caller, boost::json::value& result) {
  const auto started = steady::now();
  const std::string checkpoint = m.db.dir() + "/.backup-checkpoint-" + job;
  std::error_code ec;
  std::filesystem::remove_all(checkpoint, ec);
  if (auto err = checkpoint_to(m.db, checkpoint); !err.empty()) {
    return "checkpoint failed: " + err;
  }
  struct cleanup {
    std::string path;
    ~cleanup() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  } remove_checkpoint{checkpoint};
  std::string error;
  std::unique_ptr<store> copy = store::open(checkpoint, {.sync = false}, error);
  if (!copy) return "cannot open the checkpoint: " + error;
  store_summary sum;
  if (auto err = summarize(*copy, sum); !err.empty()) return "cannot read the checkpoint: " + err;

  boost::json::object sites;
  for (const auto& [site, views] : sum.sites)
    sites[site] = views;
  boost::json::object meta{{"pvcd", version},
                           {"created", format_utc_microseconds(unix_us_now())},
                           {"flush_seq", sum.flush_seq},
                           {"counters", sum.counters},
                           {"article_views", sum.article_views},
                           {"sites", std::move(sites)}};
  backup_info info;
  if (auto err = backup_to(*copy, dir, boost::json::serialize(meta), m.cancel, info); !err.empty())
    return err;
  copy.reset();
  result = {{"backup_id", info.id},
            {"dir", dir},
            {"size_bytes", info.size_bytes},
            {"files", info.files},
            {"metadata", std::move(meta)}};
  spdlog::info(
      "event=backup dir=\"{}\" backup_id={} flush_seq={} counters={} bytes={} by=\"{}\" peer={} "
      "ms={}",
      dir, info.id, sum.flush_seq, sum.counters, info.size_bytes, caller.by, caller.peer,
      std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started).count());
  return {};
}

}  // namespace

void backup_start(admin_api& api, admin_api::impl& m, const http_request_view& req,
                  std::string_view query, http_response& res, counter_shard& shard) {
  audit_caller caller;
  if (!api.authorize(req, query, res, shard, &caller)) return;
  const query_fields q(query);
  std::string dir;
  if (!text_field(q, "dir", 4096, dir, res)) return;
  if (dir.empty() || dir.front() != '/') {
    return res.text(400, "bad_request: dir= must be an absolute path on pvcd's machine");
  }
  std::error_code ec;
  const auto data = std::filesystem::weakly_canonical(m.db.dir(), ec);
  const auto target = std::filesystem::weakly_canonical(dir, ec);
  if (std::mismatch(data.begin(), data.end(), target.begin(), target.end()).first == data.end()) {
    return res.text(400, "bad_request: dir= is inside the data dir; back up elsewhere");
  }
  std::string job;
  {
    std::lock_guard lock(m.mutex);
    if (m.queue.size() >= max_queued_jobs) return res.text(503, "too many jobs queued; try later");
    const std::uint64_t number = m.next_job;  // the id submit() is about to give
    job = m.submit("backup", [&m, dir, caller, number](boost::json::value& result) {
      return run_backup(m, fmt::format("j{}", number), dir, caller, result);
    });
  }
  json_answer(res, 202, {{"job", job}});
}

}  // namespace pvc
