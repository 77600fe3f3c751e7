#pragma once
// Prometheus metrics, collected at scrape time from pvcd's own counters
// (per-shard relaxed atomics, flusher stats): nothing in prometheus-cpp is
// touched per hit. The flush-duration histogram is observed once per flush.
//
// Thread-safety: render() and observe_flush() from any thread.
#include <memory>
#include <string>

namespace pvc {

class counter_table;
class flusher;
class reader;
class cluster_mode;

class metrics {
 public:
  metrics(const counter_table& table, const flusher& flush, reader& reads);
  ~metrics();

  void observe_flush(double seconds, bool ok);
  // Cluster mode: its outbox, shipper and read cache join the metrics.
  void set_cluster(const cluster_mode* cluster);
  // The text exposition format (version 0.0.4).
  std::string render() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace pvc
