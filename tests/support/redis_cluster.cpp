#include "support/redis_cluster.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "support/net.hpp"

namespace pvc::test {
namespace {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int slot_total = 16384;
// How often the waits look again: short against a failover's seconds, long
// enough not to busy a core with redis-cli processes.
constexpr auto poll_interval = 50ms;

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// "key:value" lines of INFO / CLUSTER INFO.
std::string info_field(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind(key + ":", 0) == 0) return line.substr(key.size() + 1);
  }
  return {};
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string w;
  while (in >> w)
    out.push_back(w);
  return out;
}

// One CLUSTER NODES line:
// <id> <ip:port@cport[,hostname]> <flags> <master> <ping> <pong> <epoch> <link> <slot>...
std::optional<cluster_node_view> parse_node_line(const std::string& line) {
  const auto w = words(line);
  if (w.size() < 8) return std::nullopt;
  cluster_node_view v;
  v.id = w[0];
  const std::string address = w[1].substr(0, w[1].find('@'));
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  v.port = static_cast<std::uint16_t>(std::atoi(address.c_str() + colon + 1));
  const std::string flags = "," + w[2] + ",";
  v.myself = flags.find(",myself,") != std::string::npos;
  v.master = flags.find(",master,") != std::string::npos;
  v.failing =
      flags.find(",fail,") != std::string::npos || flags.find(",fail?,") != std::string::npos;
  v.master_id = w[3];
  v.connected = w[7] == "connected";
  for (std::size_t i = 8; i < w.size(); ++i) {
    if (w[i].front() == '[') continue;  // an open migration: [slot->-id] / [slot-<-id]
    const std::size_t dash = w[i].find('-');
    const int first = std::atoi(w[i].c_str());
    const int last = dash == std::string::npos ? first : std::atoi(w[i].c_str() + dash + 1);
    v.slots.emplace_back(first, last);
  }
  return v;
}

bool serves(const cluster_node_view& v, int slot) {
  return std::any_of(v.slots.begin(), v.slots.end(),
                     [&](const auto& r) { return r.first <= slot && slot <= r.second; });
}

std::string read_tail(const std::filesystem::path& p, std::size_t bytes) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  const std::string all = s.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

}  // namespace

std::string redis_server_binary() {
  return env_or("REDIS_SERVER_BINARY", "/usr/bin/redis-server");
}
std::string redis_cli_binary() {
  return env_or("REDIS_CLI_BINARY", "/usr/bin/redis-cli");
}

redis_cluster::redis_cluster() = default;

redis_cluster::~redis_cluster() {
  stop_all();
}

std::vector<std::string> redis_cluster::seeds() const {
  std::vector<std::string> out;
  for (const node& n : nodes_)
    out.push_back("127.0.0.1:" + std::to_string(n.port));
  return out;
}

std::size_t redis_cluster::node_of_port(std::uint16_t port) const {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].port == port) return i;
  }
  return nodes_.size();
}

