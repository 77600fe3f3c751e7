// pvcd: wiring only. config -> store -> counter table -> I/O threads and
// listeners -> flusher -> wait for signals -> ordered shutdown:
//   stop the flusher's timer, stop accepting, let in-flight requests finish,
//   drain the UDP queues, final flush, close the store, exit 0.
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <thread>

#include "admin/admin_api.hpp"
#include "app/cluster_mode.hpp"
#include "app/cluster_stats.hpp"
#include "app/config.hpp"
#include "app/liveness.hpp"
#include "app/metrics.hpp"
#include "app/reloader.hpp"
#include "app/systemd.hpp"
#include "core/calendar.hpp"
#include "core/client_ip.hpp"
#include "core/counter_table.hpp"
#include "core/hash.hpp"
#include "core/key_guard.hpp"
#include "core/thread_name.hpp"
#include "core/title_table.hpp"
#include "flush/flusher.hpp"
#include "ingest/beacon_gates.hpp"
#include "ingest/beacon_titles.hpp"
#include "ingest/http_server.hpp"
#include "ingest/io_threads.hpp"
#include "ingest/per_thread.hpp"
#include "ingest/udp_listener.hpp"
#include "ingest/visitor_tracker.hpp"
#include "read/embedded_reader.hpp"
#include "read/top_lists.hpp"
#include "serve/routes.hpp"
#include "store/store.hpp"
#include "store/store_titles.hpp"
#include "version.hpp"

namespace {

void setup_logging(const std::string& level) {
  std::shared_ptr<spdlog::logger> logger;
  if (pvc::systemd::stderr_is_journal()) {
    // Under systemd: straight to the journal, with each line's priority.
    logger = std::make_shared<spdlog::logger>(
        "pvcd", std::make_shared<spdlog::sinks::systemd_sink_mt>("pvcd"));
    logger->set_pattern("%v");
  } else {
    logger = spdlog::stderr_logger_mt("pvcd");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z level=%l %v");
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);  // lines are rare; tests read them as they come
  spdlog::set_default_logger(logger);
}

// One line on stderr naming the key or path (and the journal's copy, with
// its priority, when running under systemd).
int fail_start(const std::string& message) {
  if (pvc::systemd::stderr_is_journal()) {
    spdlog::critical("event=start_failed error=\"{}\"", message);
  } else {
    std::fprintf(stderr, "pvcd: %s\n", message.c_str());
  }
  return 1;
}

int fd_for(const std::map<std::string, int>& fds, const char* name) {
  auto it = fds.find(name);
  return it == fds.end() ? -1 : it->second;
}

}  // namespace

