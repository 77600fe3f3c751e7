#include "serve/routes.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <tuple>

#include "read_side.hpp"
#include "test_support.hpp"

namespace pvc {
namespace {

const day_number dec1 = from_civil({2026, 12, 1});

struct request {
  std::string method;
  std::string target;
  std::string content_type = {};
  std::string body = {};
};

class RoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    db_ = store::open(dir_.str(), store_options{.sync = false}, error);
    ASSERT_NE(db_, nullptr) << error;
    sites_.preload("full-site-0");
    table_ = std::make_unique<counter_table>(1, sites_, dec1);
    reads_ = std::make_unique<test::read_side>(*db_, *table_);
    ctx_ = std::make_unique<route_context>(
        route_context{reads_->reader, *table_, [] { return std::string("pvcd_up 1\n"); }});
    public_ = std::make_unique<router>(router::role::public_api, *ctx_);
    admin_ = std::make_unique<router>(router::role::admin, *ctx_);
  }

  http_response call(const router& r, const request& req) {
    http_response res;
    r.handle({req.method, req.target, req.content_type, req.body}, res, shard());
    return res;
  }
  http_response pub(const request& req) { return call(*public_, req); }
  http_response adm(const request& req) { return call(*admin_, req); }

  counter_shard& shard() { return table_->shard(0); }

  // What the shard would hand to the flusher: (site, article) -> views.
  std::map<std::pair<std::string, std::string>, std::uint64_t> drained() {
    std::vector<std::unique_ptr<delta_table>> out;
    shard().drain(out);
    std::map<std::pair<std::string, std::string>, std::uint64_t> counts;
    for (const auto& t : out) {
      t->for_each([&](std::string_view s, std::string_view a, std::uint64_t n) {
        counts[{std::string(s), std::string(a)}] += n;
      });
    }
    return counts;
  }

  std::uint64_t rejected(transport t, reject_reason r) {
    return shard()
        .stats()
        .hits_rejected[static_cast<std::size_t>(t)][static_cast<std::size_t>(r)]
        .get();
  }
  std::uint64_t accepted(transport t) {
    return shard().stats().views_accepted[static_cast<std::size_t>(t)].get();
  }
  std::uint64_t all_rejected() {
    std::uint64_t n = 0;
    for (const auto& per_transport : shard().stats().hits_rejected) {
      for (const auto& c : per_transport)
        n += c.get();
    }
    return n;
  }

  test::temp_dir dir_;
  std::unique_ptr<store> db_;
  site_registry sites_{3};
  std::unique_ptr<counter_table> table_;
  std::unique_ptr<test::read_side> reads_;
  std::unique_ptr<route_context> ctx_;
  std::unique_ptr<router> public_;
  std::unique_ptr<router> admin_;
};

TEST_F(RoutesTest, PublicRouteTable) {
  struct row {
    request req;
    unsigned status;
  };
  const row table[] = {
      {{"GET", "/healthz"}, 200},
      {{"HEAD", "/healthz"}, 200},
      {{"POST", "/healthz"}, 405},
      {{"GET", "/metrics"}, 404},  // admin only
      {{"POST", "/admin/v1/hit?s=blog&a=x"}, 404},
      {{"GET", "/admin/v1/hit?s=blog&a=x"}, 404},
      {{"GET", "/"}, 404},
      {{"GET", "/hit/"}, 404},
      {{"GET", "/HIT?a=x"}, 404},
      {{"DELETE", "/hit?a=x"}, 405},
      {{"PUT", "/hit?a=x"}, 405},
      {{"POST", "/hit.gif?a=x"}, 405},
      {{"POST", "/api/v1/views?s=blog"}, 405},
      {{"GET", "/api/v1/sites"}, 200},
      {{"POST", "/api/v1/sites"}, 405},
  };
  for (const row& r : table) {
    SCOPED_TRACE(r.req.method + " " + r.req.target);
    const http_response res = pub(r.req);
    EXPECT_EQ(res.status, r.status) << res.payload();
  }
  EXPECT_TRUE(drained().empty()) << "no route in this table counts a view";
}

// The methods of an Allow header, in a canonical order.
std::set<std::string> methods_of(std::string_view allow) {
  std::set<std::string> out;
  while (!allow.empty()) {
    const std::size_t comma = allow.find(',');
    std::string_view m = allow.substr(0, comma);
    while (!m.empty() && m.front() == ' ')
      m.remove_prefix(1);
    while (!m.empty() && m.back() == ' ')
      m.remove_suffix(1);
    if (!m.empty()) out.emplace(m);
    allow = comma == std::string_view::npos ? std::string_view{} : allow.substr(comma + 1);
  }
  return out;
}

