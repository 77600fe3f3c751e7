#include "cluster/cluster_client.hpp"

#include <algorithm>
#include <thread>

#include "cluster/key_slot.hpp"

namespace pvc::cluster {
namespace {

void add_problem(std::string& problems, const std::string& one) {
  if (!problems.empty()) problems += "; ";
  problems += one;
}

const command asking_command{"ASKING"};
const command cluster_slots_command{"CLUSTER", "SLOTS"};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

bool is_fcall(const command& c) {
  return iequals(c.front(), "FCALL") || iequals(c.front(), "FCALL_RO");
}

bool is_function_not_found(const redis_reply& r) {
  return r.is_error() && r.text.starts_with("ERR Function not found");
}

// "#!lua name=pvc" -> "pvc": a library's name, from its first line.
std::string library_name(std::string_view source) {
  const std::string_view first_line = source.substr(0, source.find('\n'));
  const std::size_t at = first_line.find("name=");
  if (at == std::string_view::npos) return {};
  std::string_view name = first_line.substr(at + 5);
  return std::string(name.substr(0, name.find(' ')));
}

std::string connection_key(const node_address& node, bool readonly) {
  return node.to_string() + (readonly ? "/readonly" : "");
}

}  // namespace

struct cluster_client::pending {
  std::size_t index = 0;  // into the caller's results
  std::uint16_t slot = 0;
  const command* args = nullptr;
  read_from from = read_from::master;
  std::optional<node_address> fixed;  // run_on_masters: this node, redirects returned as replies
  std::optional<node_address> ask;    // after ASK: the next send is ASKING + args there
  int attempts = 0;
  bool functions_reloaded = false;
  std::string last_problem;
};

cluster_client::pending cluster_client::make_pending(std::size_t index, std::uint16_t slot,
                                                     const command& args, read_from from) {
  pending p;
  p.index = index;
  p.slot = slot;
  p.args = &args;
  p.from = from;
  return p;
}

struct cluster_client::target {
  node_address node;
  bool readonly = false;
  bool operator==(const target&) const = default;
};

cluster_client::cluster_client(client_options options)
    : options_(std::move(options)), jitter_(std::random_device{}()) {
  if (options_.max_attempts < 1) options_.max_attempts = 1;
}

cluster_client::~cluster_client() = default;

call_result cluster_client::run(std::string_view key, const command& args, read_from from) {
  return std::move(run_many({keyed_command{std::string(key), args, from}}).front());
}

std::vector<call_result> cluster_client::pipeline(std::string_view key,
                                                  const std::vector<command>& commands,
                                                  read_from from) {
  std::vector<call_result> results(commands.size());
  std::vector<pending> todo;
  const std::uint16_t slot = key_slot(key);
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (commands[i].empty()) {
      results[i].error = "empty command";
      continue;
    }
    todo.push_back(make_pending(i, slot, commands[i], from));
  }
  refresh_if_due();
  run_pending(todo, results);
  return results;
}

std::vector<call_result> cluster_client::run_many(const std::vector<keyed_command>& commands) {
  std::vector<call_result> results(commands.size());
  std::vector<pending> todo;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (commands[i].args.empty()) {
      results[i].error = "empty command";
      continue;
    }
    todo.push_back(make_pending(i, key_slot(commands[i].key), commands[i].args, commands[i].from));
  }
  refresh_if_due();
  run_pending(todo, results);
  return results;
}

std::vector<node_result> cluster_client::run_on_masters(const command& args) {
  refresh_if_due();
  const std::vector<node_address> masters = map_.masters();
  if (masters.empty()) {
    node_result none;
    none.result.error = "no master known: " + refresh_map();
    return {none};
  }
  std::vector<call_result> results(masters.size());
  std::vector<pending> todo;
  for (std::size_t i = 0; i < masters.size(); ++i) {
    todo.push_back(make_pending(i, 0, args, read_from::master));
    todo.back().fixed = masters[i];
  }
  run_pending(todo, results);
  std::vector<node_result> out;
  for (std::size_t i = 0; i < masters.size(); ++i) {
    out.push_back(node_result{masters[i], std::move(results[i])});
  }
  return out;
}

std::vector<node_result> cluster_client::function_load(std::string_view library_source,
                                                       bool replace) {
  const std::string name = library_name(library_source);
  std::erase_if(libraries_, [&](const std::string& s) { return library_name(s) == name; });
  libraries_.emplace_back(library_source);
  command load{"FUNCTION", "LOAD"};
  if (replace) load.push_back("REPLACE");
  load.emplace_back(library_source);
  return run_on_masters(load);
}

void cluster_client::refresh_if_due() {
  if (refresh_due_ || map_stale_ || map_.empty() ||
      std::chrono::steady_clock::now() - map_read_at_ >= options_.map_refresh_interval) {
    refresh_map();
  }
}

