#pragma once
// Prometheus metrics, collected at scrape time from pvcd's own counters
// (per-shard relaxed atomics, flusher stats): nothing in prometheus-cpp is
// touched per hit. The flush-duration histogram is observed once per flush.
//
// Thread-safety: render() and observe_flush() from any thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace pvc {

class counter_table;
class flusher;
class reader;
class cluster_mode;

// Article titles' figures at scrape time (main.cpp gathers them).
struct title_figures {
  std::size_t tracked = 0;
  std::size_t memory_bytes = 0;
  std::size_t max_titles = 0;
  std::vector<std::pair<std::string, std::uint64_t>> refused;  // reason -> titles refused
};

class metrics {
 public:
  metrics(const counter_table& table, const flusher& flush, reader& reads);
  ~metrics();

  void observe_flush(double seconds, bool ok);
  // Cluster mode: its outbox, shipper and read cache join the metrics.
  void set_cluster(const cluster_mode* cluster);
  // Set once before the first scrape.
  void set_titles(std::function<title_figures()> figures);
  // The text exposition format (version 0.0.4).
  std::string render() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace pvc
