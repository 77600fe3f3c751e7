// Cluster mode against real parts: six redis-server processes in a cluster
// (3 masters, 3 replicas; support/redis_cluster) and three pvcd nodes
// counting into it, all on loopback. Every test counts the hits pvcd
// accepted (204 / UDP lines sent) and requires exactly that many on every
// node's API and in Redis once the outboxes drain, through a fault.
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cluster/key_slot.hpp"
#include "core/cluster_keys.hpp"
#include "support/daemon_process.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/pvcd_api.hpp"
#include "support/redis_cluster.hpp"

namespace pvc::test {
namespace {

using namespace std::chrono_literals;

const std::array<std::string, 2> sites = {"soctrang.gov.vn", "baochinhphu.vn"};
constexpr int articles_per_site = 20;

std::string article_id(int j) {
  return "/tin-tuc/bai-" + std::to_string(j);
}

class ClusterMode : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.start()) << redis_.error(); }

  // Starts node i (0..2) on its own data dir (kept across restarts).
  void start_node(std::size_t i, std::vector<std::string> extra = {}) {
    daemon_options o;
    o.data_dir = dir_.path() / ("node" + std::to_string(i));
    std::string seeds;
    for (const auto& s : redis_.seeds())
      seeds += (seeds.empty() ? "" : ",") + s;
    o.extra_args = {"--redis-cluster", seeds,  "--node-name", "node" + std::to_string(i),
                    "--redis-timeout", "500ms"};
    for (auto& e : extra)
      o.extra_args.push_back(std::move(e));
    nodes_[i] = std::make_unique<daemon_process>();
    ASSERT_TRUE(nodes_[i]->start(o)) << nodes_[i]->error();
  }
  void start_nodes() {
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      start_node(i);
  }

  // One hit on node i over HTTP; counted in `expected` when pvcd accepted it.
  bool hit(std::size_t i, const std::string& site, int article) {
    const http_reply r =
        http_once(nodes_[i]->ports().http, "GET", "/hit?s=" + site + "&a=" + article_id(article));
    if (r.status != 204) return false;
    expected_[site][article_id(article)] += 1;
    return true;
  }
  // `n` views in one UDP line to node i (loopback, one datagram: not lost
  // unless the socket queue overflows, which a few datagrams cannot do).
  void udp_hits(std::size_t i, const std::string& site, int article, int n) {
    udp_sender u(nodes_[i]->ports().udp);
    ASSERT_TRUE(u.send(site + " " + article_id(article) + " " + std::to_string(n))) << u.error();
    expected_[site][article_id(article)] += static_cast<std::uint64_t>(n);
  }

  // Hits spread over the running nodes, sites and articles.
  void hits(int count) {
    for (int k = 0; k < count; ++k) {
      const std::size_t node = static_cast<std::size_t>(k) % nodes_.size();
      if (!nodes_[node] || !nodes_[node]->running()) continue;
      hit(node, sites[static_cast<std::size_t>(k / 3) % sites.size()], (k * 7) % articles_per_site);
    }
  }

  std::uint64_t expected_total(const std::string& site) const {
    std::uint64_t t = 0;
    if (auto it = expected_.find(site); it != expected_.end())
      for (const auto& [a, n] : it->second)
        t += n;
    return t;
  }

  // Every running node answers exactly the expected figures (site totals,
  // today and every article), within `timeout`.
  ::testing::AssertionResult every_node_exact(std::chrono::milliseconds timeout = 30s) {
    std::string last;
    const bool ok = wait_until(
        [&] {
          for (std::size_t i = 0; i < nodes_.size(); ++i) {
            if (!nodes_[i] || !nodes_[i]->running()) continue;
            for (const std::string& site : sites) {
              std::vector<std::string> ids;
              for (int j = 0; j < articles_per_site; ++j)
                ids.push_back(article_id(j));
              const views_reply v = fetch_views(nodes_[i]->ports().http, site, ids);
              const std::uint64_t want = expected_total(site);
              if (!v.error.empty() || v.total != want || v.today != want) {
                last = "node" + std::to_string(i) + " " + site + ": total " +
                       std::to_string(v.total) + " today " + std::to_string(v.today) +
                       ", expected " + std::to_string(want) + " " + v.error;
                return false;
              }
              for (const auto& id : ids) {
                const std::uint64_t a = expected_.count(site) && expected_.at(site).count(id)
                                            ? expected_.at(site).at(id)
                                            : 0;
                if (v.articles.at(id).total != a) {
                  last = "node" + std::to_string(i) + " " + site + id + ": " +
                         std::to_string(v.articles.at(id).total) + ", expected " +
                         std::to_string(a);
                  return false;
                }
              }
            }
          }
          return true;
        },
        timeout, 100ms);
    if (ok) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << last;
  }

  // The site's all-time total as Redis holds it (read on the slot's master).
  long long redis_total(const std::string& site) {
    const std::string key = cluster_keys::total(site);
    const auto owner = redis_.master_of_slot(cluster::key_slot(key));
    if (!owner) return -1;
    return redis_.cli_integer(*owner, {"GET", key});
  }

  redis_cluster redis_;
  temp_dir dir_;
  std::array<std::unique_ptr<daemon_process>, 3> nodes_;
  std::map<std::string, std::map<std::string, std::uint64_t>> expected_;
};

