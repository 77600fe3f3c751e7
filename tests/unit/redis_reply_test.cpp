#include "cluster/redis_reply.hpp"

#include <gtest/gtest.h>

namespace pvc::cluster {
namespace {

TEST(RedisReply, ClassifiesRedirects) {
  const reply_class moved = classify_error("MOVED 3999 127.0.0.1:6381");
  EXPECT_EQ(moved.kind, error_kind::moved);
  EXPECT_EQ(moved.slot, 3999);
  EXPECT_EQ(moved.node, (node_address{"127.0.0.1", 6381}));

  const reply_class ask = classify_error("-ASK 16383 10.0.0.7:7002");  // with RESP's '-'
  EXPECT_EQ(ask.kind, error_kind::ask);
  EXPECT_EQ(ask.slot, 16383);
  EXPECT_EQ(ask.node, (node_address{"10.0.0.7", 7002}));

  // A node that does not know its own address names only the port.
  const reply_class no_host = classify_error("MOVED 0 :7003");
  EXPECT_EQ(no_host.kind, error_kind::moved);
  EXPECT_EQ(no_host.node, (node_address{"", 7003}));

  // IPv6, as Redis writes it: unbracketed, the port after the last ':'.
  const reply_class v6 = classify_error("MOVED 12 ::1:7004");
  EXPECT_EQ(v6.kind, error_kind::moved);
  EXPECT_EQ(v6.node, (node_address{"::1", 7004}));

  const reply_class named = classify_error("ASK 5 redis-2.lan:6379");
  EXPECT_EQ(named.node, (node_address{"redis-2.lan", 6379}));
}

TEST(RedisReply, MalformedRedirectsAreNotFollowed) {
  for (std::string_view text :
       {"MOVED", "MOVED ", "MOVED 3999", "MOVED 3999 127.0.0.1", "MOVED 16384 127.0.0.1:6381",
        "MOVED -1 127.0.0.1:6381", "MOVED x 127.0.0.1:6381", "MOVED 3999 127.0.0.1:0",
        "MOVED 3999 127.0.0.1:65536", "ASK 1 h:p", "MOVEDX 1 h:1", "ASKING"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(classify_error(text).kind, error_kind::other);
  }
}

TEST(RedisReply, ClassifiesRetriesAndOutages) {
  EXPECT_EQ(classify_error("TRYAGAIN Multiple keys request during rehashing of slot").kind,
            error_kind::tryagain);
  EXPECT_EQ(classify_error("LOADING Redis is loading the dataset in memory").kind,
            error_kind::tryagain);
  EXPECT_EQ(classify_error("MASTERDOWN Link with MASTER is down").kind, error_kind::tryagain);
  EXPECT_EQ(classify_error("CLUSTERDOWN The cluster is down").kind, error_kind::clusterdown);
  EXPECT_EQ(classify_error("CLUSTERDOWN Hash slot not served").kind, error_kind::clusterdown);
  EXPECT_EQ(classify_error("-CLUSTERDOWN").kind, error_kind::clusterdown);
  // The command's own errors are answers for the caller.
  EXPECT_EQ(
      classify_error("WRONGTYPE Operation against a key holding the wrong kind of value").kind,
      error_kind::other);
  EXPECT_EQ(classify_error("ERR Function not found").kind, error_kind::other);
  EXPECT_EQ(classify_error("TRYAGAINX").kind, error_kind::other);
  EXPECT_EQ(classify_error("").kind, error_kind::other);
}

TEST(RedisReply, OnlyErrorRepliesAreClassified) {
  EXPECT_EQ(classify(redis_reply::make_string("MOVED 1 127.0.0.1:7000")).kind, error_kind::none);
  EXPECT_EQ(classify(redis_reply::make_status("OK")).kind, error_kind::none);
  EXPECT_EQ(classify(redis_reply{}).kind, error_kind::none);
  EXPECT_EQ(classify(redis_reply::make_error("MOVED 1 127.0.0.1:7000")).kind, error_kind::moved);
}

TEST(RedisReply, DescribesForLogs) {
  EXPECT_EQ(redis_reply::make_integer(3).describe(), "(integer) 3");
  EXPECT_EQ(redis_reply{}.describe(), "(nil)");
  EXPECT_EQ(redis_reply::make_error("ERR x").describe(), "(error) ERR x");
  EXPECT_EQ(
      redis_reply::make_array({redis_reply::make_string("Giới thiệu"), redis_reply{}}).describe(),
      "[\"Giới thiệu\", (nil)]");
  const std::string long_text(1000, 'a');
  EXPECT_LT(redis_reply::make_string(long_text).describe().size(), 300u);
}

TEST(NodeAddress, ParsesWhatConfigurationAndRedirectsWrite) {
  EXPECT_EQ(parse_node_address("127.0.0.1:7000"), (node_address{"127.0.0.1", 7000}));
  EXPECT_EQ(parse_node_address("redis.soctrang.gov.vn:6379"),
            (node_address{"redis.soctrang.gov.vn", 6379}));
  EXPECT_EQ(parse_node_address("[::1]:7000"), (node_address{"::1", 7000}));
  EXPECT_EQ(parse_node_address("::1:7000"), (node_address{"::1", 7000}));
  EXPECT_EQ(parse_node_address(":7000"), (node_address{"", 7000}));
  for (std::string_view bad :
       {"", "host", "host:", "host:0", "host:65536", "host:12a", "host:-1"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(parse_node_address(bad));
  }
  EXPECT_EQ((node_address{"::1", 7000}).to_string(), "[::1]:7000");
  EXPECT_EQ((node_address{"127.0.0.1", 7000}).to_string(), "127.0.0.1:7000");
}

}  // namespace
}  // namespace pvc::cluster
