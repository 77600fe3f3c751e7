#pragma once
// A real Redis Cluster for a test: six redis-server processes (3 masters,
// 3 replicas by default) on free loopback ports, each in its own directory
// under a temp dir, joined with `redis-cli --cluster create`, and stopped
// (SIGTERM, then SIGKILL) when the object goes, whatever the test did.
//
//   redis_cluster cluster;
//   if (!cluster.start()) FAIL() << cluster.error();
//   ... cluster.seeds(), cluster.cli(node, {"CLUSTER", "NODES"}) ...
//   cluster.kill_master_of_slot(slot);   // kill -9, waits for the promotion
//
// Configuration, as an operator would run it: AOF on (appendfsync
// everysec), no RDB snapshots, so a full stop and restart on the same ports
// and nodes.conf brings back the same cluster with its data; a short
// cluster-node-timeout so failovers take seconds; replica validity factor 0
// so a replica always may take over; no replica migration, so the topology
// stays what the test set up.
//
// Everything the harness reads it reads with redis-cli, independent of the
// client under test. Node indexes are 0..size()-1 and stay with a process's
// port across kills and restarts; roles change with failovers.
//
// Thread-safety: one thread (spawn children from the test's main thread:
// see process.hpp on PR_SET_PDEATHSIG).
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/process.hpp"

namespace pvc::test {

// Paths of redis-server and redis-cli: $REDIS_SERVER_BINARY /
// $REDIS_CLI_BINARY, else Debian's /usr/bin ones.
std::string redis_server_binary();
std::string redis_cli_binary();

struct redis_cluster_options {
  int masters = 3;
  int replicas_per_master = 1;
  // How long a node may be unreachable before it is failed over.
  std::chrono::milliseconds node_timeout{2000};
  std::string password;  // requirepass + masterauth on every node; empty: none
};

// One line of CLUSTER NODES, as one node sees the cluster.
struct cluster_node_view {
  std::string id;
  std::uint16_t port = 0;
  bool myself = false;
  bool master = false;
  bool failing = false;   // "fail" or "fail?" flag
  std::string master_id;  // a replica's master; "-" for a master
  bool connected = false;
  std::vector<std::pair<int, int>> slots;  // owned ranges (open migrations left out)
};

class redis_cluster {
 public:
  redis_cluster();
  ~redis_cluster();
  redis_cluster(const redis_cluster&) = delete;
  redis_cluster& operator=(const redis_cluster&) = delete;

  // Starts the nodes, creates the cluster and waits until healthy(). False,
  // with error() set (and every process stopped), when it cannot.
  bool start(const redis_cluster_options& options = {});
  const std::string& error() const { return error_; }

  std::size_t size() const { return nodes_.size(); }
  std::uint16_t port(std::size_t node) const { return nodes_[node].port; }
  bool running(std::size_t node) const { return nodes_[node].pid > 0; }
  pid_t pid(std::size_t node) const { return nodes_[node].pid; }
  // "127.0.0.1:PORT" of every node.
  std::vector<std::string> seeds() const;
  std::size_t node_of_port(std::uint16_t port) const;  // size() when none
  const std::filesystem::path& dir() const { return dir_.path(); }

  // redis-cli -p PORT ARGS...: its stdout (an error reply is printed there
  // too), without the final LF. Binary-safe for arguments; replies with
  // LFs inside strings cannot be told from multi-bulk lines.
  std::string cli(std::size_t node, const std::vector<std::string>& args) const;
  std::vector<std::string> cli_lines(std::size_t node, const std::vector<std::string>& args) const;
  long long cli_integer(std::size_t node, const std::vector<std::string>& args) const;  // -1 if not

  // CLUSTER NODES as `node` sees it; empty if it does not answer.
  std::vector<cluster_node_view> view(std::size_t node) const;
  // The running node that every running node agrees serves `slot` as
  // master; empty when they disagree or none does.
  std::optional<std::size_t> master_of_slot(std::uint16_t slot) const;
  // Running masters serving slots, and the running replicas of one.
  std::vector<std::size_t> masters() const;
  std::vector<std::size_t> replicas_of(std::size_t master) const;

  // Healthy: every running node says cluster_state:ok with all slots ok,
  // they agree on the master of every slot, no running node is flagged as
  // failing, and (when `replicas_synced`) each master has a replica whose
  // link to it is up and not syncing. Waits up to `timeout`.
  bool wait_healthy(std::chrono::milliseconds timeout = std::chrono::seconds(30),
                    bool replicas_synced = true);

  // Waits until every running node's CLUSTER INFO says cluster_state:`state`
  // ("ok" or "fail").
  bool wait_state(const std::string& state,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // --- faults ---
  // kill -9 of `node`; no wait.
  void kill_node(std::size_t node);
  // SIGSTOP / SIGCONT: a node that hangs (accepts connections, answers
  // nothing) without dying. Resume it within the node timeout unless the
  // test wants a failover.
  void pause_node(std::size_t node);
  void resume_node(std::size_t node);
  // kill -9 of the master serving `slot`, then waits until a replica serves
  // it and the cluster (without the dead node) is ok. The killed node's
  // index, or empty (error() says why).
  std::optional<std::size_t> kill_master_of_slot(
      std::uint16_t slot, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Waits until a running node other than `old_master` serves `slot` and
  // the cluster (without the stopped nodes) is ok: a failover's end.
  bool wait_taken_over(std::uint16_t slot, std::size_t old_master,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Starts a stopped node again on its port and directory (it rejoins, as a
  // replica if it was replaced) and waits until healthy.
  bool restart_node(std::size_t node);
  // CLUSTER FAILOVER on `replica`; waits until it serves its old master's
  // slots and the cluster is healthy.
  bool failover(std::size_t replica);
  // SIGTERM to every node (AOF flushed), then SIGKILL what is left after 10 s.
  void stop_all();
  // Starts every stopped node (after stop_all or kills) on its port,
  // nodes.conf and data; waits healthy.
  bool start_all();

  // Slot migration by the specification's steps, so tests see MOVED and ASK:
  // begin: SETSLOT IMPORTING on the target, MIGRATING on the source.
  // move_keys: MIGRATE up to `count` of the slot's keys (all if 0).
  // finish: SETSLOT NODE on the target, the source, then every other master.
  bool begin_migration(std::uint16_t slot, std::size_t to);
  bool move_keys(std::uint16_t slot, std::size_t count = 0);
  bool finish_migration(std::uint16_t slot);
  bool migrate_slot(std::uint16_t slot, std::size_t to);

 private:
  struct node {
    std::uint16_t port = 0;
    std::uint16_t bus_port = 0;
    std::filesystem::path dir;
    pid_t pid = -1;
  };
  struct migration {
    std::uint16_t slot;
    std::size_t from;
    std::size_t to;
  };

  bool spawn_node(std::size_t i);
  bool wait_answering(std::size_t i, std::chrono::milliseconds timeout);
  std::vector<std::string> cli_argv(std::size_t node, const std::vector<std::string>& args) const;
  std::string node_id(std::size_t node) const;
  std::string health_problem(bool replicas_synced) const;
  std::string log_tail(std::size_t node) const;

  redis_cluster_options options_;
  temp_dir dir_;
  std::vector<node> nodes_;
  std::optional<migration> migration_;
  std::string error_;
};

}  // namespace pvc::test
