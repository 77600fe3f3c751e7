// The Redis Cluster client against a real cluster: six redis-server
// processes on loopback (tests/support/redis_cluster), one cluster per test,
// with the faults the shipper and the read cache will meet: slot
// migrations (MOVED, ASK, TRYAGAIN), a master killed, CLUSTER FAILOVER, the
// whole cluster stopped and started again.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cluster/cluster_client.hpp"
#include "cluster/key_slot.hpp"
#include "support/pvcd_api.hpp"
#include "support/redis_cluster.hpp"

namespace pvc::test {
namespace {

using cluster::call_result;
using cluster::cluster_client;
using cluster::command;
using cluster::key_slot;
using cluster::keyed_command;
using cluster::read_from;
using namespace std::chrono_literals;

// `max_attempts` small where a test waits for the client to give up.
cluster::client_options options_for(const redis_cluster& rc, int max_attempts = 5) {
  cluster::client_options o;
  o.max_attempts = max_attempts;
  for (const std::string& s : rc.seeds())
    o.seeds.push_back(*cluster::parse_node_address(s));
  o.connect_timeout = 500ms;
  o.command_timeout = 2000ms;
  return o;
}

// Ids as Vietnamese portals write them, beside plain ASCII.
std::string site_key(int i) {
  static const char* const sites[] = {"soctrang.gov.vn", "baochinhphu.vn", "hanoi.gov.vn",
                                      "tuoitre.vn", "Giới thiệu"};
  return "{" + std::string(sites[i % 5]) + "}:/tin-tức/bài-" + std::to_string(i);
}

class ClusterClient : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!rc_.start()) FAIL() << rc_.error();
  }

  // The node whose port serves `slot` in the client's map.
  std::size_t client_master(const cluster_client& c, std::uint16_t slot) {
    const cluster::shard* s = c.map().shard_of(slot);
    return s == nullptr ? rc_.size() : rc_.node_of_port(s->master.port);
  }

  // A master other than `not_this`.
  std::size_t other_master(std::size_t not_this) {
    for (std::size_t m : rc_.masters()) {
      if (m != not_this) return m;
    }
    return rc_.size();
  }

  redis_cluster rc_;
};

void expect_ok(const call_result& r, const std::string& what) {
  EXPECT_TRUE(r.ok()) << what << ": " << r.error;
  EXPECT_FALSE(r.reply.is_error()) << what << ": " << r.reply.describe();
}

TEST_F(ClusterClient, RoutesEveryKeyToTheMasterOfItsSlot) {
  cluster_client client(options_for(rc_));
  std::vector<keyed_command> sets;
  std::vector<std::string> keys;
  for (int i = 0; i < 300; ++i) {
    keys.push_back(i % 2 == 0 ? site_key(i) : "key-" + std::to_string(i));
    sets.push_back({keys.back(), {"SET", keys.back(), "giá trị " + std::to_string(i)}});
  }
  const auto replies = client.run_many(sets);
  ASSERT_EQ(replies.size(), sets.size());
  for (std::size_t i = 0; i < replies.size(); ++i)
    expect_ok(replies[i], keys[i]);
  // The map was right from the start: no command was redirected.
  EXPECT_EQ(client.counters().moved.load(), 0u);
  EXPECT_EQ(client.counters().failures.load(), 0u);

  // Each key is on exactly one master, the one the cluster says serves its
  // slot (read with redis-cli, apart from the client).
  std::map<std::string, std::size_t> found_on;
  for (std::size_t m : rc_.masters()) {
    for (const std::string& k : rc_.cli_lines(m, {"KEYS", "*"})) {
      EXPECT_TRUE(found_on.emplace(k, m).second) << k << " is on two masters";
    }
  }
  ASSERT_EQ(found_on.size(), keys.size());
  std::vector<int> owner(16384, -1);
  for (const auto& v : rc_.view(0)) {
    if (!v.master) continue;
    for (const auto& [a, b] : v.slots) {
      for (int s = a; s <= b; ++s)
        owner[s] = static_cast<int>(rc_.node_of_port(v.port));
    }
  }
  for (const std::string& k : keys) {
    EXPECT_EQ(static_cast<int>(found_on[k]), owner[key_slot(k)]) << k;
  }
  // The server's slot for a sample of the keys is ours, and the owner
  // counts the keys of that slot.
  for (std::size_t i = 0; i < keys.size(); i += 15) {
    const std::uint16_t slot = key_slot(keys[i]);
    EXPECT_EQ(rc_.cli_integer(0, {"CLUSTER", "KEYSLOT", keys[i]}), slot) << keys[i];
    const std::size_t expected = static_cast<std::size_t>(std::count_if(
        keys.begin(), keys.end(), [&](const auto& k) { return key_slot(k) == slot; }));
    EXPECT_EQ(
        rc_.cli_integer(found_on[keys[i]], {"CLUSTER", "COUNTKEYSINSLOT", std::to_string(slot)}),
        static_cast<long long>(expected));
  }
  // And reads come back, each to its own command.
  std::vector<keyed_command> gets;
  for (const std::string& k : keys)
    gets.push_back({k, {"GET", k}});
  const auto values = client.run_many(gets);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(values[i].reply.text, "giá trị " + std::to_string(i)) << keys[i];
  }
}

