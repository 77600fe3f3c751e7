// pvcd: wiring only. config -> store -> counter table -> I/O threads and
// listeners -> flusher -> wait for a signal -> ordered shutdown:
//   stop the flusher's timer, stop accepting, let in-flight requests finish,
//   drain the UDP queues, final flush, close the store, exit 0.
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <thread>

#include "config.hpp"
#include "core/calendar.hpp"
#include "core/counter_table.hpp"
#include "flusher.hpp"
#include "http_server.hpp"
#include "io_threads.hpp"
#include "metrics.hpp"
#include "routes.hpp"
#include "store.hpp"
#include "udp_listener.hpp"
#include "version.hpp"

namespace {

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("pvcd");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z level=%l %v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);  // lines are rare; tests read them as they come
  spdlog::set_default_logger(logger);
}

int fail_start(const std::string& message) {
  spdlog::critical("event=start_failed error=\"{}\"", message);
  std::fprintf(stderr, "pvcd: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  pvc::config_outcome outcome = pvc::load_config(argc, argv);
  if (!outcome.cfg) {
    std::fprintf(outcome.exit_code == 0 ? stdout : stderr, "%s\n", outcome.message.c_str());
    return outcome.exit_code;
  }
  const pvc::config& cfg = *outcome.cfg;
  setup_logging(cfg.log_level);

  // Before any thread exists: the zone is process-wide, and every thread
  // inherits the blocked signals, which only the main thread waits for.
  if (auto err = pvc::calendar::use_zone(cfg.timezone); !err.empty()) return fail_start(err);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::string error;
  auto db = pvc::store::open(cfg.data_dir, {cfg.sync_writes}, error);
  if (!db) return fail_start(error);

  pvc::site_registry sites(cfg.max_sites);
  for (const auto& s : db->sites())
    sites.preload(s);
  const auto now = std::chrono::system_clock::now();
  pvc::counter_table table(cfg.threads, sites, pvc::calendar::day_of(now));

  pvc::io_threads io(cfg.threads);
  pvc::flusher flush(
      table, *db, [&io](std::size_t i, std::function<void()> fn) { io.run_on(i, std::move(fn)); },
      [] { return std::chrono::system_clock::now(); });
  pvc::metrics stats(table, flush, *db);
  flush.set_observer([&stats](double s, std::size_t, bool ok) { stats.observe_flush(s, ok); });

  pvc::route_context ctx{*db, table, [&stats] { return stats.render(); }};
  const pvc::router public_routes(pvc::router::role::public_api, ctx);
  const pvc::router admin_routes(pvc::router::role::admin, ctx);

  pvc::http_limits limits;
  limits.body_bytes = cfg.http_max_body;
  limits.idle_timeout = cfg.http_idle_timeout;
  auto http = pvc::http_listener::start(io, cfg.http, public_routes, table, pvc::transport::http,
                                        limits, error);
  if (!http) return fail_start("http: " + error);
  pvc::http_limits admin_limits = limits;
  admin_limits.body_bytes = 1u << 20;
  auto admin = pvc::http_listener::start(io, cfg.admin, admin_routes, table, pvc::transport::admin,
                                         admin_limits, error);
  if (!admin) return fail_start("admin: " + error);
  auto udp = pvc::udp_listener::start(io, cfg.udp, table, {cfg.udp_receive_buffer}, error);
  if (!udp) return fail_start("udp: " + error);

  spdlog::info(
      "event=starting version={} revision={} threads={} data_dir={} timezone={} "
      "flush_interval_ms={} sites={}",
      pvc::version, pvc::revision, cfg.threads, cfg.data_dir, cfg.timezone,
      cfg.flush_interval.count(), sites.size());
  spdlog::info("event=listening transport=http address={}", pvc::format_endpoint(http->bound()));
  spdlog::info("event=listening transport=udp address={}", pvc::format_endpoint(udp->bound()));
  spdlog::info("event=listening transport=admin address={}", pvc::format_endpoint(admin->bound()));

  io.start();
  std::thread flush_thread([&] { flush.run(cfg.flush_interval); });
  spdlog::info("event=ready");

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("event=stopping signal={}", sig == SIGTERM ? "SIGTERM" : "SIGINT");

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
  spdlog::info("event=stopped flushes={} views_written={}", flush.stats().flushes.load(),
               flush.stats().views.load());
  return 0;
}