std::vector<std::string> redis_cluster::cli_argv(std::size_t i,
                                                 const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {redis_cli_binary(), "-h", "127.0.0.1", "-p",
                                   std::to_string(nodes_[i].port)};
  if (!options_.password.empty()) {
    argv.insert(argv.end(), {"-a", options_.password, "--no-auth-warning"});
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string redis_cluster::cli(std::size_t i, const std::vector<std::string>& args) const {
  command_result r = run_command(cli_argv(i, args), 10s);
  if (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

std::vector<std::string> redis_cluster::cli_lines(std::size_t i,
                                                  const std::vector<std::string>& args) const {
  std::vector<std::string> lines = split_lines(run_command(cli_argv(i, args), 10s).out);
  std::erase_if(lines, [](const std::string& l) { return l.empty(); });
  return lines;
}

long long redis_cluster::cli_integer(std::size_t i, const std::vector<std::string>& args) const {
  const std::string out = cli(i, args);
  char* end = nullptr;
  const long long v = std::strtoll(out.c_str(), &end, 10);
  return !out.empty() && end && *end == '\0' ? v : -1;
}

std::vector<cluster_node_view> redis_cluster::view(std::size_t i) const {
  std::vector<cluster_node_view> out;
  if (!running(i)) return out;
  for (const std::string& line : cli_lines(i, {"CLUSTER", "NODES"})) {
    if (auto v = parse_node_line(line)) out.push_back(std::move(*v));
  }
  return out;
}

std::string redis_cluster::node_id(std::size_t i) const {
  for (const auto& v : view(i)) {
    if (v.myself) return v.id;
  }
  return {};
}

std::optional<std::size_t> redis_cluster::master_of_slot(std::uint16_t slot) const {
  std::optional<std::size_t> agreed;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!running(i)) continue;
    std::optional<std::size_t> seen;
    for (const auto& v : view(i)) {
      if (v.master && serves(v, slot)) seen = node_of_port(v.port);
    }
    if (!seen || *seen >= nodes_.size() || !running(*seen)) return std::nullopt;
    if (agreed && *agreed != *seen) return std::nullopt;
    agreed = seen;
  }
  return agreed;
}

std::vector<std::size_t> redis_cluster::masters() const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!running(i)) continue;
    for (const auto& v : view(i)) {
      const std::size_t n = node_of_port(v.port);
      if (v.master && !v.slots.empty() && n < nodes_.size() && running(n)) out.push_back(n);
    }
    break;  // one node's view
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::size_t> redis_cluster::replicas_of(std::size_t master) const {
  std::vector<std::size_t> out;
  const std::string id = node_id(master);
  if (id.empty()) return out;
  for (const auto& v : view(master)) {
    const std::size_t n = node_of_port(v.port);
    if (v.master_id == id && n < nodes_.size() && running(n)) out.push_back(n);
  }
  return out;
}

std::string redis_cluster::health_problem(bool replicas_synced) const {
  std::vector<int> reference;          // per slot: the port of its master, in the first view
  std::map<int, int> reference_roles;  // port -> its master's port (0: a master), first view
  std::vector<cluster_node_view> first_view;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!running(i)) continue;
    const std::string name =
        "node " + std::to_string(i) + " (port " + std::to_string(nodes_[i].port) + ")";
    const std::string info = cli(i, {"CLUSTER", "INFO"});
    if (info_field(info, "cluster_state") != "ok") return name + ": cluster_state is not ok";
    if (info_field(info, "cluster_slots_ok") != std::to_string(slot_total)) {
      return name + ": not every slot is ok";
    }
    const auto v = view(i);
    std::vector<int> owners(slot_total, 0);
    std::map<int, int> roles;
    for (const auto& n : v) {
      int master_port = 0;
      for (const auto& m : v) {
        if (m.id == n.master_id) master_port = m.port;
      }
      roles[n.port] = master_port;
    }
    for (const auto& n : v) {
      const std::size_t index = node_of_port(n.port);
      if (n.failing && index < nodes_.size() && running(index)) {
        return name + " flags running port " + std::to_string(n.port) + " as failing";
      }
      if (!n.master) continue;
      for (const auto& [a, b] : n.slots) {
        for (int s = a; s <= b && s < slot_total; ++s)
          owners[s] = n.port;
      }
    }
    if (reference.empty()) {
      reference = owners;
      reference_roles = roles;
      first_view = v;
    } else if (owners != reference) {
      return name + " disagrees on the slots' masters";
    } else if (roles != reference_roles) {
      return name + " disagrees on which node replicates which";
    }
  }
  for (int s = 0; s < slot_total; ++s) {
    const std::size_t owner = node_of_port(static_cast<std::uint16_t>(reference[s]));
    if (owner >= nodes_.size() || !running(owner)) {
      return "slot " + std::to_string(s) + " is served by no running node";
    }
  }
  if (!replicas_synced || options_.replicas_per_master == 0) return {};
  for (const auto& m : first_view) {
    if (!m.master || m.slots.empty()) continue;
    bool synced = false;
    for (const auto& r : first_view) {
      const std::size_t index = node_of_port(r.port);
      if (r.master_id != m.id || index >= nodes_.size() || !running(index)) continue;
      const std::string info = cli(index, {"INFO", "replication"});
      if (info_field(info, "master_link_status") == "up" &&
          info_field(info, "master_sync_in_progress") == "0") {
        synced = true;
      }
    }
    if (!synced) return "master port " + std::to_string(m.port) + " has no replica in sync";
  }
  return {};
}

