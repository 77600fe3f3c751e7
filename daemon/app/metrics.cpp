#include "app/metrics.hpp"

#include <prometheus/collectable.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

#include "app/cluster_mode.hpp"
#include "core/counter_table.hpp"
#include "flush/flusher.hpp"
#include "read/reader.hpp"
#include "version.hpp"

namespace pvc {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void add_sample(MetricFamily& f, std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

// Reads the shards and the flusher when Prometheus scrapes.
// The standard process_* metrics, from /proc (Linux).
void add_process_metrics(std::vector<MetricFamily>& out) {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may contain spaces.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return;
  std::istringstream fields(stat.substr(close + 2));
  std::vector<std::string> f((std::istream_iterator<std::string>(fields)),
                             std::istream_iterator<std::string>());
  if (f.size() < 22) return;
  // f[0] is field 3 (state): utime=14, stime=15, starttime=22, vsize=23, rss=24.
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
  double boot = 0;
  std::ifstream proc_stat("/proc/stat");
  for (std::string line; std::getline(proc_stat, line);) {
    if (line.rfind("btime ", 0) == 0) boot = std::stod(line.substr(6));
  }
  const double start = boot + std::stod(f[19]) / ticks;
  const double vsize = std::stod(f[20]);
  const double rss = std::stod(f[21]) * static_cast<double>(::sysconf(_SC_PAGESIZE));
  std::size_t fds = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd"))
    ++fds;
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);

  auto add = [&](const char* name, const char* help, MetricType type, double v) {
    auto fam = family(name, help, type);
    add_sample(fam, {}, v);
    out.push_back(std::move(fam));
  };
  add("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
      MetricType::Counter, cpu);
  add("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge, rss);
  add("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge, vsize);
  add("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
      static_cast<double>(fds));
  add("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge,
      static_cast<double>(lim.rlim_cur));
  add("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
      MetricType::Gauge, start);
}

class pvcd_collector final : public prometheus::Collectable {
 public:
  pvcd_collector(const counter_table& t, const flusher& f, reader& reads)
      : table_(t), flusher_(f), reads_(reads) {}

  std::vector<MetricFamily> Collect() const override {
    auto accepted =
        family("pvcd_hits_accepted_total", "Hits counted, by transport.", MetricType::Counter);
    auto views =
        family("pvcd_views_accepted_total",
               "Views counted (hits weighted by their COUNT), by transport.", MetricType::Counter);
    auto rejected = family("pvcd_hits_rejected_total", "Hits refused, by transport and reason.",
                           MetricType::Counter);
    for (std::size_t t = 0; t < transport_count; ++t) {
      std::uint64_t a = 0, v = 0;
      std::array<std::uint64_t, reject_reason_count> r{};
      for (std::size_t s = 0; s < table_.shard_count(); ++s) {
        const shard_stats& st = table_.shard(s).stats();
        a += st.hits_accepted[t].get();
        v += st.views_accepted[t].get();
        for (std::size_t k = 0; k < reject_reason_count; ++k)
          r[k] += st.hits_rejected[t][k].get();
      }
      const std::string tn(transport_names[t]);
      add_sample(accepted, {{"transport", tn}}, static_cast<double>(a));
      add_sample(views, {{"transport", tn}}, static_cast<double>(v));
      for (std::size_t k = 0; k < reject_reason_count; ++k) {
        add_sample(rejected, {{"reason", std::string(reject_reason_names[k])}, {"transport", tn}},
                   static_cast<double>(r[k]));
      }
    }
    std::uint64_t datagrams = 0, wakeups = 0, drops = 0, tracked = 0;
    for (std::size_t s = 0; s < table_.shard_count(); ++s) {
      datagrams += table_.shard(s).stats().udp_datagrams.get();
      wakeups += table_.shard(s).stats().udp_wakeups.get();
      drops += table_.shard(s).stats().udp_kernel_drops.get();
      tracked += table_.shard(s).tracked_keys();
    }
    auto dg = family("pvcd_udp_datagrams_total", "UDP datagrams received.", MetricType::Counter);
    add_sample(dg, {}, static_cast<double>(datagrams));
    auto wk = family("pvcd_udp_receive_wakeups_total",
                     "Times a UDP listener thread woke and received datagrams; datagrams per "
                     "wake-up is pvcd_udp_datagrams_total over this.",
                     MetricType::Counter);
    add_sample(wk, {}, static_cast<double>(wakeups));
    std::uint64_t connections = 0, evictions = 0;
    for (std::size_t s = 0; s < table_.shard_count(); ++s) {
      connections += table_.shard(s).stats().http_connections.get();
      evictions += table_.shard(s).stats().http_evictions.get();
    }
    auto conn = family("pvcd_http_connections", "Open HTTP connections (both listeners).",
                       MetricType::Gauge);
    add_sample(conn, {}, static_cast<double>(connections));
    auto evicted =
        family("pvcd_http_connections_evicted_total",
               "Connections closed to stay under http_max_connections.", MetricType::Counter);
    add_sample(evicted, {}, static_cast<double>(evictions));
    auto dr = family("pvcd_udp_receive_drops_total",
                     "Datagrams the kernel dropped because a socket queue was full (SO_MEMINFO, "
                     "read every 100 ms).",
                     MetricType::Counter);
    add_sample(dr, {}, static_cast<double>(drops));

    const flusher_stats& fs = flusher_.stats();
    auto flushes =
        family("pvcd_flushes_total", "Flushes written to the store.", MetricType::Counter);
    add_sample(flushes, {}, static_cast<double>(fs.flushes.load()));
    auto errors =
        family("pvcd_flush_errors_total", "Flush attempts that failed.", MetricType::Counter);
    add_sample(errors, {}, static_cast<double>(fs.errors.load()));
    auto keys = family("pvcd_flushed_keys_total", "Keys written by flushes.", MetricType::Counter);
    add_sample(keys, {}, static_cast<double>(fs.keys.load()));
    auto last = family("pvcd_last_flush_timestamp_seconds",
                       "Unix time of the last successful flush.", MetricType::Gauge);
    add_sample(last, {}, fs.last_success_unix.load());
    auto stall = family("pvcd_max_ingest_stall_seconds",
                        "Longest time a flush hand-off has paused an I/O thread since start.",
                        MetricType::Gauge);
    add_sample(stall, {}, fs.max_ingest_stall_seconds.load());
    auto tk =
        family("pvcd_tracked_keys",
               "Keys held in memory: counted since the last flush, or held after a failed one.",
               MetricType::Gauge);
    add_sample(tk, {}, static_cast<double>(tracked + fs.pending_keys.load()));
    auto sites =
        family("pvcd_sites", "Sites known to pvcd (bounded by max_sites).", MetricType::Gauge);
    add_sample(sites, {}, static_cast<double>(table_.sites().size()));
    auto info = family("pvcd_build_info", "pvcd version and revision.", MetricType::Gauge);
    add_sample(info, {{"revision", revision}, {"version", version}}, 1);

    std::vector<MetricFamily> out = {accepted, views, rejected, dg,    wk, dr,    flushes,
                                     errors,   keys,  last,     stall, tk, sites, info};
    if (const key_guard* g = table_.guard()) {
      auto known = family("pvcd_known_keys",
                          "Distinct (site, article) keys pvcd knows (stored or admitted).",
                          MetricType::Gauge);
      add_sample(known, {}, static_cast<double>(g->known()));
      auto cap = family("pvcd_max_tracked_keys", "The cap on known keys (max_tracked_keys).",
                        MetricType::Gauge);
      add_sample(cap, {}, static_cast<double>(g->max_tracked_keys()));
      out.push_back(std::move(known));
      out.push_back(std::move(cap));
    }
    out.push_back(std::move(conn));
    out.push_back(std::move(evicted));
    if (titles_) add_title_metrics(titles_(), out);
    add_site_metrics(out);
    if (cluster) add_cluster_metrics(*cluster, out);
    add_http_metrics(out);
    add_process_metrics(out);
    return out;
  }

 public:
  const cluster_mode* cluster = nullptr;  // cluster mode's parts, when on
  std::function<title_figures()> titles_;

 private:
  // Cluster mode, per node: the outbox, the shipper, the Redis clients'
  // redirects and the read cache (README "Running several nodes").
  static void add_cluster_metrics(const cluster_mode& c, std::vector<MetricFamily>& out) {
    auto gauge = [&out](const char* name, const char* help, double v) {
      auto f = family(name, help, MetricType::Gauge);
      add_sample(f, {}, v);
      out.push_back(std::move(f));
    };
    auto counter = [&out](const char* name, const char* help, double v) {
      auto f = family(name, help, MetricType::Counter);
      add_sample(f, {}, v);
      out.push_back(std::move(f));
    };
    const outbox& box = c.box();
    const shipper_stats& ship = c.ship().stats();
    auto node = family("pvcd_cluster_node_info", "This node's name and incarnation in the cluster.",
                       MetricType::Gauge);
    add_sample(node, {{"incarnation", box.incarnation()}, {"node", c.node_name()}}, 1);
    out.push_back(std::move(node));
    gauge("pvcd_cluster_outbox_flushes", "Flushes in the outbox, not yet in the cluster.",
          static_cast<double>(box.depth()));
    gauge("pvcd_cluster_outbox_bytes", "Bytes of the flushes in the outbox.",
          static_cast<double>(box.bytes()));
    gauge("pvcd_cluster_outbox_max_bytes", "The outbox's bound (outbox_max_bytes).",
          static_cast<double>(box.max_bytes()));
    gauge("pvcd_cluster_outbox_oldest_age_seconds",
          "Age of the oldest flush not yet in the cluster (0 when none).",
          box.oldest_age_seconds());
    counter("pvcd_cluster_shipped_flushes_total",
            "Flushes the cluster has, acknowledged by replicas.",
            static_cast<double>(ship.flushes.load()));
    counter("pvcd_cluster_shipped_keys_total",
            "(day, article) counts the cluster applied from this node (parts it already had: not "
            "again).",
            static_cast<double>(ship.keys.load()));
    counter("pvcd_cluster_ship_duplicates_total",
            "Site parts of flushes sent again that the cluster already had (not applied twice).",
            static_cast<double>(ship.duplicates.load()));
    counter("pvcd_cluster_ship_gaps_total",
            "Site parts shipped after flushes the cluster had lost (a failover to a replica "
            "without them).",
            static_cast<double>(ship.gaps.load()));
    counter("pvcd_cluster_ship_errors_total", "Shipping attempts that failed (retried).",
            static_cast<double>(ship.errors.load()));
    const cluster::client_counters& a = c.ship_client().counters();
    const cluster::client_counters& b = c.cluster_reads().client_counters();
    auto redirects =
        family("pvcd_cluster_redirects_total",
               "MOVED and ASK redirects the node's Redis clients followed.", MetricType::Counter);
    add_sample(redirects, {{"kind", "moved"}}, static_cast<double>(a.moved + b.moved));
    add_sample(redirects, {{"kind", "ask"}}, static_cast<double>(a.ask + b.ask));
    out.push_back(std::move(redirects));
    auto reads = family("pvcd_cluster_read_cache_total",
                        "Reads answered from the read cache (hit) or asked of the cluster first "
                        "(miss: answered 503, retry).",
                        MetricType::Counter);
    add_sample(reads, {{"result", "hit"}}, static_cast<double>(c.cluster_reads().cache_hits()));
    add_sample(reads, {{"result", "miss"}}, static_cast<double>(c.cluster_reads().cache_misses()));
    out.push_back(std::move(reads));
    gauge("pvcd_cluster_read_stale_seconds",
          "Seconds since the read cache last reached the cluster (about 1 normally).",
          c.cluster_reads().stale_seconds());
  }

  static void add_title_metrics(const title_figures& t, std::vector<MetricFamily>& out) {
    auto tracked = family("pvcd_titles", "Article titles kept in memory (bounded by max_titles).",
                          MetricType::Gauge);
    add_sample(tracked, {}, static_cast<double>(t.tracked));
    auto bytes = family("pvcd_titles_memory_bytes",
                        "Estimated memory of the title table, titles waiting for a flush included.",
                        MetricType::Gauge);
    add_sample(bytes, {}, static_cast<double>(t.memory_bytes));
    auto cap = family("pvcd_max_titles", "The cap on titles (max_titles).", MetricType::Gauge);
    add_sample(cap, {}, static_cast<double>(t.max_titles));
    auto refused = family("pvcd_titles_refused_total",
                          "Titles not taken, by reason: off, unsigned, untrusted_peer, invalid "
                          "(beacons), too_soon (title_change_interval), site_cap, total_cap.",
                          MetricType::Counter);
    for (const auto& [reason, n] : t.refused)
      add_sample(refused, {{"reason", reason}}, static_cast<double>(n));
    out.push_back(std::move(tracked));
    out.push_back(std::move(bytes));
    out.push_back(std::move(cap));
    out.push_back(std::move(refused));
  }

  void add_site_metrics(std::vector<MetricFamily>& out) const {
    auto total =
        family("pvcd_views_total", "Views written to the store since pvcd started, by site.",
               MetricType::Counter);
    // Every known site has a series from the start (0 until its first flush),
    // so rate() and "no views" alerts see the first views after a restart.
    auto flushed = flusher_.stats().site_views();
    for (const auto& site : table_.sites().list())
      flushed.try_emplace(site, 0);
    for (const auto& [site, n] : flushed) {
      add_sample(total, {{"site", site}}, static_cast<double>(n));
    }
    out.push_back(std::move(total));
    // What the widget shows, from the reader (one read per site; the
    // number of sites is bounded by max_sites).
    auto stored = family("pvcd_site_views",
                         "Stored views by site and period (total = all-time; today, yesterday "
                         "and this_month in the configured time zone).",
                         MetricType::Gauge);
    for (const auto& site : table_.sites().list()) {
      const views_snapshot v = reads_.views(site, {});
      if (!v.error.empty()) continue;
      add_sample(stored, {{"period", "total"}, {"site", site}}, static_cast<double>(v.site.total));
      add_sample(stored, {{"period", "today"}, {"site", site}}, static_cast<double>(v.site.today));
      add_sample(stored, {{"period", "yesterday"}, {"site", site}},
                 static_cast<double>(v.site.yesterday));
      add_sample(stored, {{"period", "this_month"}, {"site", site}},
                 static_cast<double>(v.site.this_month));
    }
    out.push_back(std::move(stored));
  }

  void add_http_metrics(std::vector<MetricFamily>& out) const {
    auto requests =
        family("pvcd_http_requests_total", "HTTP requests answered, by route and status code.",
               MetricType::Counter);
    auto latency = family("pvcd_http_request_duration_seconds",
                          "Time from a complete request to its answer written, by route.",
                          MetricType::Histogram);
    const std::vector<std::string> labels = http_route_labels();
    for (std::size_t r = 0; r < labels.size(); ++r) {
      std::array<std::uint64_t, http_code_count> codes{};
      std::array<std::uint64_t, http_bucket_count> buckets{};
      std::uint64_t sum_ns = 0;
      for (std::size_t s = 0; s < table_.shard_count(); ++s) {
        const shard_stats& st = table_.shard(s).stats();
        for (std::size_t c = 0; c < http_code_count; ++c)
          codes[c] += st.http_requests[r][c].get();
        for (std::size_t b = 0; b < http_bucket_count; ++b)
          buckets[b] += st.http_latency[r][b].get();
        sum_ns += st.http_latency_sum_ns[r].get();
      }
      const std::string& route = labels[r];
      std::uint64_t count = 0;
      for (std::size_t c = 0; c < http_code_count; ++c) {
        if (codes[c] == 0) continue;
        const std::string code = http_codes[c] ? std::to_string(http_codes[c]) : "other";
        add_sample(requests, {{"code", code}, {"route", route}}, static_cast<double>(codes[c]));
        count += codes[c];
      }
      if (count == 0) continue;
      ClientMetric m;
      m.label = {{"route", route}};
      m.histogram.sample_count = 0;
      std::uint64_t cumulative = 0;
      for (std::size_t b = 0; b < http_bucket_count; ++b) {
        cumulative += buckets[b];
        m.histogram.bucket.push_back({cumulative, b < http_latency_bounds.size()
                                                      ? http_latency_bounds[b]
                                                      : std::numeric_limits<double>::infinity()});
      }
      m.histogram.sample_count = cumulative;
      m.histogram.sample_sum = static_cast<double>(sum_ns) / 1e9;
      latency.metric.push_back(std::move(m));
    }
    out.push_back(std::move(requests));
    out.push_back(std::move(latency));
  }

  const counter_table& table_;
  const flusher& flusher_;
  reader& reads_;
};

}  // namespace

struct metrics::impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Histogram* flush_duration = nullptr;
  std::shared_ptr<pvcd_collector> collector;
};

metrics::metrics(const counter_table& table, const flusher& flush, reader& reads)
    : impl_(std::make_unique<impl>()) {
  impl_->collector = std::make_shared<pvcd_collector>(table, flush, reads);
  auto& h = prometheus::BuildHistogram()
                .Name("pvcd_flush_duration_seconds")
                .Help("Time to write one flush to the store.")
                .Register(*impl_->registry);
  impl_->flush_duration =
      &h.Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                         0.1, 0.25, 0.5, 1, 2.5, 5});
}

metrics::~metrics() = default;

void metrics::set_cluster(const cluster_mode* c) {
  impl_->collector->cluster = c;
}

void metrics::set_titles(std::function<title_figures()> figures) {
  impl_->collector->titles_ = std::move(figures);
}

void metrics::observe_flush(double seconds, bool ok) {
  if (ok) impl_->flush_duration->Observe(seconds);
}

std::string metrics::render() const {
  auto families = impl_->collector->Collect();
  auto more = impl_->registry->Collect();
  families.insert(families.end(), std::make_move_iterator(more.begin()),
                  std::make_move_iterator(more.end()));
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace pvc
