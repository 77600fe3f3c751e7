// Ids in a portal's own words (UTF-8) on every path of a real pvcd: HTTP
// beacons and UDP lines in, the read API and pvctl out, export then import
// into a fresh pvcd, and metrics that never carry an id.
#include <string>
#include <vector>

#include "admin_fixture.hpp"

namespace pvc::test {
namespace {

class utf8_ids_test : public admin_test {};

const std::string site = "soctrang.gov.vn";
const std::string news = "/tin-tức/bai-1";  // the source is UTF-8, so are these
const std::string news_encoded = "%2Ftin-t%E1%BB%A9c%2Fbai-1";
const std::string about = "Giới-thiệu";  // precomposed letters
const std::string about_combining = "Gio\xCC\x9B\xCC\x81i-thie\xCC\xA3\xCC\x82u";  // marks

TEST_F(utf8_ids_test, AVietnameseArticleIsCountedReadExportedAndImported) {
  daemon_process a;
  ASSERT_TRUE(a.start(options())) << a.error();
  const std::int64_t first_day = utc_day_now();

  // HTTP: the query string, a sendBeacon body and the image fallback.
  http_connection c(a.ports().http);
  ASSERT_TRUE(c.connected()) << c.error();
  EXPECT_EQ(c.get("/hit?s=" + site + "&a=" + news_encoded).status, 204);
  EXPECT_EQ(c.request("POST", "/hit", "s=" + site + "&a=Gi%E1%BB%9Bi-thi%E1%BB%87u",
                      "text/plain;charset=UTF-8")
                .status,
            204);
  EXPECT_EQ(c.get("/hit.gif?s=" + site + "&a=Gio%CC%9B%CC%81i-thie%CC%A3%CC%82u").status, 200);
  // UDP: raw UTF-8 (a log shipper's line) and %-encoded, one article.
  udp_sender u(a.ports().udp);
  ASSERT_TRUE(u.send(site + " " + news + " 3\n" + site + " /tin-t%E1%BB%A9c/bai-1\n")) << u.error();
  // Refused: the UDP line cut inside a character, the beacon with a space.
  ASSERT_TRUE(u.send(site + " /tin-t\xE1\xBB 5\n")) << u.error();
  const http_reply spaced = c.get("/hit?s=" + site + "&a=Gi%E1%BB%9Bi+thi%E1%BB%87u");
  EXPECT_EQ(spaced.status, 400);
  EXPECT_EQ(spaced.body, "bad_article: article has a space or a control character\n");

  ASSERT_TRUE(total_becomes(a, site, 7)) << fetch_views(a.ports().http, site).error;
  views_reply v = fetch_views(a.ports().http, site, {news, about, about_combining});
  ASSERT_EQ(v.error, "");
  EXPECT_EQ(v.articles[news].total, 5u);
  EXPECT_EQ(v.articles[about].total, 1u);  // precomposed and combining: two ids
  EXPECT_EQ(v.articles[about_combining].total, 1u);
  // The JSON carries the id as UTF-8 text, not escaped.
  const http_reply raw = c.get("/api/v1/views?s=" + site + "&a=" + news_encoded);
  EXPECT_EQ(raw.status, 200);
  EXPECT_NE(raw.body.find("\"" + news + "\""), std::string::npos) << raw.body;
  const http_reply widget = c.get("/api/v1/widget?s=" + site + "&a=" + news_encoded);
  EXPECT_EQ(widget.status, 200);
  EXPECT_NE(widget.body.find("\"" + news + "\""), std::string::npos) << widget.body;
  // The most-read list names it too (refreshed in the background: wait).
  EXPECT_TRUE(wait_until(
      [&] {
        return c.get("/api/v1/top?s=" + site + "&period=all").body.find("\"" + news + "\"") !=
               std::string::npos;
      },
      std::chrono::seconds(30)));

  // pvctl: ids as arguments, %-encoded on the wire, printed as they are.
  ok(pvctl(a, {"hit", "--site", site, about, "--count", "2"}));
  ASSERT_TRUE(total_becomes(a, site, 9));
  const std::string got = ok(pvctl(a, {"get", "--site", site, news, about}));
  if (utc_day_now() == first_day) {
    EXPECT_EQ(got, news + "\t5\t5\n" + about + "\t3\t3\n");
  }
  const command_result refused = pvctl(a, {"hit", "--site", site, "Giới thiệu"});
  EXPECT_EQ(refused.status.code, 4) << refused.err;
  EXPECT_EQ(refused.err,
            "pvctl: server answered 400: bad_article: article has a space or a control "
            "character\n");

  // Metrics: no article id ever becomes a label; a site (bounded by
  // max_sites) is one, its UTF-8 as it is.
  ok(pvctl(a, {"hit", "--site", "sóc-trăng", about}));
  ASSERT_TRUE(total_becomes(a, "sóc-trăng", 1));
  const http_reply visitors = c.get("/api/v1/visitors?s=s%C3%B3c-tr%C4%83ng");
  EXPECT_EQ(visitors.status, 200);
  EXPECT_NE(visitors.body.find("{\"site\":\"sóc-trăng\","), std::string::npos) << visitors.body;
  EXPECT_NE(c.get("/api/v1/sites").body.find("\"site\":\"sóc-trăng\""), std::string::npos);
  const http_reply cut = c.get("/api/v1/views?s=s%C3");
  EXPECT_EQ(cut.status, 400);
  EXPECT_EQ(cut.body, "bad_site: site is not a valid id\n");
  const std::string metrics = fetch_metrics(a.ports().admin);
  EXPECT_EQ(metric_value(metrics, rejected_series("bad_article", "udp")), 1);
  EXPECT_EQ(metric_value(metrics, rejected_series("bad_article", "http")), 1);
  EXPECT_TRUE(wait_until(
      [&] { return scrape(a.ports().admin, "pvcd_views_total{site=\"sóc-trăng\"}") == 1; }));
  for (const std::string& id : {news, about, about_combining, std::string("tin-t")})
    EXPECT_EQ(metrics.find(id), std::string::npos) << id;

  // Export (CSV and JSON lines), import into a fresh pvcd: the same bytes.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"export"},
        std::vector<std::string>{"export", "--format", "json"}}) {
    const std::string first = ok(pvctl(a, args));
    const bool json = !first.empty() && first.front() == '{';
    SCOPED_TRACE(json ? "json" : "csv");
    if (json) {
      EXPECT_NE(first.find("\"article\":\"" + news + "\""), std::string::npos) << first;
    } else {
      EXPECT_NE(first.find(site + "," + news + ",5\n"), std::string::npos) << first;
      EXPECT_NE(first.find(site + "," + about_combining + ",1\n"), std::string::npos) << first;
    }
    const auto file = write_file(json ? "export.jsonl" : "export.csv", first);
    // A second pvcd beside the first, on an empty data dir of its own.
    daemon_options fresh = options();
    fresh.data_dir = dir_.path() / (json ? "fresh-json" : "fresh-csv");
    daemon_process b;
    ASSERT_TRUE(b.start(fresh)) << b.error();
    ok(pvctl(b, {"import", file.string(), "--mode", "set"}));
    EXPECT_EQ(ok(pvctl(b, args)), first);
    views_reply w = fetch_views(b.ports().http, site, {news});
    EXPECT_EQ(w.articles[news].total, 5u) << w.error;
    EXPECT_TRUE(b.stop().ok());
  }

  // A file with an id that is not UTF-8 is refused whole, naming the line.
  const auto bad = write_file("bad.csv", site + ",Gi\xE1\xBB,5\n");
  const command_result r = pvctl(a, {"import", bad.string(), "--mode", "set"});
  EXPECT_EQ(r.status.code, 4) << r.err;
  EXPECT_NE(r.err.find("line 1: article is not valid UTF-8"), std::string::npos) << r.err;
  EXPECT_TRUE(a.stop().ok());
}

}  // namespace
}  // namespace pvc::test
