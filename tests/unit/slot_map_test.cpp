#include "cluster/slot_map.hpp"

#include <gtest/gtest.h>

namespace pvc::cluster {
namespace {

redis_reply node(std::string host, long long port, std::string id) {
  return redis_reply::make_array({redis_reply::make_string(std::move(host)),
                                  redis_reply::make_integer(port),
                                  redis_reply::make_string(std::move(id)),
                                  redis_reply::make_array({})});  // Redis 7's metadata map
}

redis_reply range(long long first, long long last, std::vector<redis_reply> nodes) {
  std::vector<redis_reply> e = {redis_reply::make_integer(first), redis_reply::make_integer(last)};
  for (auto& n : nodes)
    e.push_back(std::move(n));
  return redis_reply::make_array(std::move(e));
}

// Three masters with a replica each, as `redis-cli --cluster create` lays
// them out; the third master also owns a second range.
redis_reply three_shards() {
  return redis_reply::make_array({
      range(0, 5460, {node("127.0.0.1", 7000, "a"), node("127.0.0.1", 7004, "d")}),
      range(5461, 10922, {node("127.0.0.1", 7001, "b"), node("127.0.0.1", 7005, "e")}),
      range(10923, 16382, {node("127.0.0.1", 7002, "c"), node("127.0.0.1", 7003, "f")}),
      range(16383, 16383, {node("127.0.0.1", 7002, "c"), node("127.0.0.1", 7003, "f")}),
  });
}

TEST(SlotMap, ReadsClusterSlots) {
  slot_map m;
  EXPECT_TRUE(m.empty());
  ASSERT_EQ(m.assign_from_cluster_slots(three_shards(), "127.0.0.1"), "");
  EXPECT_EQ(m.served_slots(), 16384u);
  ASSERT_NE(m.shard_of(0), nullptr);
  EXPECT_EQ(m.shard_of(0)->master, (node_address{"127.0.0.1", 7000}));
  EXPECT_EQ(m.shard_of(5460)->master.port, 7000);
  EXPECT_EQ(m.shard_of(5461)->master.port, 7001);
  EXPECT_EQ(m.shard_of(16383)->master.port, 7002);
  ASSERT_EQ(m.shard_of(12182)->replicas.size(), 1u);
  EXPECT_EQ(m.shard_of(12182)->replicas[0].port, 7003);
  // Two ranges of one master are one shard.
  EXPECT_EQ(m.masters().size(), 3u);
  EXPECT_EQ(m.nodes().size(), 6u);
  EXPECT_EQ(m.shard_of(16384), nullptr);
}

TEST(SlotMap, FillsInEmptyHostsAndSkipsUnknownEndpoints) {
  const redis_reply reply = redis_reply::make_array({
      range(0, 99, {node("", 7000, "a"), node("?", 7004, "d"), node("127.0.0.2", 7005, "e")}),
      range(100, 199, {node("?", 7001, "b")}),
  });
  slot_map m;
  ASSERT_EQ(m.assign_from_cluster_slots(reply, "10.1.2.3"), "");
  EXPECT_EQ(m.shard_of(0)->master, (node_address{"10.1.2.3", 7000}));
  ASSERT_EQ(m.shard_of(0)->replicas.size(), 1u);
  EXPECT_EQ(m.shard_of(0)->replicas[0].port, 7005);
  EXPECT_EQ(m.shard_of(100), nullptr);  // its master cannot be reached
  EXPECT_EQ(m.shard_of(200), nullptr);  // no node serves it
  EXPECT_EQ(m.served_slots(), 100u);
}

TEST(SlotMap, MovedUpdatesOneSlot) {
  slot_map m;
  ASSERT_EQ(m.assign_from_cluster_slots(three_shards(), "127.0.0.1"), "");
  m.move_slot(12182, node_address{"127.0.0.1", 7000});
  EXPECT_EQ(m.shard_of(12182)->master.port, 7000);
  EXPECT_EQ(m.shard_of(12182)->replicas.size(), 1u);  // 7000's shard: its replica is known
  EXPECT_EQ(m.shard_of(12183)->master.port, 7002);
  // A master not in the map yet: a shard of its own, no replicas known.
  m.move_slot(1, node_address{"127.0.0.1", 7010});
  EXPECT_EQ(m.shard_of(1)->master.port, 7010);
  EXPECT_TRUE(m.shard_of(1)->replicas.empty());
  EXPECT_EQ(m.masters().size(), 4u);
}

TEST(SlotMap, RefusesMalformedRepliesAndKeepsTheMap) {
  slot_map m;
  ASSERT_EQ(m.assign_from_cluster_slots(three_shards(), "127.0.0.1"), "");
  const redis_reply bad[] = {
      redis_reply::make_error("ERR This instance has cluster support disabled"),
      redis_reply::make_array({range(0, 16384, {node("h", 1, "a")})}),
      redis_reply::make_array({range(10, 5, {node("h", 1, "a")})}),
      redis_reply::make_array({range(0, 5, {})}),
      redis_reply::make_array({range(0, 5, {node("h", 0, "a")})}),
      redis_reply::make_array({redis_reply::make_string("x")}),
  };
  for (const redis_reply& r : bad) {
    SCOPED_TRACE(r.describe());
    EXPECT_NE(m.assign_from_cluster_slots(r, "127.0.0.1"), "");
    EXPECT_EQ(m.served_slots(), 16384u);
    EXPECT_EQ(m.shard_of(0)->master.port, 7000);
  }
}

}  // namespace
}  // namespace pvc::cluster