int main(int argc, char** argv) {
  pvc::config_outcome outcome = pvc::load_config(argc, argv);
  if (!outcome.cfg) {
    std::fprintf(outcome.exit_code == 0 ? stdout : stderr, "%s\n", outcome.message.c_str());
    return outcome.exit_code;
  }
  pvc::config cfg = *outcome.cfg;  // SIGHUP updates the keys it applies
  setup_logging(cfg.log_level);

  // Before any thread exists: the zone is process-wide, and every thread
  // inherits the blocked signals, which only the main thread waits for.
  if (auto err = pvc::calendar::use_zone(cfg.timezone); !err.empty()) return fail_start(err);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  const std::map<std::string, int> inherited = pvc::systemd::take_listen_fds(cfg.admin.port);

  std::string error;
  auto db = pvc::store::open(cfg.data_dir, {cfg.sync_writes}, error);
  if (!db) return fail_start(error);

  pvc::site_registry sites(cfg.max_sites);
  for (const auto& s : db->sites())
    sites.preload(s);
  const auto now = std::chrono::system_clock::now();
  pvc::counter_table table(cfg.threads, sites, pvc::calendar::day_of(now));

  // Key caps: every article with stored counts is known and always counts.
  pvc::key_guard keys(cfg.max_tracked_keys, cfg.max_new_keys_per_second);
  {
    const auto started = std::chrono::steady_clock::now();
    error = db->for_each_article([&keys](std::string_view site, std::string_view article) {
      keys.preload(pvc::hash_key(site, article, pvc::process_hash_seed()));
    });
    if (!error.empty()) return fail_start("data_dir: cannot read the stored keys: " + error);
    spdlog::info("event=keys_loaded keys={} ms={}", keys.known(),
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count());
  }
  table.set_key_guard(&keys);

  pvc::io_threads io(cfg.threads);
  pvc::flusher flush(
      table, *db, [&io](std::size_t i, std::function<void()> fn) { io.run_on(i, std::move(fn)); },
      [] { return std::chrono::system_clock::now(); });
  // The read side: most-viewed lists and distinct visitors beside the store.
  pvc::visitor_options visitor_options;
  visitor_options.online_window =
      std::chrono::duration_cast<std::chrono::seconds>(cfg.online_window);
  visitor_options.dedupe_window =
      std::chrono::duration_cast<std::chrono::seconds>(cfg.dedupe_window);
  pvc::visitor_tracker visitors(table, cfg.threads, visitor_options);
  // Cluster mode: flushes also go to the outbox and on to the Redis Cluster,
  // visitors are hashed with the cluster's salts, and every read answers the
  // cluster's figures.
  std::unique_ptr<pvc::cluster_mode> cluster;
  if (!cfg.redis_cluster.empty()) {
    cluster = pvc::cluster_mode::open(cfg, *db, table, visitors.visitors(), error);
    if (!cluster) return fail_start(error);
    cluster->attach(flush);
    visitors.set_cluster_batch(&cluster->visits());
  }
  if (auto err = visitors.restore(*db); !err.empty()) return fail_start(err);
  pvc::top_lists tops(
      *db, [&table] { return table.current_day(); }, std::chrono::seconds(10));
  pvc::embedded_reader embedded_reads(*db, table, visitors.visitors(), tops);
  pvc::reader& reads = cluster ? cluster->reads() : embedded_reads;

  pvc::metrics stats(table, flush, reads);
  stats.set_cluster(cluster.get());
  flush.set_observer([&stats](double s, std::size_t, bool ok) { stats.observe_flush(s, ok); });

  pvc::route_context ctx{reads, table, [&stats] { return stats.render(); }};
  ctx.ready = [&flush, &cluster] {
    return !flush.stats().failing.load(std::memory_order_relaxed) &&
           !(cluster && cluster->box().full());
  };
  pvc::reloader reloads;

  // Client addresses: believe forwarding headers only from trusted proxies.
  pvc::trusted_proxies proxies;
  if (auto err = pvc::trusted_proxies::parse(cfg.trusted_proxies, proxies); !err.empty()) {
    return fail_start(err);
  }
  pvc::per_thread<pvc::trusted_proxies> live_proxies(
      cfg.threads, std::make_shared<const pvc::trusted_proxies>(std::move(proxies)));
  ctx.client_ip = [&live_proxies](const pvc::http_request_view& req, std::size_t shard,
                                  std::string& scratch) {
    return live_proxies.get(shard).client(req.peer, req.x_forwarded_for, req.forwarded, scratch);
  };
  reloads.on("trusted_proxies", [&](const pvc::config& fresh) -> std::string {
    pvc::trusted_proxies p;
    if (auto err = pvc::trusted_proxies::parse(fresh.trusted_proxies, p); !err.empty()) return err;
    live_proxies.publish(io, std::make_shared<const pvc::trusted_proxies>(std::move(p)));
    return {};
  });
  // Bots first: a crawler's beacon is refused (as a success) before any other check.
  pvc::bot_list bots;
  if (auto err = pvc::load_bot_list(cfg.bot_list_file, bots); !err.empty()) return fail_start(err);
  spdlog::info("event=bot_list patterns={} file={}", bots.size(),
               cfg.bot_list_file.empty() ? "built-in" : cfg.bot_list_file);
  pvc::per_thread<pvc::bot_list> live_bots(cfg.threads,
                                           std::make_shared<const pvc::bot_list>(std::move(bots)));
  pvc::bot_gate bot_check(
      [&live_bots](std::size_t shard) -> const pvc::bot_list& { return live_bots.get(shard); });
  ctx.gates.push_back(&bot_check);
  // Every SIGHUP re-reads the file, changed path or not.
  reloads.on_file("bot_list_file", [&](const pvc::config& fresh) -> std::string {
    pvc::bot_list b;
    if (auto err = pvc::load_bot_list(fresh.bot_list_file, b); !err.empty()) return err;
    spdlog::info("event=bot_list patterns={} file={}", b.size(),
                 fresh.bot_list_file.empty() ? "built-in" : fresh.bot_list_file);
    live_bots.publish(io, std::make_shared<const pvc::bot_list>(std::move(b)));
    return {};
  });
  // Optional beacon checks, cheapest refusal first.
  std::unique_ptr<pvc::signature_gate> signature;
  std::string beacon_secret;  // signed titles are checked with it too
  if (!cfg.beacon_secret_file.empty()) {
    if (auto err = pvc::signature_gate::load_secret(cfg.beacon_secret_file, beacon_secret);
        !err.empty()) {
      return fail_start(err);
    }
    signature = std::make_unique<pvc::signature_gate>(
        beacon_secret, [] { return std::chrono::system_clock::now(); });
    ctx.gates.push_back(signature.get());
  }
  std::unique_ptr<pvc::rate_limit_gate> rate_limit;
  if (cfg.rate_limit > 0) {
    rate_limit = std::make_unique<pvc::rate_limit_gate>(cfg.rate_limit, cfg.rate_limit_burst);
    ctx.gates.push_back(rate_limit.get());
  }
  // Visitors (distinct visitors, de-duplication) last, so a view the gate
  // remembers for de-duplication is one that is counted.
  ctx.gates.push_back(&visitors.gate());
  ctx.listeners.push_back(&visitors.listener());
  // Article titles: the in-memory checks (caps, change interval) over the
  // titles already stored; beacon titles ride with the flusher's batches.
  pvc::title_table titles(
      {cfg.max_titles, cfg.max_titles_per_site,
       std::chrono::duration_cast<std::chrono::seconds>(cfg.title_change_interval).count()});
  {
    std::size_t stored = 0, untracked = 0;
    error = pvc::for_each_title(*db, [&](std::string_view site, std::string_view article,
                                         std::string_view title, std::int64_t set_at) {
      ++stored;
      if (!titles.preload(site, article, title, set_at)) ++untracked;
      // Cluster mode: every stored title goes to the cluster again, where
      // only a newer one than it holds replaces its own.
      if (cluster) cluster->title_changed(site, article, title, set_at);
    });
    if (!error.empty()) return fail_start("data_dir: cannot read the stored titles: " + error);
    spdlog::info("event=titles_loaded titles={} past_caps={}", stored, untracked);
  }
  if (cluster) {
    titles.set_change_listener(
        [&cluster](std::string_view site, std::string_view article, std::string_view title,
                   std::int64_t at) { cluster->title_changed(site, article, title, at); });
  }
  const auto title_mode = pvc::parse_beacon_title_mode(cfg.beacon_titles);
  pvc::beacon_title_intake title_intake(
      title_mode.value_or(pvc::beacon_title_mode::off), titles, beacon_secret,
      [&live_proxies](std::size_t shard) -> const pvc::trusted_proxies& {
        return live_proxies.get(shard);
      },
      [] {
        return std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
      });
  ctx.beacon_title = [&title_intake](const pvc::hit& h, const pvc::http_request_view& req,
                                     std::string_view query, std::size_t shard) {
    title_intake.take(h, req, query, shard);
  };
  stats.set_titles([&titles, &title_intake] {
    pvc::title_figures f;
    f.tracked = titles.size();
    f.memory_bytes = titles.memory_bytes();
    f.max_titles = titles.limits().max_titles;
    f.refused = {
        {"off", title_intake.refused(pvc::beacon_title_refusal::off)},
        {"unsigned", title_intake.refused(pvc::beacon_title_refusal::unsigned_)},
        {"untrusted_peer", title_intake.refused(pvc::beacon_title_refusal::untrusted)},
        {"invalid", title_intake.refused(pvc::beacon_title_refusal::invalid)},
        {"too_soon", titles.refused(pvc::title_verdict::too_soon)},
        {"site_cap", titles.refused(pvc::title_verdict::site_full)},
        {"total_cap", titles.refused(pvc::title_verdict::all_full)},
    };
    return f;
  });
  flush.set_extra_writes({[&visitors, &titles](pvc::key_writes& out, pvc::day_number today) {
                            visitors.collect(out, today);
                            titles.collect(out);
                          },
                          [&visitors, &titles](bool ok) {
                            visitors.written(ok);
                            titles.written(ok);
                          }});
  // Which pages may read the counts (CORS); SIGHUP replaces the list.
  pvc::per_thread<std::vector<std::string>> live_cors(
      cfg.threads, std::make_shared<const std::vector<std::string>>(cfg.cors_origins));
  ctx.cors_origins = [&live_cors](std::size_t shard) -> const std::vector<std::string>& {
    return live_cors.get(shard);
  };
  reloads.on("cors_origins", [&](const pvc::config& fresh) -> std::string {
    live_cors.publish(io, std::make_shared<const std::vector<std::string>>(fresh.cors_origins));
    return {};
  });
  reloads.on("log_level", [](const pvc::config& fresh) -> std::string {
    spdlog::set_level(spdlog::level::from_str(fresh.log_level));
    return {};
  });
  // pvctl's admin API. Its token lives per I/O thread like the other
  // reloadable settings; every SIGHUP reads the token file again.
  std::string admin_token;
  if (auto err = pvc::admin_api::load_token(cfg.admin_token_file, admin_token); !err.empty()) {
    return fail_start(err);
  }
  pvc::per_thread<std::string> live_admin_token(
      cfg.threads, std::make_shared<const std::string>(std::move(admin_token)));
  reloads.on_file("admin_token_file", [&](const pvc::config& fresh) -> std::string {
    std::string token;
    if (auto err = pvc::admin_api::load_token(fresh.admin_token_file, token); !err.empty()) {
      return err;
    }
    live_admin_token.publish(io, std::make_shared<const std::string>(std::move(token)));
    return {};
  });
  pvc::admin_api admin_api(
      *db, reads, table, flush,
      [&live_admin_token](std::size_t i) -> const std::string& { return live_admin_token.get(i); });
  admin_api.set_titles(&titles);
  ctx.admin = &admin_api;
  if (cluster) {
    admin_api.refuse_count_changes(
        "cluster mode does not apply adjust, rename, merge or import to the cluster yet; run "
        "them on a single-node pvcd, or change the cluster's keys with redis-cli (README "
        "\"Running several nodes\")");
    admin_api.set_cluster_stats([&c = *cluster] { return pvc::cluster_stats(c); });
  }
  pvc::router public_routes(pvc::router::role::public_api, ctx);
  pvc::router admin_routes(pvc::router::role::admin, ctx);

  pvc::http_limits limits;
  limits.body_bytes = cfg.http_max_body;
  limits.idle_timeout = cfg.http_idle_timeout;
  limits.max_connections = cfg.http_max_connections;
  auto http = pvc::http_listener::start(io, cfg.http, public_routes, table, pvc::transport::http,
                                        limits, fd_for(inherited, "http"), error);
  if (!http) return fail_start("http: " + error);
  pvc::http_limits admin_limits = limits;
  admin_limits.body_bytes = 1u << 20;
  auto admin = pvc::http_listener::start(io, cfg.admin, admin_routes, table, pvc::transport::admin,
                                         admin_limits, fd_for(inherited, "admin"), error);
  if (!admin) return fail_start("admin: " + error);
  auto udp = pvc::udp_listener::start(io, cfg.udp, table, {cfg.udp_receive_buffer},
                                      fd_for(inherited, "udp"), error);
  if (!udp) return fail_start("udp: " + error);

  spdlog::info(
      "event=starting version={} revision={} threads={} data_dir={} timezone={} "
      "flush_interval_ms={} sites={}",
      pvc::version, pvc::revision, cfg.threads, cfg.data_dir, cfg.timezone,
      cfg.flush_interval.count(), sites.size());
  spdlog::info("event=listening transport=http address={} from={}",
               pvc::format_endpoint(http->bound()), inherited.count("http") ? "systemd" : "bind");
  spdlog::info("event=listening transport=udp address={} from={}",
               pvc::format_endpoint(udp->bound()), inherited.count("udp") ? "systemd" : "bind");
  spdlog::info("event=listening transport=admin address={} from={}",
               pvc::format_endpoint(admin->bound()), inherited.count("admin") ? "systemd" : "bind");
  admin_api.listening_on(admin->bound());

  io.start();
  std::thread flush_thread([&] {
    pvc::name_this_thread("pvcd-flush");
    flush.run(cfg.flush_interval);
  });
  pvc::liveness_reporter liveness(io, table);
  liveness.start();
  if (cluster) {
    cluster->start();
  } else {
    tops.start();
  }
  pvc::systemd::notify("READY=1\nSTATUS=counting");
  spdlog::info("event=ready");

  int sig = 0;
  for (;;) {
    sigwait(&signals, &sig);
    if (sig != SIGHUP) break;
    pvc::systemd::notify("RELOADING=1");
    reloads.reload(argc, argv, cfg);
    pvc::systemd::notify("READY=1");
  }
  pvc::systemd::notify("STOPPING=1\nSTATUS=stopping: writing the last counts");
  spdlog::info("event=stopping signal={}", sig == SIGTERM ? "SIGTERM" : "SIGINT");

  liveness.stop();
  tops.stop();
  visitors.stopping();  // the last flush writes every changed visitor sketch
  flush.stop();
  flush_thread.join();
  http->stop();
  admin->stop();
  udp->stop();
  io.release();
  // In-flight requests get two seconds to finish; then connections are cut.
  if (!io.wait_idle(std::chrono::seconds(2))) {
    http->close_all();
    admin->close_all();
    io.wait_idle(std::chrono::seconds(1));
  }
  io.stop_and_join();
  io.run_leftovers();

  // Everything accepted is now in the shards: write it. Retry briefly, as
  // the periodic flusher would, before giving up with an error exit.
  for (int attempt = 1;; ++attempt) {
    error = flush.flush_once();
    if (error.empty()) break;
    spdlog::error("event=final_flush_failed attempt={} error=\"{}\"", attempt, error);
    if (attempt == 5) return 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
  }
  // The outbox keeps what the cluster has not taken: it ships at the next start.
  if (cluster) cluster->stop(std::chrono::seconds(2));
  spdlog::info("event=stopped flushes={} views_written={}", flush.stats().flushes.load(),
               flush.stats().views.load());
  return 0;
}
