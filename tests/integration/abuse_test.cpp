// Abuse of the public endpoint, against the real daemon: a flood of random
// article ids, slow and idle connections, unsigned or forged beacons, and a
// client sending too fast. In every case the real counts stay exact.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <random>
#include <thread>

#include "core/beacon_token.hpp"
#include "pvcd_fixture.hpp"
#include "support/net.hpp"
#include "support/pvcd_api.hpp"

namespace pvc::test {
namespace {

using namespace std::chrono_literals;

std::uint64_t rss_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

double metric(std::uint16_t admin, std::string_view series) {
  return scrape(admin, series).value_or(-1);
}

class abuse_test : public pvcd_test {};

// 10M random article ids over UDP while real beacons arrive over HTTP: the
// flood is refused as `cardinality` beyond the new-key budget, memory stays
// bounded, and every acknowledged real view is counted exactly.
TEST_F(abuse_test, FloodOfRandomIdsKeepsMemoryBoundedAndRealCountsExact) {
  daemon_process d;
  daemon_options o = options("200ms");
  o.extra_args = {"--max-tracked-keys", "100000", "--max-new-keys-per-second", "20000"};
  ASSERT_TRUE(d.start(o)) << d.error();

  // The real articles exist before the flood (stored, hence known).
  const std::vector<std::string> real = {"/home", "/2026/11/budget", "/2026/11/weather"};
  {
    http_connection c(d.ports().http);
    for (const auto& a : real)
      ASSERT_EQ(c.get("/hit?s=portal&a=" + a).status, 204);
  }
  ASSERT_TRUE(wait_until([&] { return fetch_views(d.ports().http, "portal").total == 3; }));
  std::this_thread::sleep_for(300ms);
  const std::uint64_t baseline = rss_bytes(d.pid());

  std::atomic<bool> flooding{true};
  std::atomic<std::uint64_t> peak{baseline};
  std::thread sampler([&] {
    while (flooding) {
      const std::uint64_t r = rss_bytes(d.pid());
      if (r > peak) peak = r;
      std::this_thread::sleep_for(20ms);
    }
  });
  // Real beacons during the flood, each acknowledged.
  std::atomic<int> acked{0};
  std::thread beacons([&] {
    http_connection c(d.ports().http);
    for (int i = 0; i < 600; ++i) {
      if (c.get("/hit?s=portal&a=" + real[i % 3]).status == 204) ++acked;
      std::this_thread::sleep_for(2ms);
    }
  });

#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer slows pvcd ~10x: a tenth of the flood still overruns the
  // key caps many times over, within the test's time bound.
  constexpr std::uint64_t flood_lines = 1'000'000;
#else
  constexpr std::uint64_t flood_lines = 10'000'000;
#endif
  constexpr int lines_per_datagram = 50;
  udp_sender udp(d.ports().udp);
  std::mt19937_64 rng(12345);
  std::string datagram;
  std::uint64_t sent = 0;
  const auto flood_started = std::chrono::steady_clock::now();
  while (sent < flood_lines && std::chrono::steady_clock::now() - flood_started < 60s) {
    datagram.clear();
    for (int i = 0; i < lines_per_datagram; ++i) {
      datagram += "portal flood-";
      datagram += std::to_string(rng());
      datagram += '\n';
    }
    ASSERT_TRUE(udp.send(datagram)) << udp.error();
    sent += lines_per_datagram;
    // Keep the socket queue shallow: the point is the ids, not kernel drops.
    if (sent % 20'000 == 0) {
      wait_until(
          [&] {
            const double seen = metric(d.ports().admin, "pvcd_udp_datagrams_total");
            return seen >= static_cast<double>(sent / lines_per_datagram) - 200;
          },
          5s, 1ms);
    }
  }
  beacons.join();
  ASSERT_EQ(sent, flood_lines) << "the flood took too long";
  ASSERT_TRUE(wait_until([&] {
    return metric(d.ports().admin, "pvcd_udp_datagrams_total") >=
           static_cast<double>(sent / lines_per_datagram);
  }));
  flooding = false;
  sampler.join();

  const double refused =
      metric(d.ports().admin, "pvcd_hits_rejected_total{reason=\"cardinality\",transport=\"udp\"}");
  const double known = metric(d.ports().admin, "pvcd_known_keys");
  const double grown_mib = static_cast<double>(peak - baseline) / (1 << 20);
  std::cout << "flood: " << sent << " lines, refused " << refused << ", known keys " << known
            << ", RSS " << baseline / (1 << 20) << " MiB -> peak " << peak / (1 << 20) << " MiB (+"
            << grown_mib << " MiB)\n";
  EXPECT_LE(known, 100'000);
  EXPECT_GE(refused, 0.9 * flood_lines) << "most of the flood is refused";
  EXPECT_EQ(metric(d.ports().admin, "pvcd_udp_receive_drops_total"), 0);
  // Bounded: the known set (<= 100k keys) and one interval's delta tables,
  // far below what 10M tracked ids would take (~1 GiB).
#if defined(__SANITIZE_ADDRESS__)
  // Under AddressSanitizer pvcd's RSS also holds the quarantine of freed blocks
  // (256 MiB) and shadow memory: the bound is checked in the release run.
  std::cout << "flood: RSS bound not checked under AddressSanitizer\n";
#else
  EXPECT_LT(grown_mib, 128) << "RSS grew with the flood";
#endif

  ASSERT_EQ(acked.load(), 600);
  // Every article's last beacon may land in a later flush than /home's:
  // wait for all of them (a count above 201 would still fail below).
  ASSERT_TRUE(wait_until([&] {
    const views_reply r = fetch_views(d.ports().http, "portal", real);
    for (const auto& a : real) {
      const auto it = r.articles.find(a);
      if (it == r.articles.end() || it->second.total < 201) return false;
    }
    return true;
  }));
  const views_reply v = fetch_views(d.ports().http, "portal", real);
  for (const auto& a : real)
    EXPECT_EQ(v.articles.at(a).total, 201u) << a;
  EXPECT_TRUE(d.stop().ok());
}

// 2,000 connections that trickle a header or say nothing hold no thread and
// no slot that fresh clients need: with a connection limit below them, the
// least active are closed and every fresh beacon is answered at once.
TEST_F(abuse_test, SlowAndIdleConnectionsDoNotStopFreshClients) {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < 6000 && lim.rlim_max >= 6000) {
    lim.rlim_cur = 6000;
    ::setrlimit(RLIMIT_NOFILE, &lim);  // pvcd inherits it
  }
  ASSERT_GE(lim.rlim_cur, 4500u) << "this test needs ~4,500 descriptors";

  daemon_process d;
  daemon_options o = options();
  o.extra_args = {"--http-max-connections", "1500", "--http-idle-timeout", "30s"};
  ASSERT_TRUE(d.start(o)) << d.error();

  std::vector<std::unique_ptr<http_connection>> slow;
  for (int i = 0; i < 2000; ++i) {
    auto c = std::make_unique<http_connection>(d.ports().http);
    ASSERT_TRUE(c->connected()) << c->error();
    // Half drip an unfinished header; half connect and say nothing.
    if (i % 2 == 0) {
      ASSERT_TRUE(c->send_raw("GET /hit?s=slow&a=x HTTP/1.1\r\nHost: pvcd\r\nX-A: "));
    }
    slow.push_back(std::move(c));
  }
  std::this_thread::sleep_for(200ms);
  for (int i = 0; i < 200; i += 2)
    ASSERT_TRUE(slow[i]->send_raw("a"));  // still dripping

  for (int i = 0; i < 100; ++i) {
    const auto started = std::chrono::steady_clock::now();
    const http_reply r = http_once(d.ports().http, "GET", "/hit?s=fresh&a=page");
    const auto took = std::chrono::steady_clock::now() - started;
    ASSERT_EQ(r.status, 204) << r.error;
    EXPECT_LT(took, 1s) << "fresh client " << i << " waited";
  }
  ASSERT_TRUE(wait_until([&] { return fetch_views(d.ports().http, "fresh").total == 100; }));
  EXPECT_EQ(fetch_views(d.ports().http, "slow").total, 0u) << "no slow request completed";
  EXPECT_GE(metric(d.ports().admin, "pvcd_http_connections_evicted_total"), 500);
  slow.clear();
  EXPECT_TRUE(d.stop().ok());
}

TEST_F(abuse_test, SignedBeaconsRefuseMissingForgedAndExpiredTokens) {
  const std::string secret = "portal-secret-0123456789";
  const auto secret_file = dir_.path() / "beacon.secret";
  std::ofstream(secret_file) << secret << "\n";
  daemon_process d;
  daemon_options o = options();
  o.extra_args = {"--beacon-secret-file", secret_file.string()};
  ASSERT_TRUE(d.start(o)) << d.error();

  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const std::string good = mint_beacon_token(secret, "news", "/a", now + 3600);
  const std::string expired = mint_beacon_token(secret, "news", "/a", now - 10);
  const std::string forged = mint_beacon_token("someone-elses-secret", "news", "/a", now + 3600);
  const std::string other_article = mint_beacon_token(secret, "news", "/b", now + 3600);

  http_connection c(d.ports().http);
  EXPECT_EQ(c.get("/hit?s=news&a=/a&t=" + good).status, 204);
  EXPECT_EQ(c.request("POST", "/hit", "s=news&a=/a&t=" + good, "text/plain").status, 204);
  EXPECT_EQ(c.get("/hit?s=news&a=/a").status, 403);
  EXPECT_EQ(c.get("/hit?s=news&a=/a&t=" + expired).status, 403);
  EXPECT_EQ(c.get("/hit?s=news&a=/a&t=" + forged).status, 403);
  EXPECT_EQ(c.get("/hit?s=news&a=/a&t=" + other_article).status, 403);
  EXPECT_EQ(c.get("/hit?s=news&a=/a&t=garbage").status, 403);

  ASSERT_TRUE(wait_until([&] { return fetch_views(d.ports().http, "news").total == 2; }));
  EXPECT_EQ(metric(d.ports().admin, rejected_series("signature", "http")), 5);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(fetch_views(d.ports().http, "news").total, 2u);
  EXPECT_TRUE(d.stop().ok());
}

TEST_F(abuse_test, RateLimitIsPerClientAndBelievesOnlyTrustedProxies) {
  daemon_process d;
  daemon_options o = options();
  o.extra_args = {"--rate-limit",      "1",           "--rate-limit-burst", "5",
                  "--trusted-proxies", "127.0.0.2/32"};
  ASSERT_TRUE(d.start(o)) << d.error();

  // The test's connections come from 127.0.0.1, which is not a trusted proxy:
  // X-Forwarded-For is ignored and every request is one client.
  http_connection c(d.ports().http);
  int ok = 0, limited = 0;
  for (int i = 0; i < 20; ++i) {
    const http_reply r = c.request("GET", "/hit?s=rl&a=x", {}, {},
                                   "X-Forwarded-For: 198.51.100." + std::to_string(i) + "\r\n");
    ok += r.status == 204;
    limited += r.status == 429;
  }
  EXPECT_EQ(ok, 5);
  EXPECT_EQ(limited, 15);
  ASSERT_TRUE(wait_until([&] { return fetch_views(d.ports().http, "rl").total == 5; }));
  EXPECT_EQ(metric(d.ports().admin, rejected_series("rate_limit", "http")), 15);
  EXPECT_TRUE(d.stop().ok());
}

TEST_F(abuse_test, ForwardedClientsGetTheirOwnBucketsBehindATrustedProxy) {
  daemon_process d;
  daemon_options o = options();
  o.extra_args = {"--rate-limit",      "1",          "--rate-limit-burst", "2",
                  "--trusted-proxies", "127.0.0.0/8"};
  ASSERT_TRUE(d.start(o)) << d.error();
  http_connection c(d.ports().http);
  int ok = 0;
  for (int client = 0; client < 10; ++client) {
    for (int i = 0; i < 4; ++i) {
      ok += c.request("GET", "/hit?s=fw&a=x", {}, {},
                      "X-Forwarded-For: 203.0.113." + std::to_string(client) + "\r\n")
                .status == 204;
    }
  }
  EXPECT_EQ(ok, 20) << "two per forwarded client";
  EXPECT_TRUE(d.stop().ok());
}

// A full socket queue: pvcd is stopped (SIGSTOP) while 3,000 datagrams
// arrive at a 64 KiB receive buffer, so the kernel drops most of them. Every
// datagram sent is then either counted or reported as a kernel drop.
TEST_F(abuse_test, KernelQueueOverflowIsReportedAndEveryDatagramAccountedFor) {
  daemon_process d;
  daemon_options o = options();
  o.threads = 1;
  o.extra_args = {"--udp-receive-buffer", "64KiB"};
  ASSERT_TRUE(d.start(o)) << d.error();

  constexpr int sent = 3000;
  ASSERT_EQ(::kill(d.pid(), SIGSTOP), 0);
  {
    udp_sender udp(d.ports().udp);
    for (int i = 0; i < sent; ++i) {
      ASSERT_TRUE(udp.send("overflow /page\n")) << udp.error();
      // Paced, so loopback's own backlog (1,000 packets per CPU) never
      // overflows: every drop is then the socket's, which pvcd reports.
      if (i % 200 == 199) std::this_thread::sleep_for(1ms);
    }
  }
  ASSERT_EQ(::kill(d.pid(), SIGCONT), 0);

  double counted = 0, dropped = 0;
  const bool settled = wait_until([&] {
    counted = metric(d.ports().admin, "pvcd_udp_datagrams_total");
    dropped = metric(d.ports().admin, "pvcd_udp_receive_drops_total");
    return counted + dropped == sent;
  });
  EXPECT_TRUE(settled) << "counted " << counted << " + dropped " << dropped << " != sent " << sent;
  EXPECT_GT(dropped, 0) << "a 64 KiB queue cannot hold 3,000 datagrams";
  EXPECT_GT(counted, 0) << "what the queue held is counted";
  EXPECT_EQ(metric(d.ports().admin, views_series("udp")), counted);
  EXPECT_TRUE(d.stop().ok());
}

TEST_F(abuse_test, ReadyzAnswersOnBothListeners) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  EXPECT_EQ(http_once(d.ports().http, "GET", "/readyz").status, 200);
  EXPECT_EQ(http_once(d.ports().admin, "GET", "/readyz").status, 200);
  EXPECT_TRUE(d.stop().ok());
}

}  // namespace
}  // namespace pvc::test
