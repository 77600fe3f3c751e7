// Cluster mode against real parts: six redis-server processes in a cluster
// (3 masters, 3 replicas; support/redis_cluster) and three pvcd nodes
// counting into it, all on loopback. Every test counts the hits pvcd
// accepted (204 / UDP lines sent) and requires exactly that many on every
// node's API and in Redis once the outboxes drain, through a fault.
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <array>
#include <atomic>
#include <cctype>
#include <filesystem>
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

// Portals' own words: a site and article ids with Vietnamese letters.
const std::array<std::string, 2> sites = {"soctrang.gov.vn", "báochínhphủ.vn"};
constexpr int articles_per_site = 20;

std::string article_id(int j) {
  return "/tin-tức/bài-" + std::to_string(j);
}

// %-encodes everything but unreserved bytes and '/' (RFC 3986), UTF-8 included.
std::string pct(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

class ClusterMode : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.start()) << redis_.error(); }

  // Starts node i (0..2) on its own data dir (kept across restarts).
  void start_node(std::size_t i, std::vector<std::string> extra = {},
                  std::vector<std::string> env = {}) {
    daemon_options o;
    o.env = std::move(env);
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
    const http_reply r = http_once(nodes_[i]->ports().http, "GET",
                                   "/hit?s=" + pct(site) + "&a=" + pct(article_id(article)));
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
  EXPECT_EQ(top.body, "[{\"id\":\"/tin-tức/bài-3\",\"views\":" +
                          std::to_string(expected_[sites[0]][article_id(3)]) + "}]");
  // pvctl on any node: the cluster's figures.
  const std::string admin0 = "http://127.0.0.1:" + std::to_string(nodes_[0]->ports().admin);
  const command_result total =
      run_command({pvctl_binary(), "--server", admin0, "total", "--site", sites[1]});
  ASSERT_TRUE(total.status.ok()) << total.err;
  EXPECT_EQ(total.out, std::to_string(expected_total(sites[1])) + "\n");
  const command_result pvctl_top = run_command({pvctl_binary(), "--server", admin0, "top", "--site",
                                                sites[0], "--period", "all", "-n", "1"});
  ASSERT_TRUE(pvctl_top.status.ok()) << pvctl_top.err;
  EXPECT_EQ(pvctl_top.out.substr(0, pvctl_top.out.find('\n')),
            "1\t" + std::to_string(expected_[sites[0]][article_id(3)]) + "\t/tin-tức/bài-3");
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
  // Reads answer the last figures read plus this node's own flushes not sent
  // yet (all but the one the shipper keeps trying): never more than counted.
  const views_reply during = fetch_views(nodes_[0]->ports().http, sites[0]);
  EXPECT_EQ(during.error, "");
  EXPECT_GT(during.total, before);
  EXPECT_LE(during.total, expected_total(sites[0]));
  const http_reply stale =
      http_once(nodes_[0]->ports().http, "GET", "/api/v1/widget?s=" + sites[0]);
  EXPECT_EQ(stale.status, 200);
  EXPECT_GE(std::atoi(stale.header("x-pvcd-stale-seconds").c_str()), 8) << stale.body;
  ASSERT_TRUE(redis_.start_all()) << redis_.error();
  hits(90);
  EXPECT_TRUE(every_node_exact(60s));
  EXPECT_EQ(redis_total(sites[0]), static_cast<long long>(expected_total(sites[0])));
  EXPECT_EQ(http_once(nodes_[0]->ports().http, "GET", "/api/v1/widget?s=" + sites[0])
                .header("x-pvcd-stale-seconds"),
            "");  // current again
}