bool redis_cluster::wait_healthy(std::chrono::milliseconds timeout, bool replicas_synced) {
  const auto deadline = clock::now() + timeout;
  std::string problem;
  do {
    problem = health_problem(replicas_synced);
    if (problem.empty()) return true;
    std::this_thread::sleep_for(poll_interval);
  } while (clock::now() < deadline);
  error_ = "cluster not healthy after " + std::to_string(timeout.count()) + " ms: " + problem;
  return false;
}

bool redis_cluster::wait_state(const std::string& state, std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (clock::now() < deadline) {
    bool all = true;
    for (std::size_t i = 0; i < nodes_.size() && all; ++i) {
      if (running(i)) all = info_field(cli(i, {"CLUSTER", "INFO"}), "cluster_state") == state;
    }
    if (all) return true;
    std::this_thread::sleep_for(poll_interval);
  }
  error_ = "the running nodes do not all say cluster_state:" + state + " after " +
           std::to_string(timeout.count()) + " ms";
  return false;
}

bool redis_cluster::spawn_node(std::size_t i) {
  node& n = nodes_[i];
  std::filesystem::create_directories(n.dir);
  std::vector<std::string> argv = {
      redis_server_binary(),
      "--port",
      std::to_string(n.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      n.dir.string(),
      "--logfile",
      "redis.log",
      "--daemonize",
      "no",
      "--cluster-enabled",
      "yes",
      "--cluster-port",
      std::to_string(n.bus_port),
      "--cluster-config-file",
      "nodes.conf",
      "--cluster-node-timeout",
      std::to_string(options_.node_timeout.count()),
      // Any replica may take over, however long its link was down.
      "--cluster-replica-validity-factor",
      "0",
      "--cluster-allow-replica-migration",
      "no",
      // Persistence as in production: the AOF, fsync'd every second.
      "--appendonly",
      "yes",
      "--appendfsync",
      "everysec",
      "--save",
      "",
      // A replica's full sync starts at once (the default waits 5 s for
      // more replicas to share one transfer).
      "--repl-diskless-sync-delay",
      "0",
      // A stop waits at most 1 s for lagging replicas (default 10).
      "--shutdown-timeout",
      "1",
  };
  if (!options_.password.empty()) {
    argv.insert(argv.end(),
                {"--requirepass", options_.password, "--masterauth", options_.password});
  }
  const std::filesystem::path err_path = n.dir / "stderr.log";
  const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  std::string spawn_error;
  n.pid = spawn(argv, -1, err_fd, spawn_error);
  if (err_fd >= 0) ::close(err_fd);
  if (n.pid < 0) {
    error_ = spawn_error;
    return false;
  }
  return true;
}

bool redis_cluster::wait_answering(std::size_t i, std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (clock::now() < deadline) {
    if (auto s = wait_for_exit(nodes_[i].pid, 0ms)) {
      nodes_[i].pid = -1;
      error_ = "redis-server on port " + std::to_string(nodes_[i].port) + " " + s->describe() +
               ": " + log_tail(i);
      return false;
    }
    const std::string reply = cli(i, {"PING"});
    if (reply == "PONG") return true;
    // After a restart the node answers -LOADING while it reads its AOF.
    std::this_thread::sleep_for(20ms);
  }
  error_ = "redis-server on port " + std::to_string(nodes_[i].port) + " not answering PING";
  return false;
}

std::string redis_cluster::log_tail(std::size_t i) const {
  return read_tail(nodes_[i].dir / "stderr.log", 500) +
         read_tail(nodes_[i].dir / "redis.log", 1500);
}

bool redis_cluster::start(const redis_cluster_options& options) {
  options_ = options;
  const std::size_t count =
      static_cast<std::size_t>(options.masters * (1 + options.replicas_per_master));
  // A port can be taken between being found free and redis-server binding
  // it: try again with fresh ports.
  for (int tries = 0; tries < 3; ++tries) {
    stop_all();
    nodes_.assign(count, node{});
    {
      std::vector<std::unique_ptr<reserved_port>> held;
      for (std::size_t i = 0; i < count; ++i) {
        held.push_back(std::make_unique<reserved_port>());
        nodes_[i].port = held.back()->port();
        held.push_back(std::make_unique<reserved_port>());
        nodes_[i].bus_port = held.back()->port();
        nodes_[i].dir = dir_.path() / ("node-" + std::to_string(nodes_[i].port));
      }
    }  // released: redis-server binds them now
    bool all = true;
    for (std::size_t i = 0; i < count && all; ++i)
      all = spawn_node(i);
    for (std::size_t i = 0; i < count && all; ++i)
      all = wait_answering(i, 10s);
    if (all) break;
    if (tries == 2) {
      stop_all();
      return false;
    }
  }
  std::vector<std::string> create = {redis_cli_binary()};
  if (!options_.password.empty()) {
    create.insert(create.end(), {"-a", options_.password, "--no-auth-warning"});
  }
  create.insert(create.end(), {"--cluster", "create"});
  for (const std::string& s : seeds())
    create.push_back(s);
  create.insert(create.end(), {"--cluster-replicas", std::to_string(options_.replicas_per_master),
                               "--cluster-yes"});
  const command_result made = run_command(create, 60s);
  if (!made.status.ok()) {
    error_ = "redis-cli --cluster create " + made.status.describe() + ": " + made.out + made.err;
    stop_all();
    return false;
  }
  if (!wait_healthy(30s)) {
    stop_all();
    return false;
  }
  return true;
}

void redis_cluster::kill_node(std::size_t i) {
  if (nodes_[i].pid <= 0) return;
  kill_and_reap(nodes_[i].pid);
  nodes_[i].pid = -1;
}

void redis_cluster::pause_node(std::size_t i) {
  if (nodes_[i].pid > 0) ::kill(nodes_[i].pid, SIGSTOP);
}

void redis_cluster::resume_node(std::size_t i) {
  if (nodes_[i].pid > 0) ::kill(nodes_[i].pid, SIGCONT);
}

std::optional<std::size_t> redis_cluster::kill_master_of_slot(std::uint16_t slot,
                                                              std::chrono::milliseconds timeout) {
  const auto victim = master_of_slot(slot);
  if (!victim) {
    error_ = "no agreed master for slot " + std::to_string(slot);
    return std::nullopt;
  }
  kill_node(*victim);
  if (!wait_taken_over(slot, *victim, timeout)) return std::nullopt;
  return victim;
}

bool redis_cluster::wait_taken_over(std::uint16_t slot, std::size_t old_master,
                                    std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (clock::now() < deadline) {
    const auto now_master = master_of_slot(slot);
    if (now_master && *now_master != old_master && health_problem(false).empty()) return true;
    std::this_thread::sleep_for(poll_interval);
  }
  error_ = "slot " + std::to_string(slot) + " not taken over within " +
           std::to_string(timeout.count()) + " ms: " + health_problem(false);
  return false;
}

bool redis_cluster::restart_node(std::size_t i) {
  if (running(i)) return true;
  return spawn_node(i) && wait_answering(i, 30s) && wait_healthy(30s);
}

bool redis_cluster::failover(std::size_t replica) {
  std::string master_id;
  for (const auto& v : view(replica)) {
    if (v.myself) master_id = v.master_id;
  }
  std::optional<int> a_slot;
  for (const auto& v : view(replica)) {
    if (v.id == master_id && !v.slots.empty()) a_slot = v.slots.front().first;
  }
  if (!a_slot) {
    error_ = "node " + std::to_string(replica) + " is not the replica of a master with slots";
    return false;
  }
  const std::string reply = cli(replica, {"CLUSTER", "FAILOVER"});
  if (reply != "OK") {
    error_ = "CLUSTER FAILOVER: " + reply;
    return false;
  }
  const auto deadline = clock::now() + 30s;
  while (clock::now() < deadline) {
    if (master_of_slot(static_cast<std::uint16_t>(*a_slot)) == replica) return wait_healthy(30s);
    std::this_thread::sleep_for(poll_interval);
  }
  error_ = "node " + std::to_string(replica) + " did not take over after CLUSTER FAILOVER";
  return false;
}

void redis_cluster::stop_all() {
  for (const node& n : nodes_) {
    if (n.pid <= 0) continue;
    ::kill(n.pid, SIGTERM);
    ::kill(n.pid, SIGCONT);  // a paused node acts on SIGTERM only once resumed
  }
  const auto deadline = clock::now() + 10s;
  for (node& n : nodes_) {
    if (n.pid <= 0) continue;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (!wait_for_exit(n.pid, std::max(left, 0ms))) kill_and_reap(n.pid);
    n.pid = -1;
  }
}

bool redis_cluster::start_all() {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!running(i) && !spawn_node(i)) return false;
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!wait_answering(i, 30s)) return false;
  }
  return wait_healthy(60s);
}