// A 405 names in Allow exactly the methods the route answers (RFC 9110
// 10.2.1), HEAD included wherever GET is served.
TEST_F(RoutesTest, MethodNotAllowedListsEveryMethodTheRouteAnswers) {
  struct row {
    bool admin;
    std::string target;
    std::set<std::string> allow;
  };
  const row table[] = {
      {false, "/healthz", {"GET", "HEAD"}},
      {false, "/api/v1/views?s=blog", {"GET", "HEAD"}},
      {false, "/hit?s=blog&a=x", {"GET", "HEAD", "POST"}},
      {false, "/hit.gif?s=blog&a=x", {"GET", "HEAD"}},
      {true, "/metrics", {"GET", "HEAD"}},
      {true, "/admin/v1/hit?s=blog&a=x", {"POST"}},
  };
  for (const row& r : table) {
    SCOPED_TRACE(std::string(r.admin ? "admin " : "public ") + r.target);
    auto send = [&](const std::string& method) {
      return r.admin ? adm({method, r.target}) : pub({method, r.target});
    };
    const http_response refused = send("DELETE");
    ASSERT_EQ(refused.status, 405u);
    EXPECT_EQ(methods_of(refused.allow), r.allow) << "Allow: " << refused.allow;
    for (const char* m : {"GET", "HEAD", "POST", "PUT"}) {
      const bool listed = r.allow.count(m) != 0;
      EXPECT_EQ(send(m).status != 405, listed) << m;
    }
  }
}

TEST_F(RoutesTest, AdminRouteTable) {
  struct row {
    request req;
    unsigned status;
  };
  const row table[] = {
      {{"GET", "/healthz"}, 200},
      {{"GET", "/metrics"}, 200},
      {{"POST", "/metrics"}, 405},
      {{"GET", "/hit?s=blog&a=x"}, 404},  // public only
      {{"POST", "/hit?s=blog&a=x"}, 404},
      {{"GET", "/hit.gif?s=blog&a=x"}, 404},
      {{"GET", "/admin/v1/hit?s=blog&a=x"}, 405},
      {{"GET", "/api/v1/views?s=blog"}, 200},
      {{"GET", "/api/v1/sites"}, 200},
  };
  for (const row& r : table) {
    SCOPED_TRACE(r.req.method + " " + r.req.target);
    EXPECT_EQ(adm(r.req).status, r.status);
  }
  EXPECT_TRUE(drained().empty());
}

TEST_F(RoutesTest, HealthzAndMetricsBodies) {
  EXPECT_EQ(pub({"GET", "/healthz"}).payload(), "ok\n");
  const http_response m = adm({"GET", "/metrics"});
  EXPECT_EQ(m.payload(), "pvcd_up 1\n");
  EXPECT_EQ(m.content_type.substr(0, 10), "text/plain");
}

TEST_F(RoutesTest, GetHitCounts) {
  const http_response res = pub({"GET", "/hit?s=blog&a=x&_=123"});
  EXPECT_EQ(res.status, 204u);
  EXPECT_TRUE(res.payload().empty());
  EXPECT_TRUE(res.cors);
  pub({"GET", "/hit?s=blog&a=x"});
  pub({"GET", "/hit?a=news%2Fa"});
  EXPECT_EQ(accepted(transport::http), 3u);
  EXPECT_EQ((drained()), (std::map<std::pair<std::string, std::string>, std::uint64_t>{
                             {{"blog", "x"}, 2}, {{"default", "news/a"}, 1}}));
}

TEST_F(RoutesTest, BadHitsAre400AndCountedByReason) {
  struct row {
    request req;
    reject_reason reason;
  };
  const row table[] = {
      {{"GET", "/hit"}, reject_reason::bad_article},  // no a=
      {{"GET", "/hit?s=blog"}, reject_reason::bad_article},
      {{"GET", "/hit?a="}, reject_reason::bad_article},
      {{"GET", "/hit?a=x&a=y"}, reject_reason::malformed},
      {{"GET", "/hit?s=&a=x"}, reject_reason::bad_site},
      {{"GET", "/hit?a=%G1"}, reject_reason::bad_article},
      {{"GET", "/hit.gif"}, reject_reason::bad_article},
      {{"POST", "/hit?a=x", "text/plain", "a=y"}, reject_reason::malformed},
  };
  for (const row& r : table) {
    SCOPED_TRACE(r.req.method + " " + r.req.target);
    const std::uint64_t before = rejected(transport::http, r.reason);
    const http_response res = pub(r.req);
    EXPECT_EQ(res.status, 400u);
    EXPECT_EQ(res.payload().substr(0, name_of(r.reason).size()), name_of(r.reason));
    EXPECT_NE(res.content_type, "image/gif");
    EXPECT_EQ(rejected(transport::http, r.reason), before + 1);
  }
  EXPECT_EQ(all_rejected(), std::size(table));
  EXPECT_EQ(accepted(transport::http), 0u);
  EXPECT_TRUE(drained().empty());
}