TEST_F(ClusterMode, ThreeNodesCountExactlyAndEveryNodeAnswersTheClusterWideFigures) {
  start_nodes();
  hits(600);
  for (std::size_t i = 0; i < 3; ++i)
    udp_hits(i, sites[0], 3, 100 + static_cast<int>(i));
  EXPECT_TRUE(every_node_exact());
  for (const std::string& site : sites)
    EXPECT_EQ(redis_total(site), static_cast<long long>(expected_total(site))) << site;
  // Most viewed and the list of sites are the cluster's too.
  const http_reply sites_reply = http_once(nodes_[2]->ports().http, "GET", "/api/v1/sites");
  EXPECT_NE(sites_reply.body.find("\"site\":\"soctrang.gov.vn\",\"total\":" +
                                  std::to_string(expected_total(sites[0]))),
            std::string::npos)
      << sites_reply.body;
  http_reply top;
  ASSERT_TRUE(wait_until([&] {
    top = http_once(nodes_[1]->ports().http, "GET", "/api/v1/top?s=soctrang.gov.vn&period=all&n=1");
    return top.status == 200;
  }));
  EXPECT_EQ(top.body, "[{\"id\":\"/tin-tuc/bai-3\",\"views\":" +
                          std::to_string(expected_[sites[0]][article_id(3)]) + "}]");
}

TEST_F(ClusterMode, ARedisMasterKilledWhileCountingLosesNothingAndCountsNothingTwice) {
  start_nodes();
  hits(150);
  std::atomic<bool> done{false};
  std::optional<std::size_t> killed;
  std::thread killer([&] {
    std::this_thread::sleep_for(200ms);
    killed = redis_.kill_master_of_slot(cluster::key_slot(cluster_keys::total(sites[0])));
    EXPECT_TRUE(killed) << redis_.error();
    done = true;
  });
  while (!done)
    hits(30);
  killer.join();
  hits(150);
  // Until the dead master is back (as its successor's replica) the shard has
  // no replica: WAIT cannot confirm a flush there, so the outboxes hold them
  // (redis_wait_replicas = 1). The operator restarts it; then they drain.
  ASSERT_TRUE(killed);
  ASSERT_TRUE(redis_.restart_node(*killed)) << redis_.error();
  EXPECT_TRUE(every_node_exact(60s));
  EXPECT_EQ(redis_total(sites[0]), static_cast<long long>(expected_total(sites[0])));
}