bool redis_cluster::begin_migration(std::uint16_t slot, std::size_t to) {
  const auto from = master_of_slot(slot);
  if (!from || *from == to) {
    error_ = "slot " + std::to_string(slot) + ": no agreed master other than the target";
    return false;
  }
  const std::string s = std::to_string(slot);
  const std::string a = cli(to, {"CLUSTER", "SETSLOT", s, "IMPORTING", node_id(*from)});
  const std::string b = cli(*from, {"CLUSTER", "SETSLOT", s, "MIGRATING", node_id(to)});
  if (a != "OK" || b != "OK") {
    error_ = "SETSLOT IMPORTING: " + a + "; SETSLOT MIGRATING: " + b;
    return false;
  }
  migration_ = migration{slot, *from, to};
  return true;
}

bool redis_cluster::move_keys(std::uint16_t slot, std::size_t count) {
  if (!migration_ || migration_->slot != slot) {
    error_ = "no migration of slot " + std::to_string(slot) + " begun";
    return false;
  }
  // MIGRATE's own timeout, for one batch on loopback.
  const std::string migrate_timeout_ms = "5000";
  const std::size_t batch = count == 0 ? 100 : count;
  std::size_t moved = 0;
  while (count == 0 || moved < count) {
    const auto keys = cli_lines(migration_->from, {"CLUSTER", "GETKEYSINSLOT", std::to_string(slot),
                                                   std::to_string(batch)});
    if (keys.empty()) break;
    std::vector<std::string> migrate = {
        "MIGRATE", "127.0.0.1", std::to_string(nodes_[migration_->to].port),
        "",        "0",         migrate_timeout_ms};
    if (!options_.password.empty()) migrate.insert(migrate.end(), {"AUTH", options_.password});
    migrate.push_back("KEYS");
    migrate.insert(migrate.end(), keys.begin(), keys.end());
    const std::string reply = cli(migration_->from, migrate);
    if (reply != "OK") {
      error_ = "MIGRATE: " + reply;
      return false;
    }
    moved += keys.size();
  }
  return true;
}