TEST_F(ClusterMode, AFlushAppliedButNotAcknowledgedIsSentAgainWithoutADoubleCount) {
  // Two replicas asked of shards that have one: every WAIT falls short, so
  // a node's oldest flush is applied, kept in the outbox and sent again and
  // again, answered "dup" each time (the reply that would let it go is
  // "lost"), and the flushes after it wait behind it.
  for (std::size_t i = 0; i < 3; ++i)
    start_node(i, {"--redis-wait-replicas", "2"});
  hits(90);
  for (auto& n : nodes_) {
    ASSERT_TRUE(wait_until([&] {
      const auto dup = scrape(n->ports().admin, "pvcd_cluster_ship_duplicates_total");
      return dup && *dup >= 2;
    })) << "no flush was sent again";
  }
  // Sent again and again, applied once: the cluster has at most what was counted.
  EXPECT_LE(redis_total(sites[0]), static_cast<long long>(expected_total(sites[0])));
  EXPECT_GT(redis_total(sites[0]), 0);
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

TEST_F(ClusterMode, OneVisitorOnTwoNodesIsOneVisitorAndOneOnline) {
  start_nodes();
  const std::string ua = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
  auto browse = [&](std::size_t node, const std::string& user_agent, int article) {
    http_connection c(nodes_[node]->ports().http);
    const http_reply r = c.request("GET", "/hit?s=" + sites[0] + "&a=" + pct(article_id(article)),
                                   {}, {}, "User-Agent: " + user_agent + "\r\n");
    ASSERT_EQ(r.status, 204) << r.error;
    expected_[sites[0]][article_id(article)] += 1;
  };
  // The same address and browser on node 0 and node 1: one visitor.
  browse(0, ua, 1);
  browse(1, ua, 2);
  browse(1, ua, 3);
  EXPECT_TRUE(every_node_exact());
  auto visitors_on = [&](std::size_t node) {
    return http_once(nodes_[node]->ports().http, "GET", "/api/v1/visitors?s=" + sites[0]).body;
  };
  const std::string one =
      "{\"site\":\"soctrang.gov.vn\",\"online\":1,\"today\":1,"
      "\"yesterday\":0,\"this_month\":1}";
  std::string last;
  EXPECT_TRUE(wait_until([&] { return (last = visitors_on(2)) == one; }, 10s)) << last;
  // Another browser from the same address is a second visitor, on every node.
  browse(2, "Mozilla/5.0 Chrome/156", 1);
  const std::string two =
      "{\"site\":\"soctrang.gov.vn\",\"online\":2,\"today\":2,"
      "\"yesterday\":0,\"this_month\":2}";
  for (std::size_t n = 0; n < 3; ++n)
    EXPECT_TRUE(wait_until([&] { return (last = visitors_on(n)) == two; }, 10s))
        << "node" << n << ": " << last;
  // The day's salt is the cluster's one key, made by the first node to ask.
  const std::string salt_key = cluster_keys::day_salt(static_cast<day_number>(utc_day_now()));
  const auto owner = redis_.master_of_slot(cluster::key_slot(salt_key));
  ASSERT_TRUE(owner);
  EXPECT_EQ(redis_.cli_integer(*owner, {"EXISTS", salt_key}), 1);
}

TEST_F(ClusterMode, HitsAcrossLocalMidnightOnTwoNodesLandOnTheirOwnDays) {
  // Two nodes on a clock that starts at 23:59:52 (libfaketime, in pvcd only;
  // the time zone is UTC): views before midnight are the 7th's, views after
  // are the 8th's, on whichever node they were counted.
  const std::string faketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";
  if (!std::filesystem::exists(faketime)) GTEST_SKIP() << "libfaketime is not installed";
  const std::vector<std::string> env = {"LD_PRELOAD=" + faketime, "FAKETIME=@2026-12-07 23:59:52",
                                        "FAKETIME_DONT_FAKE_MONOTONIC=1"};
  const auto started = std::chrono::steady_clock::now();
  start_node(0, {}, env);
  start_node(1, {}, env);
  ASSERT_LT(std::chrono::steady_clock::now() - started, 4s) << "too slow to start before midnight";
  for (int k = 0; k < 40; ++k)
    ASSERT_TRUE(hit(static_cast<std::size_t>(k % 2), sites[0], k % 5));
  ASSERT_LT(std::chrono::steady_clock::now() - started, 6s) << "too slow to count before midnight";
  std::this_thread::sleep_until(started + 11s);  // both clocks are past midnight now
  for (int k = 0; k < 30; ++k)
    ASSERT_TRUE(hit(static_cast<std::size_t>(k % 2), sites[0], k % 5));
  const std::uint64_t on_7th = 40, on_8th = 30;
  std::string last;
  EXPECT_TRUE(wait_until(
      [&] {
        for (std::size_t n = 0; n < 2; ++n) {
          const views_reply v = fetch_views(nodes_[n]->ports().http, sites[0], {article_id(0)});
          last = "node" + std::to_string(n) + ": total " + std::to_string(v.total) + " today " +
                 std::to_string(v.today) + " yesterday " + std::to_string(v.yesterday) + " " +
                 v.error;
          if (v.total != on_7th + on_8th || v.today != on_8th || v.yesterday != on_7th ||
              v.this_month != on_7th + on_8th) {
            return false;
          }
          // Article 0: 8 views before midnight, 6 after.
          if (v.articles.at(article_id(0)).total != 14 || v.articles.at(article_id(0)).today != 6)
            return false;
        }
        return true;
      },
      30s))
      << last;
  // In Redis: one key per local day.
  const day_number dec7 = 20794;
  const auto owner = redis_.master_of_slot(cluster::key_slot(cluster_keys::total(sites[0])));
  ASSERT_TRUE(owner);
  EXPECT_EQ(redis_.cli_integer(*owner, {"GET", cluster_keys::day_total(sites[0], dec7)}), 40);
  EXPECT_EQ(redis_.cli_integer(*owner, {"GET", cluster_keys::day_total(sites[0], dec7 + 1)}), 30);
}

TEST_F(ClusterMode, AFullOutboxHoldsTheCountsInMemoryAndReadyzSaysSo) {
  start_node(0, {"--outbox-max-bytes", "1MiB", "--max-new-keys-per-second", "10000000"});
  hits(30);
  ASSERT_TRUE(every_node_exact());
  redis_.stop_all();
  // Distinct articles, 40 lines a datagram, until the outbox is full.
  udp_sender u(nodes_[0]->ports().udp);
  auto ready = [&] { return http_once(nodes_[0]->ports().http, "GET", "/readyz").status; };
  int n = 0;
  for (int round = 0; round < 100 && ready() == 200; ++round) {
    for (int d = 0; d < 50; ++d) {
      std::string datagram;
      for (int line = 0; line < 40; ++line, ++n) {
        const std::string id = "/tin-tức/đầy-" + std::to_string(n);
        datagram += sites[1] + " " + id + " 1\n";
        expected_[sites[1]][id] += 1;
      }
      ASSERT_TRUE(u.send(datagram)) << u.error();
    }
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(ready(), 503) << "the outbox never filled";
  const auto bytes = scrape(nodes_[0]->ports().admin, "pvcd_cluster_outbox_bytes");
  ASSERT_TRUE(bytes);
  EXPECT_GE(*bytes, 1 << 20);
  // Counting goes on into memory; back, the cluster gets every view once.
  hits(30);
  ASSERT_TRUE(redis_.start_all()) << redis_.error();
  EXPECT_TRUE(wait_until([&] { return ready() == 200; }, 60s));
  EXPECT_TRUE(every_node_exact(60s));
  EXPECT_EQ(redis_total(sites[1]), static_cast<long long>(expected_total(sites[1])));
}

TEST_F(ClusterMode, AdminCountChangesAndExportsSayWhatClusterModeDoesNotDoYet) {
  start_node(0);
  const http_reply adjust =
      http_once(nodes_[0]->ports().admin, "POST",
                "/admin/v1/adjust?s=soctrang.gov.vn&a=/gioi-thieu&n=5&reason=test");
  EXPECT_EQ(adjust.status, 409);
  EXPECT_NE(adjust.body.find("cluster mode does not apply adjust"), std::string::npos)
      << adjust.body;
  const http_reply import = http_once(nodes_[0]->ports().admin, "POST", "/admin/v1/import/start");
  EXPECT_EQ(import.status, 409);
  const http_reply exported = http_once(nodes_[0]->ports().admin, "GET", "/admin/v1/export");
  EXPECT_NE(exported.status, 200);
  EXPECT_NE(exported.body.find("cluster mode does not export yet"), std::string::npos)
      << exported.body;
}

TEST_F(ClusterMode, TitlesSetOnOneNodeShowOnEveryNode) {
  // Titles from beacons are believed from the portal's own proxy (loopback here).
  for (std::size_t i = 0; i < 3; ++i)
    start_node(i, {"--beacon-titles", "trusted_proxies", "--trusted-proxies", "127.0.0.1/32"});
  hits(90);
  ASSERT_TRUE(every_node_exact());
  const std::string intro = "Giới thiệu chung về tỉnh Sóc Trăng";
  const std::string festival = "Lễ hội Ok Om Bok & \"đua ghe Ngo\"";
  // An editor's title through node 0's admin API, a beacon's through node 1.
  const http_reply set = http_once(nodes_[0]->ports().admin, "POST",
                                   "/admin/v1/title?s=" + sites[0] + "&a=" + pct(article_id(0)) +
                                       "&title=" + pct(intro) + "&reason=test");
  ASSERT_EQ(set.status, 200) << set.body;
  const http_reply beacon =
      http_once(nodes_[1]->ports().http, "GET",
                "/hit?s=" + sites[0] + "&a=" + pct(article_id(7)) + "&title=" + pct(festival));
  ASSERT_EQ(beacon.status, 204) << beacon.body;
  expected_[sites[0]][article_id(7)] += 1;
  // pvctl top (exact, from the cluster) and the cached public list, on node 2.
  std::string last;
  EXPECT_TRUE(wait_until(
      [&] {
        last = http_once(nodes_[2]->ports().http, "GET",
                         "/api/v1/top?s=" + sites[0] + "&period=all&n=20")
                   .body;
        return last.find("\"title\":\"" + intro + "\"") != std::string::npos &&
               last.find("\"title\":\"Lễ hội Ok Om Bok & \\\"đua ghe Ngo\\\"\"") !=
                   std::string::npos;
      },
      20s))
      << last;
  // The widget of the article on another node.
  EXPECT_TRUE(wait_until(
      [&] {
        last = http_once(nodes_[1]->ports().http, "GET",
                         "/api/v1/widget?s=" + sites[0] + "&a=" + pct(article_id(0)))
                   .body;
        return last.find("\"title\":\"" + intro + "\"") != std::string::npos;
      },
      20s))
      << last;
  // Removed on node 2: gone everywhere.
  const http_reply clear = http_once(
      nodes_[2]->ports().admin, "POST",
      "/admin/v1/title?s=" + sites[0] + "&a=" + pct(article_id(0)) + "&title=&reason=test");
  ASSERT_EQ(clear.status, 200) << clear.body;
  const http_reply journal = http_once(nodes_[2]->ports().admin, "GET", "/admin/v1/audit");
  EXPECT_NE(journal.body.find("\"held_here\":false"), std::string::npos) << journal.body;
  EXPECT_TRUE(wait_until(
      [&] {
        last = http_once(nodes_[0]->ports().http, "GET",
                         "/api/v1/top?s=" + sites[0] + "&period=all&n=20")
                   .body;
        return last.find(intro) == std::string::npos;
      },
      20s))
      << last;
  EXPECT_TRUE(every_node_exact());
}

TEST_F(ClusterMode, PvctlStatsShowsTheNodesClusterBlockWithItsOutboxDrained) {
  start_nodes();
  hits(60);
  const std::string article = "/giới-thiệu/sở-nội-vụ";
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

TEST_F(ClusterMode, FlushesTheClusterLostAreAGapCountedOnceNotResent) {
  // The cluster "loses" this node's last flushes of a site (a failover to a
  // replica without them, or a restored backup): the site's marker goes
  // back. The node's next flush of the site is answered "gap"; it is
  // logged, counted, and applied after the marker; nothing is applied twice.
  start_node(0);
  hits(60);
  ASSERT_TRUE(every_node_exact());
  hits(60);
  ASSERT_TRUE(every_node_exact());
  const http_reply stats = http_once(nodes_[0]->ports().admin, "GET", "/admin/v1/stats");
  const std::string incarnation(
      boost::json::parse(stats.body).at("cluster").at("incarnation").as_string());
  const std::string markers = cluster_keys::markers(sites[0]);
  const auto owner = redis_.master_of_slot(cluster::key_slot(markers));
  ASSERT_TRUE(owner);
  ASSERT_GT(redis_.cli_integer(*owner, {"HGET", markers, incarnation}), 1);
  redis_.cli(*owner, {"HSET", markers, incarnation, "1"});
  hits(60);
  EXPECT_TRUE(every_node_exact());
  EXPECT_EQ(redis_total(sites[0]), static_cast<long long>(expected_total(sites[0])));
  const auto gaps = scrape(nodes_[0]->ports().admin, "pvcd_cluster_ship_gaps_total");
  ASSERT_TRUE(gaps);
  EXPECT_GE(*gaps, 1);
  EXPECT_NE(nodes_[0]->log_text().find("event=cluster_gap"), std::string::npos);
}

TEST_F(ClusterMode, ARestartedNodeResendingAnOlderTitleDoesNotUndoANewerOne) {
  start_node(0);
  start_node(1);
  hits(20);
  ASSERT_TRUE(every_node_exact());
  auto set_title = [&](std::size_t node, const std::string& title, int article = 1) {
    const http_reply r =
        http_once(nodes_[node]->ports().admin, "POST",
                  "/admin/v1/title?s=" + sites[0] + "&a=" + pct(article_id(article)) +
                      "&title=" + pct(title) + "&reason=test");
    ASSERT_EQ(r.status, 200) << r.body;
  };
  const std::string key = cluster_keys::titles(sites[0]);
  auto in_cluster = [&](const std::vector<std::string>& args) {
    const auto owner = redis_.master_of_slot(cluster::key_slot(key));
    return owner ? redis_.cli(*owner, args) : std::string();
  };
  auto cluster_title = [&](int article = 1) {
    return in_cluster({"HGET", key, article_id(article)});
  };
  set_title(0, "Chỉ nút 0", 2);
  set_title(0, "Tin cũ");
  ASSERT_TRUE(wait_until([&] { return cluster_title().ends_with(" Tin cũ"); }, 10s));
  std::this_thread::sleep_for(1100ms);  // the newer change is a later second
  set_title(1, "Tin mới");
  ASSERT_TRUE(wait_until([&] { return cluster_title().ends_with(" Tin mới"); }, 10s));
  // Node 0 restarts and sends every title it holds again: one the cluster
  // lost comes back, its older one loses.
  ASSERT_TRUE(wait_until([&] { return cluster_title(2).ends_with(" Chỉ nút 0"); }, 10s));
  in_cluster({"HDEL", key, article_id(2)});
  nodes_[0]->stop();
  start_node(0);
  EXPECT_TRUE(wait_until([&] { return cluster_title(2).ends_with(" Chỉ nút 0"); }, 10s))
      << "node 0 did not send its titles again";
  EXPECT_TRUE(cluster_title().ends_with(" Tin mới")) << cluster_title();
}

}  // namespace
}  // namespace pvc::test