TEST_F(ClusterMode, AManualFailoverAndASlotMigrationWhileCountingChangeNothing) {
  start_nodes();
  const std::uint16_t slot = cluster::key_slot(cluster_keys::total(sites[0]));
  hits(150);
  const auto master = redis_.master_of_slot(slot);
  ASSERT_TRUE(master);
  const auto replicas = redis_.replicas_of(*master);
  ASSERT_FALSE(replicas.empty());
  std::atomic<bool> done{false};
  std::thread fault([&] {
    EXPECT_TRUE(redis_.failover(replicas[0])) << redis_.error();
    // Then the site's slot moves to another master, key by key (MOVED, ASK).
    const auto now_master = redis_.master_of_slot(slot);
    std::size_t to = 0;
    for (std::size_t m : redis_.masters())
      if (!now_master || m != *now_master) to = m;
    EXPECT_TRUE(redis_.begin_migration(slot, to)) << redis_.error();
    std::this_thread::sleep_for(300ms);
    EXPECT_TRUE(redis_.move_keys(slot, 3)) << redis_.error();
    std::this_thread::sleep_for(300ms);
    EXPECT_TRUE(redis_.move_keys(slot)) << redis_.error();
    EXPECT_TRUE(redis_.finish_migration(slot)) << redis_.error();
    done = true;
  });
  while (!done)
    hits(30);
  fault.join();
  hits(150);
  EXPECT_TRUE(every_node_exact(60s));
  EXPECT_EQ(redis_total(sites[0]), static_cast<long long>(expected_total(sites[0])));
}

TEST_F(ClusterMode, TheWholeClusterDownForTenSecondsThenBackDrainsEveryOutboxOnce) {
  start_nodes();
  hits(150);
  ASSERT_TRUE(every_node_exact());
  const std::uint64_t before = expected_total(sites[0]);
  redis_.stop_all();
  const auto stopped = std::chrono::steady_clock::now();
  // Nodes keep counting; reads answer the last figures they had.
  while (std::chrono::steady_clock::now() - stopped < 10s) {
    hits(30);
    std::this_thread::sleep_for(100ms);
  }
  const views_reply during = fetch_views(nodes_[0]->ports().http, sites[0]);
  EXPECT_EQ(during.error, "");
  EXPECT_EQ(during.total, before);  // the cached figure
  ASSERT_TRUE(redis_.start_all()) << redis_.error();
  hits(90);
  EXPECT_TRUE(every_node_exact(60s));
  EXPECT_EQ(redis_total(sites[0]), static_cast<long long>(expected_total(sites[0])));
}

TEST_F(ClusterMode, AFlushAppliedButNotAcknowledgedIsSentAgainWithoutADoubleCount) {
  // Two replicas asked of shards that have one: every WAIT falls short, so
  // each flush is applied, kept in the outbox and sent again and again,
  // answered "dup" each time: the reply that would let it go is "lost".
  for (std::size_t i = 0; i < 3; ++i)
    start_node(i, {"--redis-wait-replicas", "2"});
  hits(90);
  EXPECT_TRUE(every_node_exact());
  ASSERT_TRUE(wait_until([&] {
    const auto dup = scrape(nodes_[0]->ports().admin, "pvcd_cluster_ship_duplicates_total");
    return dup && *dup > 0;
  })) << "no flush was sent again";
  // Restarted with one replica asked, the nodes ship their outboxes:
  // every flush there is a duplicate now, and nothing counts twice.
  for (std::size_t i = 0; i < 3; ++i) {
    nodes_[i]->stop();
    start_node(i);
  }
  ASSERT_TRUE(wait_until(
      [&] {
        for (auto& n : nodes_) {
          const auto depth = scrape(n->ports().admin, "pvcd_cluster_outbox_flushes");
          if (!depth || *depth != 0) return false;
        }
        return true;
      },
      30s));
  hits(30);
  EXPECT_TRUE(every_node_exact());
  EXPECT_EQ(redis_total(sites[0]), static_cast<long long>(expected_total(sites[0])));
}