TEST_F(ClusterClient, VietnameseAndBinaryKeysAreStoredAsTheirBytes) {
  cluster_client client(options_for(rc_));
  const std::string key = "{soctrang.gov.vn}:/tin-tức/bài-1";
  const std::string binary_key = std::string("{soctrang.gov.vn}:\x01\xff\xfe", 21);
  expect_ok(client.run(key, {"INCRBY", key, "41"}), "INCRBY");
  EXPECT_EQ(client.run(key, {"INCR", key}).reply.integer, 42);
  expect_ok(client.run(binary_key, {"HSET", binary_key, "Giới thiệu", "Sóc Trăng"}), "HSET");
  // One tag, one slot: a multi-key command on both is allowed.
  const call_result both = client.run(key, {"EXISTS", key, binary_key});
  expect_ok(both, "EXISTS");
  EXPECT_EQ(both.reply.integer, 2);
  const std::uint16_t slot = key_slot(key);
  EXPECT_EQ(rc_.cli_integer(0, {"CLUSTER", "KEYSLOT", key}), slot);
  EXPECT_EQ(rc_.cli_integer(0, {"CLUSTER", "KEYSLOT", binary_key}), slot);
  const auto owner = rc_.master_of_slot(slot);
  ASSERT_TRUE(owner);
  EXPECT_EQ(rc_.cli(*owner, {"GET", key}), "42");
  EXPECT_EQ(rc_.cli(*owner, {"HGET", binary_key, "Giới thiệu"}), "Sóc Trăng");
}

TEST_F(ClusterClient, FollowsMovedAfterASlotMigrationAndUpdatesItsMap) {
  cluster_client client(options_for(rc_));
  const std::string key = "{baochinhphu.vn}:tổng";
  const std::uint16_t slot = key_slot(key);
  expect_ok(client.run(key, {"SET", key, "7"}), "SET");
  const auto from = rc_.master_of_slot(slot);
  ASSERT_TRUE(from);
  const std::size_t to = other_master(*from);
  ASSERT_EQ(client_master(client, slot), *from);
  ASSERT_TRUE(rc_.migrate_slot(slot, to)) << rc_.error();

  const auto refreshes = client.counters().map_refreshes.load();
  const call_result r = client.run(key, {"GET", key});
  expect_ok(r, "GET after the migration");
  EXPECT_EQ(r.reply.text, "7");
  EXPECT_EQ(client.counters().moved.load(), 1u);
  // The entry was updated by the redirect itself...
  EXPECT_EQ(client_master(client, slot), to);
  EXPECT_EQ(client.counters().map_refreshes.load(), refreshes);
  // ...and the next call re-reads the whole map, which agrees.
  expect_ok(client.run(key, {"INCR", key}), "INCR");
  EXPECT_EQ(client.counters().map_refreshes.load(), refreshes + 1);
  EXPECT_EQ(client_master(client, slot), to);
  EXPECT_EQ(client.counters().moved.load(), 1u);
  EXPECT_EQ(rc_.cli(to, {"GET", key}), "8");
}