TEST_F(RoutesTest, GifBeaconAnswersA43ByteGif) {
  const http_response res = pub({"GET", "/hit.gif?s=blog&a=x"});
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.content_type, "image/gif");
  const std::string_view gif = res.payload();
  EXPECT_EQ(gif.size(), 43u);
  EXPECT_EQ(gif.substr(0, 6), "GIF89a");
  EXPECT_EQ(gif.back(), ';');  // GIF trailer
  EXPECT_EQ((drained()),
            (std::map<std::pair<std::string, std::string>, std::uint64_t>{{{"blog", "x"}, 1}}));
}

TEST_F(RoutesTest, PostBodyCountsOnlyForFormAndTextPlain) {
  struct row {
    std::string content_type;
    bool body_read;
  };
  const row table[] = {
      {"text/plain", true},
      {"text/plain;charset=UTF-8", true},  // what navigator.sendBeacon(url, string) sends
      {"text/plain; charset=utf-8", true},
      {"application/x-www-form-urlencoded", true},
      {"Application/X-WWW-Form-Urlencoded", true},
      {"application/json", false},
      {"multipart/form-data; boundary=x", false},
      {"", false},
      {"text/plainx", false},
  };
  for (const row& r : table) {
    SCOPED_TRACE(r.content_type);
    const http_response res = pub({"POST", "/hit", r.content_type, "s=blog&a=post"});
    if (r.body_read) {
      EXPECT_EQ(res.status, 204u) << res.payload();
      EXPECT_EQ(
          (drained()),
          (std::map<std::pair<std::string, std::string>, std::uint64_t>{{{"blog", "post"}, 1}}));
    } else {
      EXPECT_EQ(res.status, 400u);
      EXPECT_TRUE(drained().empty());
    }
  }
}

TEST_F(RoutesTest, IgnoredBodyDoesNotClashWithTheQuery) {
  const http_response res = pub({"POST", "/hit?s=blog&a=q", "application/json", "{\"a\":\"b\"}"});
  EXPECT_EQ(res.status, 204u) << res.payload();
  EXPECT_EQ((drained()),
            (std::map<std::pair<std::string, std::string>, std::uint64_t>{{{"blog", "q"}, 1}}));
}

TEST_F(RoutesTest, NewSitePastTheLimitIs400) {
  // max_sites is 3, "full-site-0" is preloaded.
  EXPECT_EQ(pub({"GET", "/hit?s=s1&a=x"}).status, 204u);
  EXPECT_EQ(pub({"GET", "/hit?s=s2&a=x"}).status, 204u);
  const http_response res = pub({"GET", "/hit?s=s3&a=x"});
  EXPECT_EQ(res.status, 400u);
  EXPECT_NE(res.payload().find("site_limit"), std::string_view::npos) << res.payload();
  EXPECT_EQ(rejected(transport::http, reject_reason::site_limit), 1u);
  const http_response gif = pub({"GET", "/hit.gif?s=s3&a=x"});
  EXPECT_EQ(gif.status, 400u);
  EXPECT_EQ(pub({"GET", "/hit?s=s1&a=y"}).status, 204u);  // known sites keep counting
  EXPECT_EQ((drained()), (std::map<std::pair<std::string, std::string>, std::uint64_t>{
                             {{"s1", "x"}, 1}, {{"s1", "y"}, 1}, {{"s2", "x"}, 1}}));
}

