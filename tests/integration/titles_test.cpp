// Article titles with the real pvcd and pvctl: set, shown, escaped, refused
// from strangers, rate-limited, capped, exported, imported, kept across a
// restart. Titles are the portals' own words.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cctype>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "admin_fixture.hpp"
#include "core/beacon_token.hpp"

namespace pvc::test {
namespace {

using namespace std::chrono_literals;

// Ids stay ASCII here: UTF-8 ids are another change (issue 21); titles are
// Vietnamese text.
const std::string site = "soctrang.gov.vn";
const std::string intro = "Giới thiệu chung về tỉnh Sóc Trăng";

class titles_test : public admin_test {
 protected:
  // Form-encodes a query value (every byte but unreserved ones as %XX).
  static std::string enc(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
        out += c;
      } else {
        out += '%';
        out += hex[u >> 4];
        out += hex[u & 15];
      }
    }
    return out;
  }

  // The widget's article.title ("" when none), or "error: ..." on a bad answer.
  static std::string widget_title(const daemon_process& d, const std::string& article) {
    const http_reply r =
        http_once(d.ports().http, "GET", "/api/v1/widget?s=" + enc(site) + "&a=" + enc(article));
    if (r.status != 200) return "error: status " + std::to_string(r.status);
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(r.body, ec);
    if (ec) return "error: not JSON: " + r.body;
    const boost::json::value* t = v.at("article").as_object().if_contains("title");
    return t ? std::string(t->as_string()) : std::string();
  }

  // /api/v1/top?period=all once its list is computed (503 until then).
  static boost::json::array top(const daemon_process& d) {
    boost::json::array list;
    wait_until([&] {
      const http_reply r =
          http_once(d.ports().http, "GET", "/api/v1/top?s=" + enc(site) + "&period=all");
      if (r.status != 200) return false;
      list = boost::json::parse(r.body).as_array();
      return true;
    });
    return list;
  }

  static double metric(const daemon_process& d, std::string_view series) {
    return scrape(d.ports().admin, series).value_or(-1);
  }
  static std::string refused(std::string_view reason) {
    return "pvcd_titles_refused_total{reason=\"" + std::string(reason) + "\"}";
  }

  static std::int64_t now_unix() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // One beacon for `article` (counted: 204 expected by the callers).
  static int beacon(const daemon_process& d, const std::string& article, const std::string& title,
                    const std::string& token = {}) {
    std::string target = "/hit?s=" + enc(site) + "&a=" + enc(article) + "&title=" + enc(title);
    if (!token.empty()) target += "&t=" + token;
    return http_once(d.ports().http, "GET", target).status;
  }

  // Waits until the widget shows `title` for `article`.
  static bool title_becomes(const daemon_process& d, const std::string& article,
                            const std::string& title) {
    return wait_until([&] { return widget_title(d, article) == title; });
  }
};

TEST_F(titles_test, PvctlSetsShowsClearsAndJournalsATitle) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  ok(pvctl(d, {"hit", "--site", site, "/gioi-thieu", "--count", "3"}));
  ok(pvctl(d, {"hit", "--site", site, "/tin-tuc/bai-1"}));
  ASSERT_TRUE(total_becomes(d, site, 4));

  EXPECT_EQ(ok(pvctl(d, {"title", site, "/gioi-thieu", intro, "--reason", "tiêu đề mới"})),
            "title of /gioi-thieu on " + site + ": " + intro + "\n");
  EXPECT_EQ(widget_title(d, "/gioi-thieu"), intro);  // written directly, no flush to wait for
  EXPECT_EQ(widget_title(d, "/tin-tuc/bai-1"), "");

  const boost::json::array list = top(d);
  ASSERT_EQ(list.size(), 2u) << boost::json::serialize(list);
  EXPECT_EQ(list[0].at("id").as_string(), "/gioi-thieu");
  EXPECT_EQ(list[0].at("title").as_string(), intro);
  EXPECT_FALSE(list[1].as_object().contains("title")) << "no title: no field";

  EXPECT_EQ(ok(pvctl(d, {"top", "--site", site, "--period", "all"})),
            "1\t3\t/gioi-thieu\t" + intro + "\n2\t1\t/tin-tuc/bai-1\n");

  const std::string audit = ok(pvctl(d, {"audit", "--json"}));
  EXPECT_NE(audit.find("\"action\":\"title\""), std::string::npos) << audit;
  EXPECT_NE(audit.find("\"reason\":\"tiêu đề mới\""), std::string::npos) << audit;
  EXPECT_NE(audit.find("\"after\":\"" + intro + "\""), std::string::npos) << audit;

  // Removing takes --clear (or ""); a forgotten TEXT is a usage error.
  const command_result forgot = pvctl(d, {"title", site, "/gioi-thieu"});
  EXPECT_EQ(forgot.status.code, 2) << forgot.err;
  EXPECT_EQ(widget_title(d, "/gioi-thieu"), intro);
  ok(pvctl(d, {"title", site, "/gioi-thieu", "--clear"}));
  EXPECT_EQ(widget_title(d, "/gioi-thieu"), "");
  ok(pvctl(d, {"title", site, "/tin-tuc/bai-1", "Bài một"}));
  ok(pvctl(d, {"title", site, "/tin-tuc/bai-1", ""}));
  EXPECT_EQ(widget_title(d, "/tin-tuc/bai-1"), "");
  const std::string after = ok(pvctl(d, {"audit", "--json"}));
  EXPECT_NE(after.find("\"after\":null"), std::string::npos) << after;
  EXPECT_TRUE(d.stop().ok());
}