std::string cluster_client::refresh_map() {
  // Nodes with a live connection first (no connect to wait for, and a dead
  // node's connect timeout is not paid on every refresh), then the other
  // known nodes, then the seeds.
  std::vector<node_address> candidates;
  std::vector<node_address> unconnected;
  for (const node_address& n : map_.nodes()) {
    const auto it = connections_.find(connection_key(n, false));
    (it != connections_.end() && !it->second->broken() ? candidates : unconnected).push_back(n);
  }
  candidates.insert(candidates.end(), unconnected.begin(), unconnected.end());
  for (const node_address& s : options_.seeds) {
    if (std::find(candidates.begin(), candidates.end(), s) == candidates.end()) {
      candidates.push_back(s);
    }
  }
  std::string problems;
  for (const node_address& node : candidates) {
    std::string error;
    redis_connection* conn = connection(node, false, error);
    redis_reply reply;
    if (conn != nullptr && !conn->exchange(cluster_slots_command, reply, error)) {
      drop(node, false);
      conn = nullptr;
    }
    if (conn == nullptr) {
      counters_.connection_errors.fetch_add(1, std::memory_order_relaxed);
      add_problem(problems, error);
      continue;
    }
    slot_map fresh;
    if (reply.is_error()) {
      error = node.to_string() + ": " + reply.text;
    } else {
      error = fresh.assign_from_cluster_slots(reply, node.host);
      if (error.empty() && fresh.empty()) error = node.to_string() + ": serves no slot map yet";
    }
    if (!error.empty()) {
      add_problem(problems, error);
      continue;
    }
    map_ = std::move(fresh);
    last_refresh_error_.clear();
    map_read_at_ = std::chrono::steady_clock::now();
    refresh_due_ = false;
    map_stale_ = false;
    counters_.map_refreshes.fetch_add(1, std::memory_order_relaxed);
    // Connections to nodes that left the map would only idle.
    const std::vector<node_address> known = map_.nodes();
    std::erase_if(connections_, [&](const auto& entry) {
      return std::none_of(known.begin(), known.end(), [&](const node_address& n) {
        return entry.first == connection_key(n, false) || entry.first == connection_key(n, true);
      });
    });
    return {};
  }
  if (candidates.empty()) problems = "no seed nodes configured";
  last_refresh_error_ = "no node gave a slot map: " + problems;
  return last_refresh_error_;
}

std::optional<cluster_client::target> cluster_client::route(const pending& p) {
  if (p.fixed) return target{*p.fixed, false};
  if (p.ask) return target{*p.ask, false};
  const shard* s = map_.shard_of(p.slot);
  if (s == nullptr) return std::nullopt;
  // A retry goes to the master: the replica may be the node that failed.
  if (p.from == read_from::replica && options_.read_from_replicas && p.attempts == 0 &&
      !s->replicas.empty()) {
    return target{s->replicas[next_replica_++ % s->replicas.size()], true};
  }
  return target{s->master, false};
}

redis_connection* cluster_client::connection(const node_address& node, bool readonly,
                                             std::string& error) {
  const std::string key = connection_key(node, readonly);
  auto it = connections_.find(key);
  if (it != connections_.end()) {
    if (!it->second->broken()) return it->second.get();
    connections_.erase(it);
    lost_[key] = true;
  }
  connection_options o;
  o.connect_timeout = options_.connect_timeout;
  o.command_timeout = options_.command_timeout;
  o.username = options_.username;
  o.password = options_.password;
  o.readonly = readonly;
  auto conn = redis_connection::open(node, o, error);
  if (!conn) {
    lost_[key] = true;
    return nullptr;
  }
  if (lost_.erase(key) > 0) counters_.reconnects.fetch_add(1, std::memory_order_relaxed);
  return connections_.emplace(key, std::move(conn)).first->second.get();
}

void cluster_client::drop(const node_address& node, bool readonly) {
  const std::string key = connection_key(node, readonly);
  connections_.erase(key);
  lost_[key] = true;
}

bool cluster_client::reload_functions(redis_connection& conn) {
  for (const std::string& source : libraries_) {
    redis_reply reply;
    std::string error;
    if (!conn.exchange(command{"FUNCTION", "LOAD", "REPLACE", source}, reply, error) ||
        reply.is_error()) {
      return false;
    }
    counters_.function_reloads.fetch_add(1, std::memory_order_relaxed);
  }
  return true;
}

void cluster_client::back_off(int earlier_waits) {
  auto wait = options_.backoff_first * (1LL << std::min(earlier_waits, 20));
  wait = std::min<std::chrono::milliseconds>(wait, options_.backoff_cap);
  const auto half = wait.count() / 2;
  if (half > 0) {
    wait -= std::chrono::milliseconds(std::uniform_int_distribution<long long>(0, half)(jitter_));
  }
  std::this_thread::sleep_for(wait);
}