TEST_F(RoutesTest, AdminHitTakesACount) {
  struct row {
    request req;
    unsigned status;
  };
  const row table[] = {
      {{"POST", "/admin/v1/hit?s=blog&a=x&n=5"}, 204},
      {{"POST", "/admin/v1/hit?s=blog&a=x"}, 204},  // n defaults to 1
      {{"POST", "/admin/v1/hit", "application/x-www-form-urlencoded", "s=blog&a=y&n=1000000"}, 204},
      {{"POST", "/admin/v1/hit?s=blog&a=x&n=0"}, 400},
      {{"POST", "/admin/v1/hit?s=blog&a=x&n=1000001"}, 400},
      {{"POST", "/admin/v1/hit?s=blog&a=x&n=-1"}, 400},
      {{"POST", "/admin/v1/hit?s=blog&a=x&n="}, 400},
      {{"POST", "/admin/v1/hit?s=blog&n=2"}, 400},
  };
  for (const row& r : table) {
    SCOPED_TRACE(r.req.target + " " + r.req.body);
    EXPECT_EQ(adm(r.req).status, r.status);
  }
  EXPECT_EQ(rejected(transport::admin, reject_reason::bad_count), 4u);
  EXPECT_EQ(rejected(transport::admin, reject_reason::bad_article), 1u);
  EXPECT_EQ(accepted(transport::admin), 1000006u);
  EXPECT_EQ(accepted(transport::http), 0u);
  EXPECT_EQ((drained()), (std::map<std::pair<std::string, std::string>, std::uint64_t>{
                             {{"blog", "x"}, 6}, {{"blog", "y"}, 1000000}}));
}

class ViewsTest : public RoutesTest {
 protected:
  void SetUp() override {
    RoutesTest::SetUp();
    delta_table today;
    today.reset(dec1);
    today.add("blog", "x", 3);
    today.add("blog", "y", 2);
    today.add("blog", "news/a", 4);
    today.add("default", "x", 1);
    today.add("a\"b", "x", 1);
    delta_table yesterday;
    yesterday.reset(dec1 - 1);
    yesterday.add("blog", "x", 10);
    const delta_table* tables[] = {&today, &yesterday};
    ASSERT_EQ(db_->apply(tables, 1), "");
  }
};

TEST_F(ViewsTest, AnswersJsonForTheSiteAndEachArticle) {
  const http_response res = pub({"GET", "/api/v1/views?s=blog&a=x&a=y&a=none"});
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_TRUE(res.cors);
  EXPECT_EQ(res.payload(),
            "{\"site\":\"blog\",\"total\":19,\"today\":9,\"yesterday\":10,\"this_month\":9,"
            "\"articles\":{\"x\":{\"total\":13,\"today\":3},\"y\":{\"total\":2,\"today\":2},"
            "\"none\":{\"total\":0,\"today\":0}}}");
  // The admin listener answers the same.
  EXPECT_EQ(adm({"GET", "/api/v1/views?s=blog&a=x&a=y&a=none"}).payload(), res.payload());
}

TEST_F(ViewsTest, DecodesIdsAndDefaultsTheSite) {
  EXPECT_EQ(pub({"GET", "/api/v1/views?s=blog&a=news%2Fa"}).payload(),
            "{\"site\":\"blog\",\"total\":19,\"today\":9,\"yesterday\":10,\"this_month\":9,"
            "\"articles\":{\"news/a\":{\"total\":4,\"today\":4}}}");
  EXPECT_EQ(pub({"GET", "/api/v1/views"}).payload(),
            "{\"site\":\"default\",\"total\":1,\"today\":1,\"yesterday\":0,\"this_month\":1,"
            "\"articles\":{}}");
  EXPECT_EQ(pub({"GET", "/api/v1/views?s=a%22b&a=x"}).payload(),
            "{\"site\":\"a\\\"b\",\"total\":1,\"today\":1,\"yesterday\":0,\"this_month\":1,"
            "\"articles\":{\"x\":{\"total\":1,\"today\":1}}}");
}

TEST_F(ViewsTest, RejectsBadIdsAndTooManyArticles) {
  std::string hundred = "/api/v1/views?s=blog";
  for (int i = 0; i < 100; ++i)
    hundred += "&a=a" + std::to_string(i);
  struct row {
    std::string target;
    unsigned status;
    std::string prefix;
  };
  const row table[] = {
      {"/api/v1/views?s=&a=x", 400, "bad_site"},
      {"/api/v1/views?s=%G1", 400, "bad_site"},
      {"/api/v1/views?s=" + std::string(201, 's'), 400, "bad_site"},
      {"/api/v1/views?s=blog&a=%4", 400, "bad_article"},
      {"/api/v1/views?s=blog&a=", 400, "bad_article"},
      {"/api/v1/views?s=blog&a=x+y", 400, "bad_article"},
      {hundred, 200, "{"},
      {hundred + "&a=one-too-many", 400, "malformed"},
  };
  for (const row& r : table) {
    SCOPED_TRACE(r.target.substr(0, 60));
    const http_response res = pub({"GET", r.target});
    EXPECT_EQ(res.status, r.status);
    EXPECT_EQ(res.payload().substr(0, r.prefix.size()), r.prefix);
  }
}

