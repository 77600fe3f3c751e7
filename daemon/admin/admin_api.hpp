#pragma once
// The admin API behind pvctl, on the admin listener only (loopback by
// default; the public listener has none of these routes). JSON answers;
// errors are one text line with a 4xx/5xx status.
//
//   read (no token needed)
//   GET  /admin/v1/top?s=SITE&period=day|week|month|all&n=10
//   GET  /admin/v1/stats
//   GET  /admin/v1/export?[s=SITE&][daily=1&]limit=N[&cursor=C]   a page; its cursor asks the next
//   GET  /admin/v1/audit?since_us=T&limit=N[&after=K]              journal, oldest first
//   GET  /admin/v1/jobs?id=J                                         a background job's state
//
//   mutating (Authorization: Bearer TOKEN, or loopback when no token is set;
//   each takes by=NAME, who the caller says they are, for the journal)
//   POST /admin/v1/hit?s=&a=&n=                     (admin_routes.cpp)
//   POST /admin/v1/adjust?s=&a=&delta=[&day=YYYYMMDD]&reason=
//   POST /admin/v1/rename?s=&from=&to=[&reason=]
//   POST /admin/v1/merge?s=&from=&into=[&reason=]
//   POST /admin/v1/title?s=&a=&title=TEXT[&reason=]   title= empty: remove the title
//   POST /admin/v1/import/start?mode=add|set        -> {"import":ID}
//   POST /admin/v1/import/chunk?id=ID&line=N        body: whole lines of the file (<= 1 MiB)
//   POST /admin/v1/import/commit?id=ID[&reason=]    -> 202 {"job":J}
//   POST /admin/v1/import/abort?id=ID
//   POST /admin/v1/backup?dir=ABSOLUTE_DIR          -> 202 {"job":J}
//
// Imports arrive in chunks of bounded size: each chunk is parsed and staged
// in the store (invisible), the commit applies every staged row in one
// atomic write; a bad line ends the import with nothing applied. Neither
// side ever holds the whole file.
//
// Long operations (an import's commit, a backup) run as jobs on the admin
// worker thread, never on an I/O thread, so counting goes on meanwhile;
// pvctl polls /admin/v1/jobs. One job runs at a time. What does run on the
// I/O thread that took the request is short: a correction (a few reads and
// one write), an export or audit page, a top list (a scan of one site's
// keys), staging one import chunk (pvctl sends 256 KiB: a few ms).
//
// Thread-safety: handlers run on any I/O thread; state is behind a mutex
// (admin requests are rare: no lock is on the hit path).
#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "admin/audit_log.hpp"
#include "core/config_values.hpp"

namespace pvc {

class store;
class reader;
class counter_table;
class counter_shard;
class flusher;
class router;
class title_table;
struct http_request_view;
struct http_response;

class admin_api {
 public:
  // The live admin token of an I/O thread ("" = none configured).
  using token_fn = std::function<const std::string&(std::size_t thread)>;

  // Reads (top, export) go through `reads`; changes are written to `db`.
  admin_api(store& db, reader& reads, counter_table& table, const flusher& flush, token_fn token);
  ~admin_api();  // stops the worker: a running backup is asked to stop
  admin_api(const admin_api&) = delete;
  admin_api& operator=(const admin_api&) = delete;

  // How long an export or an import may sit idle before it is dropped
  // (default 60 s and 10 min). Tests shorten them.
  void set_idle_limits(std::chrono::milliseconds export_after,
                       std::chrono::milliseconds import_after);

  // The in-memory title table the title route keeps in step with the
  // store (caps, the beacons' change interval); null: no caps (unit tests).
  void set_titles(title_table* titles);

  // Registers the routes above (add_admin_routes calls it).
  void add_routes(router& r);

  // Cluster mode: the routes that rewrite stored counts (adjust, rename,
  // merge, import) answer 409 with `why`, as they would change only this
  // node's store and not the cluster's figures.
  void refuse_count_changes(std::string why);

  // Cluster mode: /admin/v1/stats gains a "cluster" object, built by `fill`
  // at each request (app/cluster_stats), so this API needs no cluster types.
  void set_cluster_stats(std::function<boost::json::object()> fill);

  // For mutating routes, before anything else: false when the caller is
  // refused (401/403 written to `res`). `caller` gets who it is.
  bool authorize(const http_request_view& req, std::string_view query, http_response& res,
                 counter_shard& shard, audit_caller* caller = nullptr);

  // Warns when the admin listener is reachable from beyond loopback.
  void listening_on(const endpoint& bound) const;

  // Reads an admin token file ("" = no token); "" or the error (naming the
  // file, never the token). Logs a warning when others may read the file.
  static std::string load_token(const std::string& path, std::string& token);

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace pvc