bool redis_cluster::finish_migration(std::uint16_t slot) {
  if (!migration_ || migration_->slot != slot) {
    error_ = "no migration of slot " + std::to_string(slot) + " begun";
    return false;
  }
  const std::size_t to = migration_->to;
  const std::string s = std::to_string(slot);
  const std::string to_id = node_id(to);
  // The target first, so the slot is never without an owner that accepts it.
  std::vector<std::size_t> order = {to, migration_->from};
  for (std::size_t m : masters()) {
    if (std::find(order.begin(), order.end(), m) == order.end()) order.push_back(m);
  }
  for (std::size_t m : order) {
    const std::string reply = cli(m, {"CLUSTER", "SETSLOT", s, "NODE", to_id});
    if (reply != "OK") {
      error_ = "SETSLOT NODE on node " + std::to_string(m) + ": " + reply;
      return false;
    }
  }
  migration_.reset();
  const auto deadline = clock::now() + 30s;
  while (clock::now() < deadline) {
    if (master_of_slot(slot) == to) return true;
    std::this_thread::sleep_for(poll_interval);
  }
  error_ = "the nodes do not agree that slot " + s + " moved";
  return false;
}

bool redis_cluster::migrate_slot(std::uint16_t slot, std::size_t to) {
  return begin_migration(slot, to) && move_keys(slot, 0) && finish_migration(slot);
}

}  // namespace pvc::test