TEST_F(ViewsTest, ARepeatedArticleIsAnsweredOnce) {
  // JSON object keys must be unique; "news%2Fa" and "news/a" are one id.
  EXPECT_EQ(pub({"GET", "/api/v1/views?s=blog&a=y&a=news%2Fa&a=y&a=news/a"}).payload(),
            "{\"site\":\"blog\",\"total\":19,\"today\":9,\"yesterday\":10,\"this_month\":9,"
            "\"articles\":{\"y\":{\"total\":2,\"today\":2},\"news/a\":{\"total\":4,\"today\":4}}}");
}

TEST(SplitTarget, PathAndQuery) {
  struct row {
    std::string target;
    std::string path;
    std::string query;
  };
  const row table[] = {
      {"/hit?a=x", "/hit", "a=x"},     {"/hit", "/hit", ""}, {"/hit?", "/hit", ""},
      {"/hit?a=x?y", "/hit", "a=x?y"}, {"", "", ""},         {"?a=x", "", "a=x"},
  };
  for (const row& r : table) {
    SCOPED_TRACE(r.target);
    std::string_view path, query;
    split_target(r.target, path, query);
    EXPECT_EQ(path, r.path);
    EXPECT_EQ(query, r.query);
  }
}

}  // namespace
}  // namespace pvc

namespace pvc {
namespace {

// A browser's preflight (OPTIONS) on a cross-origin route: 204 with what the
// page may send; routes that no page calls from elsewhere answer 405.
TEST_F(RoutesTest, CorsPreflightOnBeaconAndReadRoutes) {
  std::vector<std::string> origins{"https://baochinhphu.vn"};
  ctx_->cors_origins = [&origins](std::size_t) -> const std::vector<std::string>& {
    return origins;
  };
  auto preflight = [&](const router& r, const std::string& target, std::string origin) {
    http_request_view v;
    v.method = "OPTIONS";
    v.target = target;
    v.origin = origin;
    v.access_control_request_headers = "content-type, x-requested-with";
    http_response res;
    r.handle(v, res, shard());
    return res;
  };
  const http_response hit = preflight(*public_, "/hit", "https://evil.example");
  EXPECT_EQ(hit.status, 204u);
  EXPECT_TRUE(hit.cors);
  EXPECT_EQ(hit.cors_origin, "*");  // any page may count a view
  EXPECT_EQ(hit.preflight_methods, "GET, HEAD, POST");
  EXPECT_EQ(hit.preflight_headers, "content-type, x-requested-with");

  const http_response listed =
      preflight(*public_, "/api/v1/widget?s=blog", "https://baochinhphu.vn");
  EXPECT_EQ(listed.status, 204u);
  EXPECT_EQ(listed.cors_origin, "https://baochinhphu.vn");
  EXPECT_EQ(listed.preflight_methods, "GET, HEAD");
  const http_response other = preflight(*public_, "/api/v1/widget?s=blog", "https://evil.example");
  EXPECT_EQ(other.status, 204u);
  EXPECT_FALSE(other.cors) << "an origin not in cors_origins gets no CORS headers";
  EXPECT_TRUE(other.preflight_methods.empty());

  EXPECT_EQ(preflight(*public_, "/api/v1/views?s=blog", "https://x.example").status, 204u);
  EXPECT_EQ(preflight(*public_, "/healthz", "https://x.example").status, 405u);
  EXPECT_EQ(preflight(*admin_, "/metrics", "https://x.example").status, 405u);
  EXPECT_TRUE(drained().empty()) << "a preflight counts nothing";
}

// RFC 9112 3.2.2: a server must accept the absolute form of a target.
TEST_F(RoutesTest, AbsoluteFormTargetsAreRoutedLikeOriginForm) {
  EXPECT_EQ(pub({"GET", "http://stats.example.gov.vn/hit?s=blog&a=x"}).status, 204u);
  EXPECT_EQ(pub({"GET", "https://stats.example.gov.vn:8443/hit.gif?s=blog&a=y"}).status, 200u);
  EXPECT_EQ(pub({"GET", "http://stats.example.gov.vn/healthz"}).status, 200u);
  EXPECT_EQ(pub({"GET", "http://stats.example.gov.vn"}).status, 404u);  // path "/"
  EXPECT_EQ(pub({"GET", "http://stats.example.gov.vn?s=blog"}).status, 404u);
  const auto counts = drained();
  EXPECT_EQ(counts.at({"blog", "x"}), 1u);
  EXPECT_EQ(counts.at({"blog", "y"}), 1u);
}

}  // namespace
}  // namespace pvc
