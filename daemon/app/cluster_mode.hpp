#pragma once
// Cluster mode's parts, wired together for main.cpp: the node's outbox in
// its store, the shipper thread that applies it to the Redis Cluster, and
// the cluster reader every read route answers from. Built only when
// `redis_cluster` is set; without it nothing here exists.
#include <memory>
#include <string>
#include <thread>

#include "app/config.hpp"
#include "cluster/outbox.hpp"
#include "cluster/shipper.hpp"
#include "read/cluster_reader.hpp"

namespace pvc {

class flusher;
class store;

class cluster_mode {
 public:
  // Opens the outbox and reads the password file; from now on `visitors`
  // agrees its salts with the cluster (call before visitor_tracker::restore).
  // Null and `error` set when either fails (the daemon does not start).
  static std::unique_ptr<cluster_mode> open(const config& cfg, store& db,
                                            const counter_table& table, visitor_counter& visitors,
                                            std::string& error);
  ~cluster_mode();

  // Every flush goes into the outbox with its counts, and wakes the shipper.
  void attach(flusher& flush);
  void start();
  // After the final flush: ships what it can within `grace`, then stops.
  // What is left ships at the next start.
  void stop(std::chrono::milliseconds grace);

  reader& reads() { return *reader_; }
  // A title written to this node's store, for the cluster (title_table's listener).
  void title_changed(std::string_view site, std::string_view article, std::string_view title,
                     std::int64_t changed_unix) {
    shipper_->title_changed(site, article, title, changed_unix);
  }
  // Where the visitor tracker notes visits for the cluster's HyperLogLogs.
  visitor_batch& visits() { return *visits_; }
  const outbox& box() const { return *outbox_; }
  const shipper& ship() const { return *shipper_; }
  const cluster_reader& cluster_reads() const { return *reader_; }
  const cluster::cluster_client& ship_client() const { return *ship_client_; }
  const std::string& node_name() const { return node_name_; }

 private:
  cluster_mode() = default;

  std::string node_name_;
  std::unique_ptr<outbox> outbox_;
  std::unique_ptr<visitor_batch> visits_;
  visits_by_site in_flight_visits_;  // the flush being written (flusher thread)
  std::unique_ptr<cluster::cluster_client> salt_client_;  // startup, then the flusher thread
  std::unique_ptr<cluster::cluster_client> ship_client_;
  std::unique_ptr<shipper> shipper_;
  std::unique_ptr<cluster_reader> reader_;
  std::thread ship_thread_;
};

}  // namespace pvc