TEST_F(ClusterMode, APvcdNodeKilledAndRestartedShipsWhatItHeldOnce) {
  start_nodes();
  hits(150);
  // UDP views on node 1, then kill -9 right away: they are in its memory or
  // its outbox. The views a crash can lose are those of the last flush
  // interval (the node's stated bound), so wait one interval first.
  udp_hits(1, sites[1], 5, 250);
  std::this_thread::sleep_for(300ms);
  nodes_[1]->kill_hard();
  hits(60);
  start_node(1);
  hits(60);
  EXPECT_TRUE(every_node_exact());
  EXPECT_EQ(redis_total(sites[1]), static_cast<long long>(expected_total(sites[1])));
}

TEST_F(ClusterMode, PvctlStatsShowsTheNodesClusterBlockWithItsOutboxDrained) {
  start_nodes();
  hits(60);
  // Ids are visible ASCII (core/ids.hpp): portals send "Giới thiệu" as its slug.
  const std::string article = "/gioi-thieu/so-noi-vu";
  udp_sender u(nodes_[2]->ports().udp);
  ASSERT_TRUE(u.send(sites[1] + " " + article + " 7")) << u.error();
  // Visible on another node (node 2 shipped it), and read through node 2's own cache.
  for (std::size_t i : {0, 2}) {
    ASSERT_TRUE(wait_until(
        [&] {
          const views_reply v = fetch_views(nodes_[i]->ports().http, sites[1], {article});
          return v.error.empty() && v.articles.count(article) && v.articles.at(article).total == 7;
        },
        30s))
        << "node" << i;
  }
  ASSERT_TRUE(wait_until(
      [&] {
        const auto depth = scrape(nodes_[2]->ports().admin, "pvcd_cluster_outbox_flushes");
        return depth && *depth == 0;
      },
      30s));
  const std::string server = "http://127.0.0.1:" + std::to_string(nodes_[2]->ports().admin);
  const command_result json_stats =
      run_command({pvctl_binary(), "--server", server, "stats", "--json"});
  ASSERT_TRUE(json_stats.status.ok()) << json_stats.status.describe() << json_stats.err;
  const boost::json::object c =
      boost::json::parse(json_stats.out).as_object().at("cluster").as_object();
  EXPECT_EQ(c.at("node").as_string(), "node2");
  EXPECT_EQ(c.at("incarnation").as_string().size(), 32u);
  const boost::json::object& box = c.at("outbox").as_object();
  EXPECT_EQ(box.at("flushes").to_number<std::uint64_t>(), 0u);
  EXPECT_EQ(box.at("bytes").to_number<std::uint64_t>(), 0u);
  EXPECT_GT(box.at("max_bytes").to_number<std::uint64_t>(), 0u);
  EXPECT_EQ(box.at("oldest_age_seconds").to_number<double>(), 0.0);
  EXPECT_GT(c.at("shipped_flushes").to_number<std::uint64_t>(), 0u);
  // Its 20 HTTP hits and the UDP line: at least the UDP line's key, at most one key per view.
  const std::uint64_t keys = c.at("shipped_keys").to_number<std::uint64_t>();
  EXPECT_GE(keys, 1u);
  EXPECT_LE(keys, 21u);
  EXPECT_EQ(c.at("gaps").to_number<std::uint64_t>(), 0u);
  EXPECT_FALSE(c.at("failing").as_bool());
  EXPECT_TRUE(c.at("redirects").as_object().contains("moved"));
  EXPECT_GT(c.at("read_cache").as_object().at("hits").to_number<std::uint64_t>(), 0u);
  // The same figure as /metrics.
  EXPECT_EQ(scrape(nodes_[2]->ports().admin, "pvcd_cluster_shipped_keys_total"),
            static_cast<double>(keys));

  const command_result text = run_command({pvctl_binary(), "--server", server, "stats"});
  ASSERT_TRUE(text.status.ok()) << text.err;
  EXPECT_NE(text.out.find("cluster: node node2, incarnation " +
                          std::string(c.at("incarnation").as_string())),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("  outbox: 0 flushes, 0 of "), std::string::npos) << text.out;
}

}  // namespace
}  // namespace pvc::test