TEST_F(titles_test, AHostileTitleComesBackAsEscapedText) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  ok(pvctl(d, {"hit", "--site", site, "/x"}));
  ASSERT_TRUE(total_becomes(d, site, 1));
  const std::string hostile = "<img src=x onerror=alert(1)> \"trích dẫn\" \\ </script>";
  ok(pvctl(d, {"title", site, "/x", hostile}));
  const http_reply r = http_once(d.ports().http, "GET", "/api/v1/widget?s=" + enc(site) + "&a=/x");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_NE(r.body.find(R"("title":"<img src=x onerror=alert(1)> \"trích dẫn\" \\ </script>")"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(widget_title(d, "/x"), hostile);
  EXPECT_EQ(top(d).at(0).at("title").as_string(), hostile);

  // A line break (any control character) or broken UTF-8 is refused.
  for (const std::string bad : {"dòng một\ndòng hai", "tab\there", "Gi\xE1\xBB"}) {
    const command_result refused_title = pvctl(d, {"title", site, "/x", bad});
    EXPECT_EQ(refused_title.status.code, 4) << refused_title.err;
  }
  const command_result too_long = pvctl(d, {"title", site, "/x", std::string(201, 'a')});
  EXPECT_NE(too_long.err.find("title is longer than 200 bytes"), std::string::npos) << too_long.err;
  EXPECT_EQ(widget_title(d, "/x"), hostile);
  EXPECT_TRUE(d.stop().ok());
}

TEST_F(titles_test, BeaconTitlesAreRefusedByDefaultAndTheViewStillCounts) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  EXPECT_EQ(beacon(d, "/gioi-thieu", "Quảng cáo của người lạ"), 204);
  ASSERT_TRUE(total_becomes(d, site, 1));
  EXPECT_EQ(widget_title(d, "/gioi-thieu"), "");
  EXPECT_EQ(metric(d, refused("off")), 1);
  EXPECT_TRUE(d.stop().ok());
}

TEST_F(titles_test, SignedBeaconTitlesNeedATokenThatCoversThem) {
  const std::string secret = "soctrang-cms-secret-0123456789";
  const auto secret_file = dir_.path() / "beacon.secret";
  std::ofstream(secret_file) << secret << "\n";
  daemon_process d;
  daemon_options o = options();
  o.extra_args = {"--beacon-secret-file", secret_file.string(), "--beacon-titles", "signed"};
  ASSERT_TRUE(d.start(o)) << d.error();
  const std::int64_t exp = now_unix() + 3600;

  // A token minted without the title counts the view, not the title.
  EXPECT_EQ(
      beacon(d, "/gioi-thieu", "Quảng cáo", mint_beacon_token(secret, site, "/gioi-thieu", exp)),
      204);
  ASSERT_TRUE(total_becomes(d, site, 1));
  EXPECT_EQ(widget_title(d, "/gioi-thieu"), "");
  EXPECT_EQ(metric(d, refused("unsigned")), 1);
  // A token minted for another title signs neither: the beacon is refused.
  EXPECT_EQ(beacon(d, "/gioi-thieu", "Quảng cáo",
                   mint_beacon_token(secret, site, "/gioi-thieu", exp, intro)),
            403);
  // The CMS's token for this page and its title.
  EXPECT_EQ(
      beacon(d, "/gioi-thieu", intro, mint_beacon_token(secret, site, "/gioi-thieu", exp, intro)),
      204);
  EXPECT_TRUE(title_becomes(d, "/gioi-thieu", intro)) << widget_title(d, "/gioi-thieu");
  EXPECT_TRUE(total_becomes(d, site, 2));
  EXPECT_TRUE(d.stop().ok());
}