TEST_F(ClusterClient, FollowsAskDuringAMigrationAndRetriesTryagain) {
  cluster_client client(options_for(rc_, 3));
  const std::string a = "{hanoi.gov.vn}:a";
  const std::string b = "{hanoi.gov.vn}:b";
  const std::uint16_t slot = key_slot(a);
  expect_ok(client.run(a, {"SET", a, "1"}), "SET a");
  expect_ok(client.run(b, {"SET", b, "2"}), "SET b");
  const auto from = rc_.master_of_slot(slot);
  ASSERT_TRUE(from);
  const std::size_t to = other_master(*from);
  ASSERT_TRUE(rc_.begin_migration(slot, to)) << rc_.error();
  ASSERT_TRUE(rc_.move_keys(slot, 1)) << rc_.error();
  // (The target answers MOVED to a plain EXISTS for an importing slot;
  // GETKEYSINSLOT lists what it holds.)
  const auto on_target =
      rc_.cli_lines(to, {"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), "10"});
  ASSERT_EQ(on_target.size(), 1u);
  const bool a_moved = on_target.front() == a;
  const std::string& moved_key = a_moved ? a : b;
  const std::string& staying_key = a_moved ? b : a;

  // The key already moved: the source answers ASK, the target serves it
  // after ASKING; the map keeps the source.
  const call_result moved = client.run(moved_key, {"GET", moved_key});
  expect_ok(moved, "GET of the moved key");
  EXPECT_EQ(moved.reply.text, a_moved ? "1" : "2");
  EXPECT_EQ(client.counters().ask.load(), 1u);
  EXPECT_EQ(client_master(client, slot), *from);
  // The key still on the source is served there.
  const call_result staying = client.run(staying_key, {"GET", staying_key});
  expect_ok(staying, "GET of the key not moved yet");
  EXPECT_EQ(client.counters().ask.load(), 1u);
  // A new key of the slot is created on the target.
  const std::string c = "{hanoi.gov.vn}:mới";
  expect_ok(client.run(c, {"SET", c, "3"}), "SET of a new key");
  EXPECT_EQ(client.counters().ask.load(), 2u);
  EXPECT_EQ(rc_.cli_lines(to, {"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), "10"}).size(), 2u);

  // Both keys at once, split between the nodes: TRYAGAIN until the
  // migration ends; the client gives up after its attempts, saying why.
  const call_result split = client.run(a, {"MGET", a, b});
  EXPECT_FALSE(split.ok());
  EXPECT_NE(split.error.find("gave up after 3 attempts"), std::string::npos) << split.error;
  EXPECT_NE(split.error.find("TRYAGAIN"), std::string::npos) << split.error;
  EXPECT_GE(client.counters().retries.load(), 1u);
  EXPECT_EQ(client.counters().failures.load(), 1u);

  ASSERT_TRUE(rc_.move_keys(slot)) << rc_.error();
  ASSERT_TRUE(rc_.finish_migration(slot)) << rc_.error();
  const call_result after = client.run(a, {"MGET", a, b, c});
  expect_ok(after, "MGET after the migration");
  ASSERT_EQ(after.reply.elements.size(), 3u);
  EXPECT_EQ(after.reply.elements[0].text, "1");
  EXPECT_EQ(after.reply.elements[1].text, "2");
  EXPECT_EQ(after.reply.elements[2].text, "3");
  EXPECT_EQ(client_master(client, slot), to);
}

TEST_F(ClusterClient, AKilledMasterFailsCleanlyThenItsReplicaServes) {
  cluster_client client(options_for(rc_, 3));
  const std::string key = "{tuoitre.vn}:lượt-xem";
  const std::uint16_t slot = key_slot(key);
  expect_ok(client.run(key, {"INCRBY", key, "100"}), "INCRBY");
  // WAIT on the same connection: the replica has the write before the kill.
  const call_result waited = client.run(key, {"WAIT", "1", "2000"});
  ASSERT_EQ(waited.reply.integer, 1) << waited.reply.describe() << waited.error;

  const auto victim = rc_.master_of_slot(slot);
  ASSERT_TRUE(victim);
  rc_.kill_node(*victim);
  // Long before the node timeout ends, no one serves the slot: the client
  // stops after its attempts with the reason, instead of looping.
  const call_result during = client.run(key, {"INCR", key});
  EXPECT_FALSE(during.ok());
  EXPECT_NE(during.error.find("gave up after 3 attempts"), std::string::npos) << during.error;
  EXPECT_GE(client.counters().connection_errors.load(), 1u);
  EXPECT_EQ(client.counters().failures.load(), 1u);

  ASSERT_TRUE(rc_.wait_taken_over(slot, *victim)) << rc_.error();
  const call_result after = client.run(key, {"INCR", key});
  expect_ok(after, "INCR after the promotion");
  EXPECT_EQ(after.reply.integer, 101);
  EXPECT_NE(client_master(client, slot), *victim);

  // The old master comes back as a replica; nothing changes for the client.
  ASSERT_TRUE(rc_.restart_node(*victim)) << rc_.error();
  EXPECT_EQ(client.run(key, {"GET", key}).reply.text, "101");
}

TEST_F(ClusterClient, ClusterDownIsRetriedThenReported) {
  cluster_client client(options_for(rc_, 3));
  const std::string key = "{baochinhphu.vn}:tháng";
  const std::uint16_t slot = key_slot(key);
  expect_ok(client.run(key, {"SET", key, "9"}), "SET");
  // A whole shard lost (its master and its replica): with full coverage
  // required, the other masters refuse every slot once they notice.
  const auto owner = rc_.master_of_slot(slot);
  ASSERT_TRUE(owner);
  std::size_t lost_master = rc_.size();
  for (std::size_t m : rc_.masters()) {
    if (m != *owner) lost_master = m;
  }
  ASSERT_LT(lost_master, rc_.size());
  const auto lost_replicas = rc_.replicas_of(lost_master);
  ASSERT_EQ(lost_replicas.size(), 1u);
  rc_.kill_node(lost_master);
  rc_.kill_node(lost_replicas.front());
  ASSERT_TRUE(rc_.wait_state("fail")) << rc_.error();

  const call_result down = client.run(key, {"GET", key});
  EXPECT_FALSE(down.ok());
  EXPECT_NE(down.error.find("CLUSTERDOWN"), std::string::npos) << down.error;
  EXPECT_EQ(client.counters().cluster_down.load(), 3u);

  ASSERT_TRUE(rc_.start_all()) << rc_.error();
  const call_result back = client.run(key, {"GET", key});
  expect_ok(back, "GET after the shard came back");
  EXPECT_EQ(back.reply.text, "9");
}

TEST_F(ClusterClient, AHungMasterTimesOutThenServesAgain) {
  cluster::client_options o = options_for(rc_, 2);
  o.command_timeout = 300ms;
  cluster_client client(o);
  const std::string key = "{hanoi.gov.vn}:treo";
  expect_ok(client.run(key, {"SET", key, "1"}), "SET");
  const auto owner = rc_.master_of_slot(key_slot(key));
  ASSERT_TRUE(owner);
  // Paused for well under the node timeout: no failover, only silence.
  rc_.pause_node(*owner);
  const call_result hung = client.run(key, {"INCR", key});
  rc_.resume_node(*owner);
  EXPECT_FALSE(hung.ok());
  EXPECT_NE(
      hung.error.find("gave up after 2 attempts: 127.0.0.1:" + std::to_string(rc_.port(*owner))),
      std::string::npos)
      << hung.error;
  EXPECT_GE(client.counters().connection_errors.load(), 2u);

  // A timeout says nothing of whether the command ran: both attempts were
  // sent (a paused node still accepts connections) and both ran when it
  // woke. Hence the header's rule: callers retry only idempotent commands.
  const call_result after = client.run(key, {"INCR", key});
  expect_ok(after, "INCR after the pause");
  EXPECT_EQ(after.reply.integer, 4) << "1, two INCRs sent during the pause, this one";
  EXPECT_GE(client.counters().reconnects.load(), 1u);
}

TEST_F(ClusterClient, FollowsAClusterFailover) {
  cluster_client client(options_for(rc_));
  const std::string key = "{soctrang.gov.vn}:hôm-nay";
  const std::uint16_t slot = key_slot(key);
  expect_ok(client.run(key, {"SET", key, "5"}), "SET");
  const auto master = rc_.master_of_slot(slot);
  ASSERT_TRUE(master);
  const auto replicas = rc_.replicas_of(*master);
  ASSERT_FALSE(replicas.empty());
  ASSERT_TRUE(rc_.failover(replicas.front())) << rc_.error();

  // The old master is a replica now: it redirects, and the write lands on
  // the new master.
  const call_result r = client.run(key, {"INCR", key});
  expect_ok(r, "INCR after the failover");
  EXPECT_EQ(r.reply.integer, 6);
  EXPECT_GE(client.counters().moved.load(), 1u);
  EXPECT_EQ(client_master(client, slot), replicas.front());
  EXPECT_EQ(rc_.cli(replicas.front(), {"GET", key}), "6");
}

TEST_F(ClusterClient, SurvivesTheWholeClusterStoppedAndStarted) {
  cluster_client client(options_for(rc_, 2));
  std::vector<keyed_command> sets;
  for (int i = 0; i < 30; ++i)
    sets.push_back({site_key(i), {"SET", site_key(i), std::to_string(i)}});
  for (const auto& r : client.run_many(sets))
    expect_ok(r, "SET");

  rc_.stop_all();
  const call_result down = client.run(site_key(0), {"GET", site_key(0)});
  EXPECT_FALSE(down.ok());
  EXPECT_NE(down.error.find("gave up after 2 attempts"), std::string::npos) << down.error;

  ASSERT_TRUE(rc_.start_all()) << rc_.error();
  // Same ports, same nodes.conf, data from the AOF.
  std::vector<keyed_command> gets;
  for (int i = 0; i < 30; ++i)
    gets.push_back({site_key(i), {"GET", site_key(i)}});
  const auto values = client.run_many(gets);
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(values[i].ok()) << values[i].error;
    EXPECT_EQ(values[i].reply.text, std::to_string(i)) << site_key(i);
  }
  EXPECT_GE(client.counters().reconnects.load(), 1u);
}

TEST_F(ClusterClient, PipelinesAndManySlotCallsKeepTheirOrder) {
  cluster_client client(options_for(rc_));
  // One slot: the commands run in the order sent.
  const std::string list = "{baochinhphu.vn}:thứ-tự";
  std::vector<command> pushes;
  for (int i = 0; i < 50; ++i)
    pushes.push_back({"RPUSH", list, "bài-" + std::to_string(i)});
  pushes.push_back({"LRANGE", list, "0", "-1"});
  const auto replies = client.pipeline(list, pushes);
  ASSERT_EQ(replies.size(), 51u);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(replies[i].reply.integer, i + 1);
  ASSERT_EQ(replies[50].reply.elements.size(), 50u);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(replies[50].reply.elements[i].text, "bài-" + std::to_string(i));

  // Many slots on every master, interleaved: each reply is its own command's.
  std::vector<keyed_command> mixed;
  for (int i = 0; i < 120; ++i) {
    const std::string k = "đếm:" + std::to_string(i);
    mixed.push_back({k, {"INCRBY", k, std::to_string(i * 3)}});
    mixed.push_back({k, {"TYPE", k}});
  }
  mixed.push_back({"khóa-trống", {}});  // refused without a send
  const auto results = client.run_many(mixed);
  ASSERT_EQ(results.size(), mixed.size());
  for (int i = 0; i < 120; ++i) {
    EXPECT_EQ(results[2 * i].reply.integer, i * 3);
    EXPECT_EQ(results[2 * i + 1].reply.text, "string");
  }
  EXPECT_EQ(results.back().error, "empty command");
  std::set<std::uint16_t> masters_used;
  for (int i = 0; i < 120; ++i) {
    masters_used.insert(client.map().shard_of(key_slot("đếm:" + std::to_string(i)))->master.port);
  }
  EXPECT_EQ(masters_used.size(), 3u);
}

TEST_F(ClusterClient, FunctionLoadReachesEveryMasterAndReloadsWhereMissing) {
  cluster_client client(options_for(rc_));
  const std::string library =
      "#!lua name=pvc_test\n"
      "redis.register_function('pvc_echo', function(keys, args)\n"
      "  return keys[1] .. '=' .. args[1]\n"
      "end)\n";
  const auto loaded = client.function_load(library, false);
  ASSERT_EQ(loaded.size(), 3u);
  for (const auto& n : loaded) {
    expect_ok(n.result, n.node.to_string());
    EXPECT_EQ(n.result.reply.text, "pvc_test");
  }
  // Every master lists it, and the replicas have it by replication.
  for (std::size_t m : rc_.masters()) {
    EXPECT_NE(rc_.cli(m, {"FUNCTION", "LIST", "LIBRARYNAME", "pvc_test"}).find("pvc_echo"),
              std::string::npos)
        << "master " << m;
  }
  for (std::size_t m : rc_.masters()) {
    for (std::size_t r : rc_.replicas_of(m)) {
      // Replication is asynchronous (and redis-cli's own WAIT covers none of
      // the client's writes): give it a bounded moment.
      EXPECT_TRUE(wait_until([&] {
        return rc_.cli(r, {"FUNCTION", "LIST"}).find("pvc_echo") != std::string::npos;
      })) << "replica "
          << r;
    }
  }
  const std::string key = "{soctrang.gov.vn}:/tin-tức/bài-1";
  const call_result echoed = client.run(key, {"FCALL", "pvc_echo", "1", key, "Giới thiệu"});
  expect_ok(echoed, "FCALL");
  EXPECT_EQ(echoed.reply.text, key + "=Giới thiệu");

  // Loading again without REPLACE: each master refuses; with REPLACE: fine.
  for (const auto& n : client.function_load(library, false))
    EXPECT_TRUE(n.result.reply.is_error());
  for (const auto& n : client.function_load(library, true))
    expect_ok(n.result, n.node.to_string());

  // A master that lost its functions (as a master added later has none):
  // the call reloads the library there and succeeds.
  const auto owner = rc_.master_of_slot(key_slot(key));
  ASSERT_TRUE(owner);
  ASSERT_EQ(rc_.cli(*owner, {"FUNCTION", "FLUSH"}), "OK");
  // A pipeline of calls there reloads it once.
  const std::vector<command> calls = {{"FCALL", "pvc_echo", "1", key, "lần 1"},
                                      {"FCALL", "pvc_echo", "1", key, "lần 2"},
                                      {"FCALL", "pvc_echo", "1", key, "lần 3"}};
  const auto again = client.pipeline(key, calls);
  ASSERT_EQ(again.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    expect_ok(again[i], "FCALL after FUNCTION FLUSH");
    EXPECT_EQ(again[i].reply.text, key + "=lần " + std::to_string(i + 1));
  }
  EXPECT_EQ(client.counters().function_reloads.load(), 1u);
}

TEST_F(ClusterClient, ReadsFromAReplicaWhenAllowed) {
  cluster::client_options o = options_for(rc_);
  o.read_from_replicas = true;
  cluster_client client(o);
  const std::string key = "{hanoi.gov.vn}:đọc";
  const std::uint16_t slot = key_slot(key);
  expect_ok(client.run(key, {"SET", key, "từ bản sao"}), "SET");
  ASSERT_EQ(client.run(key, {"WAIT", "1", "2000"}).reply.integer, 1);
  const auto master = rc_.master_of_slot(slot);
  ASSERT_TRUE(master);
  const auto replicas = rc_.replicas_of(*master);
  ASSERT_EQ(replicas.size(), 1u);
  // CLUSTER SLOTS lists a replica once its master has heard of its
  // replication offset (gossip, within a second or so of the first write).
  for (int tries = 0; tries < 100; ++tries) {
    ASSERT_EQ(client.refresh_map(), "");
    if (!client.map().shard_of(slot)->replicas.empty()) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(client.map().shard_of(slot)->replicas.size(), 1u);
  EXPECT_EQ(client.map().shard_of(slot)->replicas[0].port, rc_.port(replicas.front()));

  const call_result r = client.run(key, {"GET", key}, read_from::replica);
  expect_ok(r, "GET from a replica");
  EXPECT_EQ(r.reply.text, "từ bản sao");
  // The replica has a READONLY client ('r' flag) whose last command was GET;
  // the master has none.
  const auto readonly_get = [](const std::vector<std::string>& clients) {
    return std::any_of(clients.begin(), clients.end(), [](const std::string& line) {
      return line.find(" flags=r ") != std::string::npos &&
             line.find(" cmd=get ") != std::string::npos;
    });
  };
  EXPECT_TRUE(readonly_get(rc_.cli_lines(replicas.front(), {"CLIENT", "LIST"})));
  EXPECT_FALSE(readonly_get(rc_.cli_lines(*master, {"CLIENT", "LIST"})));
  // Writes still go to the master.
  expect_ok(client.run(key, {"APPEND", key, "!"}), "APPEND");
  EXPECT_EQ(rc_.cli(*master, {"GET", key}), "từ bản sao!");
}

TEST(ClusterClientAuth, UsesThePasswordAndSaysWhenItIsMissing) {
  redis_cluster rc;
  redis_cluster_options ro;
  ro.password = "mật-khẩu-thử";
  if (!rc.start(ro)) FAIL() << rc.error();
  cluster::client_options o = options_for(rc, 2);
  {
    cluster_client without(o);
    const call_result r = without.run("k", {"GET", "k"});
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.error.find("NOAUTH"), std::string::npos) << r.error;
  }
  o.password = "sai";
  {
    cluster_client wrong(o);
    const call_result r = wrong.run("k", {"GET", "k"});
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.error.find("AUTH refused"), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find("sai"), std::string::npos) << "the password is echoed: " << r.error;
  }
  o.password = ro.password;
  cluster_client with(o);
  expect_ok(with.run("k", {"SET", "k", "v"}), "SET with AUTH");
  EXPECT_EQ(with.run("k", {"GET", "k"}).reply.text, "v");
}

}  // namespace
}  // namespace pvc::test
