#pragma once
// A synchronous Redis Cluster client on hiredis: routes each command to the
// node serving its key's slot (key_slot.hpp), keeps the slot map from
// CLUSTER SLOTS, and follows the cluster's answers:
//
//   MOVED        update that slot's entry, retry on the named node now, and
//                refresh the whole map at the start of the next call
//   ASK          ASKING + the command to the named node, once; map unchanged
//   TRYAGAIN, LOADING, MASTERDOWN
//                back off, retry
//   CLUSTERDOWN, a lost or refused connection
//                mark the map stale, back off (doubling, capped), reconnect
//                through any known node or a seed, refresh the map, retry
//
// and re-reads the map every map_refresh_interval besides.
//
// Every command gets at most `max_attempts` sends; then its result carries
// an error naming the last problem, and the caller retries later (the
// shipper keeps its outbox). A call therefore ends within about
// max_attempts x (command_timeout + backoff_cap). A command whose reply did
// not come (a timeout, a lost link) may have run, and as it is sent again on
// the next attempt it may run more than once: callers send idempotent
// commands (the shipper's function refuses a flush it has applied).
//
// Functions (FUNCTION LOAD) live per node: function_load sends a library to
// every master (replicas get it by replication, and keep it when promoted).
// A master that joins later has none, so the client remembers the libraries
// it loaded and, when an FCALL/FCALL_RO on a master answers "ERR Function not
// found", loads them there (REPLACE) and retries that command once.
//
// Thread-safety: one thread at a time per client (the shipper and the read
// cache each own one). counters() may be read from any thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/node_address.hpp"
#include "cluster/redis_connection.hpp"
#include "cluster/redis_reply.hpp"
#include "cluster/slot_map.hpp"

namespace pvc::cluster {

struct client_options {
  std::vector<node_address> seeds;  // where the first map is read; any one node will do
  std::string username;             // optional (ACL user)
  std::string password;             // optional: AUTH on every connection
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds command_timeout{1000};
  // Reads marked read_from::replica go to a replica of the slot's master
  // (READONLY on that connection), and may lag the master by the
  // replication delay. Off: every command goes to masters.
  bool read_from_replicas = false;
  // The map is re-read at the start of a call once it is this old, even
  // when nothing failed: CLUSTER SLOTS leaves out a replica until its
  // master has seen a replication offset from it (a fresh cluster lists
  // none), and new nodes appear only in a fresh map.
  std::chrono::milliseconds map_refresh_interval{std::chrono::seconds(30)};
  // Sends of one command, the first included: redirects and retries share it.
  int max_attempts = 5;
  // The wait after a round of retryable failures doubles from `backoff_first`
  // up to `backoff_cap`, less a random part of up to half, so several nodes
  // do not retry in step.
  std::chrono::milliseconds backoff_first{25};
  std::chrono::milliseconds backoff_cap{500};
};

// What the daemon's metrics show; read from any thread.
struct client_counters {
  std::atomic<std::uint64_t> moved{0};              // MOVED redirects followed
  std::atomic<std::uint64_t> ask{0};                // ASK redirects followed
  std::atomic<std::uint64_t> retries{0};            // TRYAGAIN / LOADING / MASTERDOWN answers
  std::atomic<std::uint64_t> cluster_down{0};       // CLUSTERDOWN answers
  std::atomic<std::uint64_t> connection_errors{0};  // connects refused/timed out, links lost
  std::atomic<std::uint64_t> reconnects{0};         // connections reopened to a node after a loss
  std::atomic<std::uint64_t> map_refreshes{0};      // CLUSTER SLOTS read
  std::atomic<std::uint64_t> failures{0};           // commands given up after max_attempts
  std::atomic<std::uint64_t> function_reloads{0};   // libraries loaded on "Function not found"
};

enum class read_from { master, replica };

// One command's outcome. ok(): a reply came (it may be an error reply, the
// command's own answer such as WRONGTYPE); otherwise `error` says why none did.
struct call_result {
  redis_reply reply;
  std::string error;
  bool ok() const { return error.empty(); }
};

// A command and the key that routes it (for a multi-key command, any of its
// keys: they must share a slot, which hash tags ensure).
struct keyed_command {
  std::string key;
  command args;
  read_from from = read_from::master;
};

struct node_result {
  node_address node;
  call_result result;
};

class cluster_client {
 public:
  explicit cluster_client(client_options options);
  ~cluster_client();
  cluster_client(const cluster_client&) = delete;
  cluster_client& operator=(const cluster_client&) = delete;

  // One command on the node serving `key`'s slot.
  call_result run(std::string_view key, const command& args, read_from from = read_from::master);

  // Several commands for one slot, pipelined: one round trip to its node
  // (more only for the commands redirected or retried). Replies in order.
  std::vector<call_result> pipeline(std::string_view key, const std::vector<command>& commands,
                                    read_from from = read_from::master);

  // Commands for many slots: grouped by node, one pipeline per node, all
  // written before any reply is read (so about one round trip in all);
  // replies in the commands' order. A retried
  // command may run after commands listed after it: order within one node
  // holds only for commands that were not redirected.
  std::vector<call_result> run_many(const std::vector<keyed_command>& commands);

  // One command on every master (refreshing the map first if needed).
  std::vector<node_result> run_on_masters(const command& args);

  // FUNCTION LOAD [REPLACE] `library_source` on every master, remembered for
  // the "Function not found" reload above. All results ok() and not error
  // replies means every master has it.
  std::vector<node_result> function_load(std::string_view library_source, bool replace);

  // Reads CLUSTER SLOTS from a known node or a seed now. "" on success.
  std::string refresh_map();

  // The current map, for tests and status views; valid until the next call.
  const slot_map& map() const { return map_; }
  const client_options& options() const { return options_; }
  const client_counters& counters() const { return counters_; }

 private:
  struct pending;
  struct target;

  static pending make_pending(std::size_t index, std::uint16_t slot, const command& args,
                              read_from from);
  void run_pending(std::vector<pending>& todo, std::vector<call_result>& results);
  std::optional<target> route(const pending& p);
  redis_connection* connection(const node_address& node, bool readonly, std::string& error);
  void drop(const node_address& node, bool readonly);
  bool reload_functions(redis_connection& conn);
  void back_off(int earlier_waits);
  void refresh_if_due();

  client_options options_;
  slot_map map_;
  // A MOVED updated one entry; re-read the whole map at the next call.
  bool refresh_due_ = true;
  // A connection failed or the cluster said CLUSTERDOWN: re-read before the next send.
  bool map_stale_ = false;
  std::chrono::steady_clock::time_point map_read_at_{};
  std::string last_refresh_error_;  // why the last refresh failed; "" after one succeeded
  // "host:port" plus 'r' for READONLY connections.
  std::map<std::string, std::unique_ptr<redis_connection>> connections_;
  std::map<std::string, bool> lost_;    // connections dropped after an error, to count reconnects
  std::vector<std::string> libraries_;  // sources given to function_load
  std::size_t next_replica_ = 0;
  std::minstd_rand jitter_;
  client_counters counters_;
};

}  // namespace pvc::cluster