TEST_F(titles_test, TitlesFromTrustedProxiesOnlyAndAtMostOncePerInterval) {
  {
    // The test connects from 127.0.0.1, which this daemon does not trust.
    daemon_process d;
    daemon_options o = options();
    o.extra_args = {"--beacon-titles", "trusted_proxies", "--trusted-proxies", "127.0.0.2/32"};
    ASSERT_TRUE(d.start(o)) << d.error();
    EXPECT_EQ(beacon(d, "/gioi-thieu", intro), 204);
    ASSERT_TRUE(total_becomes(d, site, 1));
    EXPECT_EQ(widget_title(d, "/gioi-thieu"), "");
    EXPECT_EQ(metric(d, refused("untrusted_peer")), 1);
    EXPECT_TRUE(d.stop().ok());
  }
  temp_dir other;
  daemon_process d;
  daemon_options o = options();
  o.data_dir = other.path() / "data";
  o.extra_args = {"--beacon-titles", "trusted_proxies", "--trusted-proxies", "127.0.0.1/32"};
  ASSERT_TRUE(d.start(o)) << d.error();
  EXPECT_EQ(beacon(d, "/gioi-thieu", intro), 204);
  EXPECT_TRUE(title_becomes(d, "/gioi-thieu", intro)) << widget_title(d, "/gioi-thieu");
  // Within title_change_interval (1h by default) a second title is dropped.
  EXPECT_EQ(beacon(d, "/gioi-thieu", "Tiêu đề khác"), 204);
  EXPECT_TRUE(total_becomes(d, site, 2));
  EXPECT_EQ(metric(d, refused("too_soon")), 1);
  std::this_thread::sleep_for(300ms);  // three flushes: a taken title would show by now
  EXPECT_EQ(widget_title(d, "/gioi-thieu"), intro);
  // An editor is not held back.
  ok(pvctl(d, {"title", site, "/gioi-thieu", "Giới thiệu (đã sửa)"}));
  EXPECT_EQ(widget_title(d, "/gioi-thieu"), "Giới thiệu (đã sửa)");

  // A restart keeps the titles, and the interval (its start is stored).
  EXPECT_EQ(beacon(d, "/lich-su", "Lịch sử hình thành"), 204);
  ASSERT_TRUE(title_becomes(d, "/lich-su", "Lịch sử hình thành"));
  ASSERT_TRUE(d.stop().ok());
  daemon_process again;
  ASSERT_TRUE(again.start(o)) << again.error();
  EXPECT_EQ(widget_title(again, "/gioi-thieu"), "Giới thiệu (đã sửa)");
  EXPECT_EQ(widget_title(again, "/lich-su"), "Lịch sử hình thành");
  EXPECT_EQ(beacon(again, "/lich-su", "Đổi ngay sau khởi động lại"), 204);
  EXPECT_TRUE(total_becomes(again, site, 4));
  EXPECT_EQ(metric(again, refused("too_soon")), 1);
  EXPECT_EQ(metric(again, "pvcd_titles"), 2);
  EXPECT_TRUE(again.stop().ok());
}

TEST_F(titles_test, TheCapsRefuseNewTitlesAndCountThem) {
  daemon_process d;
  daemon_options o = options();
  o.extra_args = {"--max-titles",          "3",
                  "--max-titles-per-site", "2",
                  "--beacon-titles",       "trusted_proxies",
                  "--trusted-proxies",     "127.0.0.1/32"};
  ASSERT_TRUE(d.start(o)) << d.error();
  ok(pvctl(d, {"title", site, "/1", "Một"}));
  ok(pvctl(d, {"title", site, "/2", "Hai"}));
  const command_result full = pvctl(d, {"title", site, "/3", "Ba"});
  EXPECT_EQ(full.status.code, 4);
  EXPECT_NE(full.err.find("title_cap"), std::string::npos) << full.err;
  EXPECT_EQ(beacon(d, "/4", "Bốn"), 204);  // the view counts; the title does not
  ASSERT_TRUE(total_becomes(d, site, 1));
  EXPECT_EQ(metric(d, refused("site_cap")), 2);
  ok(pvctl(d, {"title", "baochinhphu.vn", "/a", "Tin"}));
  EXPECT_EQ(pvctl(d, {"title", "hanoi.gov.vn", "/b", "Tin"}).status.code, 4);
  EXPECT_EQ(metric(d, refused("total_cap")), 1);
  // A known article may change; removing one makes room.
  ok(pvctl(d, {"title", site, "/1", "Một (mới)"}));
  ok(pvctl(d, {"title", site, "/2", "--clear"}));
  ok(pvctl(d, {"title", site, "/3", "Ba"}));
  EXPECT_EQ(metric(d, "pvcd_titles"), 3);
  EXPECT_TRUE(d.stop().ok());
}