void cluster_client::run_pending(std::vector<pending>& todo, std::vector<call_result>& results) {
  for (int waits = 0; !todo.empty();) {
    if (map_stale_) refresh_map();  // when it fails, the sends below say why
    bool wait = false;              // a retryable failure: back off before the next round
    std::vector<pending> next;
    const auto retry = [&](pending& p, std::string problem) {
      p.last_problem = std::move(problem);
      if (++p.attempts >= options_.max_attempts) {
        results[p.index].error =
            "gave up after " + std::to_string(p.attempts) + " attempts: " + p.last_problem;
        counters_.failures.fetch_add(1, std::memory_order_relaxed);
      } else {
        next.push_back(std::move(p));
      }
    };

    // Group by node, keeping the commands' order within each node.
    std::vector<std::pair<target, std::vector<pending*>>> groups;
    for (pending& p : todo) {
      const auto t = route(p);
      if (!t) {
        map_stale_ = true;
        wait = true;
        retry(p, "slot " + std::to_string(p.slot) + " is served by no known node (" +
                     std::to_string(map_.served_slots()) + " of 16384 slots mapped" +
                     (last_refresh_error_.empty() ? "" : "; " + last_refresh_error_) + ")");
        continue;
      }
      auto g = std::find_if(groups.begin(), groups.end(),
                            [&](const auto& entry) { return entry.first == *t; });
      if (g == groups.end()) {
        groups.emplace_back(*t, std::vector<pending*>{});
        g = groups.end() - 1;
      }
      g->second.push_back(&p);
    }

    // Every node's pipeline is written before any reply is read: the nodes
    // work at once, and the call waits about one round trip, not one per node.
    struct in_flight {
      redis_connection* conn = nullptr;
      std::size_t replies = 0;
      std::string error;
    };
    std::vector<in_flight> flights(groups.size());
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const auto& [t, members] = groups[g];
      in_flight& f = flights[g];
      f.conn = connection(t.node, t.readonly, f.error);
      if (f.conn == nullptr) continue;
      std::vector<const command*> sent;
      for (const pending* p : members) {
        if (p->ask) sent.push_back(&asking_command);
        sent.push_back(p->args);
      }
      f.replies = sent.size();
      if (!f.conn->send(sent, f.error)) {
        drop(t.node, t.readonly);
        f.conn = nullptr;
      }
    }
    for (std::size_t g = 0; g < groups.size(); ++g) {
      auto& [t, members] = groups[g];
      redis_connection* conn = flights[g].conn;
      std::string& error = flights[g].error;
      std::vector<redis_reply> replies;
      if (conn != nullptr && !conn->receive(flights[g].replies, replies, error)) {
        drop(t.node, t.readonly);
        conn = nullptr;
      }
      if (conn == nullptr) {
        counters_.connection_errors.fetch_add(1, std::memory_order_relaxed);
        map_stale_ = true;
        wait = true;
        for (pending* p : members)
          retry(*p, error);
        continue;
      }
      std::size_t at = 0;
      bool reloaded_on_this_node = false;
      for (pending* p : members) {
        if (p->ask) ++at;  // ASKING's own +OK
        redis_reply& reply = replies[at++];
        p->ask.reset();
        if (p->fixed) {  // a node command: its answer, whatever it is
          results[p->index].reply = std::move(reply);
          continue;
        }
        reply_class c = classify(reply);
        if (c.kind == error_kind::moved || c.kind == error_kind::ask) {
          if (c.node.host.empty()) c.node.host = t.node.host;
        }
        switch (c.kind) {
          case error_kind::moved:
            counters_.moved.fetch_add(1, std::memory_order_relaxed);
            map_.move_slot(c.slot, c.node);
            refresh_due_ = true;
            retry(*p, t.node.to_string() + ": " + reply.text);
            break;
          case error_kind::ask:
            counters_.ask.fetch_add(1, std::memory_order_relaxed);
            p->ask = c.node;
            retry(*p, t.node.to_string() + ": " + reply.text);
            break;
          case error_kind::tryagain:
            counters_.retries.fetch_add(1, std::memory_order_relaxed);
            wait = true;
            retry(*p, t.node.to_string() + ": " + reply.text);
            break;
          case error_kind::clusterdown:
            counters_.cluster_down.fetch_add(1, std::memory_order_relaxed);
            map_stale_ = true;
            wait = true;
            retry(*p, t.node.to_string() + ": " + reply.text);
            break;
          case error_kind::none:
          case error_kind::other:
            if (conn != nullptr && is_function_not_found(reply) && !p->functions_reloaded &&
                !t.readonly && !libraries_.empty() && is_fcall(*p->args)) {
              // A master without our libraries (it joined after function_load,
              // or was flushed): load them there, then send the call again.
              p->functions_reloaded = true;
              const std::string problem = t.node.to_string() + ": " + reply.text;
              // Once per node and round: a pipeline of FCALLs reloads once.
              if (!reloaded_on_this_node) {
                reloaded_on_this_node = true;
                if (!reload_functions(*conn) && conn->broken()) {
                  drop(t.node, t.readonly);
                  conn = nullptr;  // the rest of this group's replies are read already
                }
              }
              retry(*p, problem);
              break;
            }
            results[p->index].reply = std::move(reply);
            break;
        }
      }
    }
    todo = std::move(next);
    if (wait && !todo.empty()) back_off(waits++);
  }
}

}  // namespace pvc::cluster
