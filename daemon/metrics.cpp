#include "metrics.hpp"

#include <prometheus/collectable.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

#include "core/counter_table.hpp"
#include "flusher.hpp"
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
class pvcd_collector final : public prometheus::Collectable {
 public:
  pvcd_collector(const counter_table& t, const flusher& f) : table_(t), flusher_(f) {}

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
    std::uint64_t datagrams = 0, drops = 0, tracked = 0;
    for (std::size_t s = 0; s < table_.shard_count(); ++s) {
      datagrams += table_.shard(s).stats().udp_datagrams.get();
      drops += table_.shard(s).stats().udp_kernel_drops.get();
      tracked += table_.shard(s).tracked_keys();
    }
    auto dg = family("pvcd_udp_datagrams_total", "UDP datagrams received.", MetricType::Counter);
    add_sample(dg, {}, static_cast<double>(datagrams));
    auto dr = family("pvcd_udp_receive_drops_total",
                     "Datagrams the kernel dropped because a socket queue was full (SO_RXQ_OVFL).",
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

    return {accepted, views, rejected, dg, dr, flushes, errors, keys, last, tk, sites, info};
  }

 private:
  const counter_table& table_;
  const flusher& flusher_;
};

}  // namespace

struct metrics::impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Histogram* flush_duration = nullptr;
  std::shared_ptr<pvcd_collector> collector;
};

metrics::metrics(const counter_table& table, const flusher& flush)
    : impl_(std::make_unique<impl>()) {
  impl_->collector = std::make_shared<pvcd_collector>(table, flush);
  auto& h = prometheus::BuildHistogram()
                .Name("pvcd_flush_duration_seconds")
                .Help("Time to write one flush to the store.")
                .Register(*impl_->registry);
  impl_->flush_duration =
      &h.Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                         0.1, 0.25, 0.5, 1, 2.5, 5});
}

metrics::~metrics() = default;

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