TEST_F(titles_test, ATitleMovesWithARenameAndAMergeKeepsTheTargets) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  ok(pvctl(d, {"hit", "--site", site, "/cu"}));
  ok(pvctl(d, {"hit", "--site", site, "/khac"}));
  ASSERT_TRUE(total_becomes(d, site, 2));
  ok(pvctl(d, {"title", site, "/cu", intro}));
  ok(pvctl(d, {"title", site, "/khac", "Bài khác"}));
  ok(pvctl(d, {"rename", site, "/cu", "/moi"}));
  EXPECT_EQ(widget_title(d, "/moi"), intro);
  EXPECT_EQ(widget_title(d, "/cu"), "");
  ok(pvctl(d, {"merge", site, "/khac", "/moi"}));
  EXPECT_EQ(widget_title(d, "/moi"), intro);
  EXPECT_EQ(widget_title(d, "/khac"), "");
  const std::string audit = ok(pvctl(d, {"audit", "--json"}));
  EXPECT_NE(audit.find("\"title_moved\":\"" + intro + "\""), std::string::npos) << audit;
  EXPECT_TRUE(d.stop().ok());
}

TEST_F(titles_test, ExportThenImportKeepsTitles) {
  daemon_process a;
  ASSERT_TRUE(a.start(options())) << a.error();
  ok(pvctl(a, {"hit", "--site", site, "/gioi-thieu", "--count", "5"}));
  ok(pvctl(a, {"hit", "--site", site, "/tin-tuc/bai-1", "--count", "2"}));
  ASSERT_TRUE(total_becomes(a, site, 7));
  ok(pvctl(a, {"title", site, "/gioi-thieu", intro}));
  ok(pvctl(a, {"title", site, "/tin-tuc/bai-1", "Tin \"nóng\", mới"}));
  const std::string csv = ok(pvctl(a, {"export"}));
  EXPECT_NE(csv.find(site + ",/gioi-thieu,5,," + intro + "\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find(site + ",/tin-tuc/bai-1,2,,\"Tin \"\"nóng\"\", mới\"\n"), std::string::npos)
      << csv;
  const std::string json = ok(pvctl(a, {"export", "--format", "json"}));
  EXPECT_NE(json.find("\"title\":\"" + intro + "\""), std::string::npos) << json;
  EXPECT_TRUE(a.stop().ok());

  for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
           {"titles.csv", csv}, {"titles.json", json}}) {
    SCOPED_TRACE(name);
    temp_dir fresh;
    daemon_options o = options();
    o.data_dir = fresh.path() / "data";
    daemon_process b;
    ASSERT_TRUE(b.start(o)) << b.error();
    ok(pvctl(b, {"import", write_file(name, text).string(), "--mode", "set"}));
    EXPECT_EQ(widget_title(b, "/gioi-thieu"), intro);
    EXPECT_EQ(widget_title(b, "/tin-tuc/bai-1"), "Tin \"nóng\", mới");
    EXPECT_EQ(ok(pvctl(b, {"export"})), csv);
    EXPECT_TRUE(b.stop().ok());
  }
  // A file from before titles still imports.
  temp_dir old;
  daemon_options o = options();
  o.data_dir = old.path() / "data";
  daemon_process c;
  ASSERT_TRUE(c.start(o)) << c.error();
  ok(pvctl(c,
           {"import", write_file("old.csv", "site,article,total\n" + site + ",/a,3\n").string()}));
  EXPECT_EQ(widget_title(c, "/a"), "");
  EXPECT_EQ(fetch_views(c.ports().http, site, {"/a"}).articles["/a"].total, 3u);
  EXPECT_TRUE(c.stop().ok());
}

}  // namespace
}  // namespace pvc::test
