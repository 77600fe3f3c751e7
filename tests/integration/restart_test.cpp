// A clean stop loses nothing: SIGTERM exits 0, a restart on the same data
// dir reports the same counts, and hits accepted just before the SIGTERM,
// never flushed by the timer, are written by the final flush.
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "pvcd_fixture.hpp"

namespace pvc::test {
namespace {

using client::url_encode;

constexpr int articles_per_site = 300;
const std::vector<std::string> sites = {"alpha", "beta"};

std::string article(int j) {
  return "/p/" + std::to_string(j);
}

std::vector<std::string> article_ids() {
  std::vector<std::string> ids;
  for (int j = 0; j < articles_per_site; ++j)
    ids.push_back(article(j));
  ids.push_back("inflight");
  return ids;
}

// Site total plus every article's total, as the read API reports them.
struct snapshot {
  std::map<std::string, std::uint64_t> site_totals;
  std::map<std::string, std::map<std::string, std::uint64_t>> articles;
  std::string error;
  bool operator==(const snapshot& o) const {
    return site_totals == o.site_totals && articles == o.articles;
  }
};

snapshot read_all(std::uint16_t port) {
  snapshot s;
  for (const auto& site : sites) {
    const views_reply v = fetch_views(port, site);
    if (!v.error.empty()) {
      s.error = v.error;
      return s;
    }
    s.site_totals[site] = v.total;
    const auto counts = fetch_article_counts(port, site, article_ids(), s.error);
    if (!s.error.empty()) return s;
    for (const auto& [id, c] : counts)
      s.articles[site][id] = c.total;
  }
  return s;
}

std::string describe(const snapshot& s) {
  std::string out;
  for (const auto& [site, total] : s.site_totals)
    out += site + "=" + std::to_string(total) + " ";
  return out;
}

// What the hits sent so far must add up to.
struct ledger {
  snapshot want;
  ledger() {
    for (const auto& site : sites) {
      want.site_totals[site] = 0;
      for (const auto& id : article_ids())
        want.articles[site][id] = 0;
    }
  }
  void add(const std::string& site, const std::string& id, std::uint64_t n) {
    want.site_totals[site] += n;
    want.articles[site][id] += n;
  }
};

// `n` HTTP hits on one keep-alive connection, each answered 204.
std::string send_http(std::uint16_t port, int first, int n, ledger& l) {
  http_connection c(port);
  for (int i = first; i < first + n; ++i) {
    const std::string& site = sites[static_cast<std::size_t>(i % 2)];
    const std::string id = article(i % articles_per_site);
    const http_reply r = c.get("/hit?s=" + site + "&a=" + url_encode(id));
    if (r.status != 204)
      return "hit " + std::to_string(i) + ": " + std::to_string(r.status) + " " + r.error;
    l.add(site, id, 1);
  }
  return {};
}

// `n` UDP lines, 20 per datagram, COUNT 1..3.
std::string send_udp(std::uint16_t port, int first, int n, ledger& l) {
  udp_sender u(port);
  std::string d;
  for (int j = first; j < first + n; ++j) {
    const std::string& site = sites[static_cast<std::size_t>((j / 3) % 2)];
    const std::string id = article((j * 13) % articles_per_site);
    const int count = 1 + j % 3;
    d += site + " " + id + " " + std::to_string(count) + "\n";
    l.add(site, id, static_cast<std::uint64_t>(count));
    if ((j - first + 1) % 20 == 0 || j == first + n - 1) {
      if (!u.send(d)) return u.error();
      d.clear();
    }
  }
  return {};
}

class restart_test : public pvcd_test {};

TEST_F(restart_test, SigtermThenRestartKeepsEveryCountIncludingUnflushedHits) {
  ledger l;

  // Run 1: hits, wait until they are flushed, then a clean stop.
  {
    daemon_process d;
    ASSERT_TRUE(d.start(options("100ms"))) << d.error();
    ASSERT_EQ(send_http(d.ports().http, 0, 3'000, l), "");
    ASSERT_EQ(send_udp(d.ports().udp, 0, 3'000, l), "");
    snapshot got;
    const bool flushed = wait_until([&] {
      got = read_all(d.ports().http);
      return got.error.empty() && got.site_totals == l.want.site_totals;
    });
    ASSERT_TRUE(flushed) << "want " << describe(l.want) << "got " << describe(got) << got.error;
    ASSERT_TRUE(got == l.want) << "site totals match but some article does not";

    const exit_status s = d.stop();
    EXPECT_TRUE(s.ok()) << "SIGTERM: " << s.describe();
    const std::string log = d.log_text();
    EXPECT_NE(log.find("event=stopping signal=SIGTERM"), std::string::npos) << log;
    EXPECT_NE(log.find("event=stopped"), std::string::npos) << log;
  }

  // Run 2, same data dir: the same counts, before any new hit. The flush
  // interval is far longer than the test, so only the final flush on
  // SIGTERM can write what comes next.
  std::uint64_t burst_views = 0;
  {
    daemon_process d;
    ASSERT_TRUE(d.start(options("60s"))) << d.error();
    const snapshot after_restart = read_all(d.ports().http);
    ASSERT_EQ(after_restart.error, "");
    EXPECT_TRUE(after_restart == l.want)
        << "want " << describe(l.want) << "got " << describe(after_restart);

    const snapshot before_burst = l.want;
    ASSERT_EQ(send_http(d.ports().http, 3'000, 500, l), "");
    ASSERT_EQ(send_udp(d.ports().udp, 3'000, 1'000, l), "");
    // Nothing of the burst has been flushed: the store still shows run 1.
    EXPECT_EQ(scrape(d.ports().admin, "pvcd_flushes_total"), 0.0);
    EXPECT_TRUE(read_all(d.ports().http) == before_burst);

    // Requests still in flight when SIGTERM arrives: pipelined on one
    // connection, their answers read only after the signal. Each one
    // answered 204 must be counted; one cut off unanswered must not be.
    constexpr int in_flight = 20;
    http_connection c(d.ports().http);
    ASSERT_TRUE(c.connected()) << c.error();
    std::string pipelined;
    for (int k = 0; k < in_flight; ++k) {
      pipelined += http_connection::format_request("GET", "/hit?s=alpha&a=inflight");
    }
    ASSERT_TRUE(c.send_raw(pipelined)) << c.error();

    const exit_status s = d.stop();  // SIGTERM straight away, no wait for a flush
    EXPECT_TRUE(s.ok()) << "SIGTERM: " << s.describe();
    int answered = 0;
    for (int k = 0; k < in_flight; ++k) {
      const http_reply r = c.read_reply();
      if (r.status == 0) break;  // the connection was closed: the rest was not taken
      EXPECT_EQ(r.status, 204) << r.body;
      if (r.status == 204) ++answered;
    }
    l.add("alpha", "inflight", static_cast<std::uint64_t>(answered));
    for (const auto& [site, total] : l.want.site_totals) {
      burst_views += total - before_burst.site_totals.at(site);
    }
    // The final flush wrote exactly the burst, in one batch.
    const std::string log = d.log_text();
    EXPECT_NE(log.find("event=stopped flushes=1 views_written=" + std::to_string(burst_views)),
              std::string::npos)
        << "want flushes=1 views_written=" << burst_views << " in:\n"
        << log;
  }

  // Run 3: everything, including the burst and the in-flight hits.
  {
    daemon_process d;
    ASSERT_TRUE(d.start(options("100ms"))) << d.error();
    const snapshot got = read_all(d.ports().http);
    ASSERT_EQ(got.error, "");
    EXPECT_TRUE(got == l.want) << "want " << describe(l.want) << "got " << describe(got)
                               << "(burst of " << burst_views << " views)";
    const exit_status s = d.stop();
    EXPECT_TRUE(s.ok()) << s.describe();
  }
}

// A final flush of 60,000 new keys is over store_options::bulk_flush_min_keys
// (2,000), so it is written as one SST file and ingested, not as a
// WriteBatch: the restart reads every one of them back exact, and a flush
// file a crash left behind is removed at start-up.
TEST_F(restart_test, LargeFinalFlushIsIngestedAsAFileAndReadsBackExact) {
  constexpr int keys = 60'000;
  auto id = [](int k) { return "/bulk/" + std::to_string(k); };
  {
    daemon_process d;
    daemon_options o = options("1m");  // no timed flush: the SIGTERM flush takes everything
    // 60,000 new keys in well under a second: over the default new-key budget.
    o.extra_args = {"--log-level", "debug", "--max-new-keys-per-second", "1000000"};
    ASSERT_TRUE(d.start(o)) << d.error();
    udp_sender udp(d.ports().udp);
    int datagrams = 0;
    std::string d_text;
    for (int k = 0; k < keys; ++k) {
      d_text += "bulk " + id(k) + " " + std::to_string(k % 3 + 1) + "\n";
      if (d_text.size() > 1'300 || k == keys - 1) {
        ASSERT_TRUE(udp.send(d_text)) << udp.error();
        d_text.clear();
        // Paced: at most ~100 datagrams in the socket queue, which even an
        // unprivileged run's capped receive buffer holds.
        if (++datagrams % 100 == 0) {
          ASSERT_TRUE(wait_until(
              [&] { return scrape(d.ports().admin, "pvcd_udp_datagrams_total") >= datagrams; }));
        }
      }
    }
    ASSERT_TRUE(wait_until(
        [&] { return scrape(d.ports().admin, "pvcd_udp_datagrams_total") == datagrams; }));
    EXPECT_EQ(scrape(d.ports().admin, "pvcd_udp_receive_drops_total"), 0.0);
    EXPECT_EQ(scrape(d.ports().admin, accepted_series("udp")), keys);
    const exit_status s = d.stop();
    EXPECT_TRUE(s.ok()) << s.describe();
    // One flush of every key, written as a file and ingested.
    const std::string log = d.log_text();
    EXPECT_NE(log.find("keys=" + std::to_string(keys) + " "), std::string::npos) << log;
    EXPECT_NE(log.find("event=flush_ingested seq=1 "), std::string::npos) << log;
  }
  // What a crash between writing and ingesting a flush's files leaves
  // behind (and a name from before flushes wrote two files).
  const std::vector<std::filesystem::path> stale = {data_dir() / "pvcd-flush-998-d.sst",
                                                    data_dir() / "pvcd-flush-998-t.sst",
                                                    data_dir() / "pvcd-flush-999.sst"};
  for (const auto& path : stale)
    std::ofstream(path) << "half-written";
  {
    daemon_process d;
    ASSERT_TRUE(d.start(options())) << d.error();
    for (const auto& path : stale)
      EXPECT_FALSE(std::filesystem::exists(path)) << path << ": a stale flush file survived";
    std::vector<std::string> ids;
    for (int k = 0; k < keys; ++k)
      ids.push_back(id(k));
    std::string error;
    const auto got = fetch_article_counts(d.ports().http, "bulk", ids, error);
    ASSERT_EQ(error, "");
    ASSERT_EQ(got.size(), static_cast<std::size_t>(keys));
    std::uint64_t total = 0;
    int wrong = 0;
    for (int k = 0; k < keys; ++k) {
      const auto it = got.find(id(k));
      const std::uint64_t want = static_cast<std::uint64_t>(k % 3 + 1);
      if (it == got.end() || it->second.total != want) ++wrong;
      total += want;
    }
    EXPECT_EQ(wrong, 0) << "articles with a wrong total";
    EXPECT_EQ(fetch_views(d.ports().http, "bulk").total, total);
    EXPECT_TRUE(d.stop().ok());
  }
}

}  // namespace
}  // namespace pvc::test
