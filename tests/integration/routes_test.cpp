// The public listener serves beacons and reads only: the admin routes are
// not reachable from it, and a hit tried there is not counted. Its
// connections answer pipelined requests in order, however late the client
// reads.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "pvcd_fixture.hpp"

namespace pvc::test {
namespace {

class routes_test : public pvcd_test {};

TEST_F(routes_test, AdminRoutesAreNotFoundOnThePublicListener) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  http_connection pub(d.ports().http);
  ASSERT_TRUE(pub.connected()) << pub.error();

  const http_reply metrics = pub.get("/metrics");
  EXPECT_EQ(metrics.status, 404) << metrics.error;
  EXPECT_EQ(metrics.body.find("pvcd_"), std::string::npos) << "metrics leaked: " << metrics.body;
  const http_reply admin_hit = pub.request("POST", "/admin/v1/hit?s=site&a=sneaky&n=1000");
  EXPECT_EQ(admin_hit.status, 404) << admin_hit.error;
  const http_reply admin_get = pub.get("/admin/v1/hit?s=site&a=sneaky&n=1000");
  EXPECT_EQ(admin_get.status, 404) << admin_get.error;
  const http_reply pub_health = pub.get("/healthz");
  EXPECT_EQ(pub_health.status, 200) << pub_health.error;
  EXPECT_EQ(pub_health.body, "ok\n");

  // The admin listener: health, metrics, and the hit route that works there.
  http_connection adm(d.ports().admin);
  ASSERT_TRUE(adm.connected()) << adm.error();
  const http_reply health = adm.get("/healthz");
  EXPECT_EQ(health.status, 200) << health.error;
  EXPECT_EQ(health.body, "ok\n");
  const http_reply m = adm.get("/metrics");
  EXPECT_EQ(m.status, 200) << m.error;
  EXPECT_EQ(m.header("content-type").rfind("text/plain", 0), 0u) << m.header("content-type");
  EXPECT_NE(m.body.find("pvcd_hits_accepted_total{transport=\"http\"}"), std::string::npos);
  // ... and beacons are the public listener's job, not the admin's.
  EXPECT_EQ(adm.get("/hit?s=site&a=wrong-door").status, 404);
  EXPECT_EQ(adm.request("POST", "/admin/v1/hit?s=site&a=real&n=3").status, 204);

  // Only the admin hit was counted.
  ASSERT_TRUE(wait_until([&] { return fetch_views(d.ports().http, "site").total == 3; }));
  const views_reply v = fetch_views(d.ports().http, "site", {"sneaky", "real", "wrong-door"});
  ASSERT_EQ(v.error, "");
  EXPECT_EQ(v.total, 3u);
  EXPECT_EQ(v.articles.at("sneaky").total, 0u);
  EXPECT_EQ(v.articles.at("wrong-door").total, 0u);
  EXPECT_EQ(v.articles.at("real").total, 3u);
  const std::string text = fetch_metrics(d.ports().admin);
  EXPECT_EQ(metric_value(text, accepted_series("admin")), 1);
  EXPECT_EQ(metric_value(text, views_series("admin")), 3);
  EXPECT_EQ(metric_value(text, accepted_series("http")), 0);

  const exit_status s = d.stop();
  EXPECT_TRUE(s.ok()) << s.describe();
}

// Requests pipelined in one send, to a client whose receive buffer is a few
// KiB and which reads nothing until all are sent: their answers are twice
// what the kernel lets the server queue on the socket, so the server's sends
// must wait for the client. It also answers at most a turn's worth of
// requests before its other connections run.
TEST_F(routes_test, PipelinedAnswersArriveWholeAndInOrderWhenTheClientReadsLate) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  const http_reply widget = http_once(d.ports().http, "GET", "/widget.js");
  ASSERT_EQ(widget.status, 200) << widget.error;
  ASSERT_GT(widget.body.size(), 1000u);
  std::size_t most_queued = 4 << 20;  // the largest send buffer TCP grows to
  std::ifstream("/proc/sys/net/ipv4/tcp_wmem") >> most_queued >> most_queued >> most_queued;
  most_queued = std::min<std::size_t>(most_queued, 8 << 20);  // bounds the test's time

  http_connection c(d.ports().http, 4096);
  ASSERT_TRUE(c.connected()) << c.error();
  const int requests = static_cast<int>(2 * most_queued / widget.body.size()) / 100 * 100 + 100;
  std::string pipelined;
  for (int i = 0; i < requests; ++i) {
    // Every tenth a beacon, for ten articles in turn: none may count twice.
    pipelined +=
        i % 10 == 9 ? http_connection::format_request(
                          "GET", std::string("/hit?s=pipe&a=a").append(std::to_string(i / 10 % 10)))
                    : http_connection::format_request("GET", "/widget.js");
  }
  ASSERT_TRUE(c.send_raw(pipelined)) << c.error();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int i = 0; i < requests; ++i) {
    const http_reply r = c.read_reply();
    if (i % 10 == 9) {
      ASSERT_EQ(r.status, 204) << "reply " << i << ": " << r.error;
    } else {
      ASSERT_EQ(r.status, 200) << "reply " << i << ": " << r.error;
      ASSERT_EQ(r.body, widget.body) << "reply " << i;
    }
  }
  // The connection is still in step.
  EXPECT_EQ(c.get("/healthz").body, "ok\n");

  std::vector<std::string> articles;
  for (int i = 0; i < 10; ++i)
    articles.push_back(std::string("a").append(std::to_string(i)));
  ASSERT_TRUE(wait_until([&] {
    return fetch_views(d.ports().http, "pipe").total == static_cast<std::uint64_t>(requests / 10);
  }));
  const views_reply v = fetch_views(d.ports().http, "pipe", articles);
  ASSERT_EQ(v.error, "");
  for (const std::string& a : articles)
    EXPECT_EQ(v.articles.at(a).total, static_cast<std::uint64_t>(requests / 100)) << a;

  const exit_status s = d.stop();
  EXPECT_TRUE(s.ok()) << s.describe();
}

}  // namespace
}  // namespace pvc::test
