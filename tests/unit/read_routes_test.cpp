#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "core/client_ip.hpp"
#include "flush/flusher.hpp"
#include "ingest/beacon_gates.hpp"
#include "read_side.hpp"
#include "serve/routes.hpp"
#include "test_support.hpp"

namespace pvc {
namespace {

using namespace std::chrono_literals;
using test::utc;

const char* const firefox =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

struct req {
  std::string target;
  std::string peer = "198.51.100.1";
  std::string user_agent = firefox;
  std::string origin = {};
  std::string if_none_match = {};
  std::string method = "GET";
};

// prefix + i (a helper: GCC 12 warns wrongly on "literal" + std::to_string in loops).
std::string numbered(const char* prefix, int i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

// Salts from a fixed sequence (restarted by each test), so the visitor
// counts of a test are the same on every run.
std::uint64_t salts_made = 0;
salt test_salt() {
  ++salts_made;
  return {salts_made * 0x9e3779b97f4a7c15ULL, ~salts_made * 0xbf58476d1ce4e5b9ULL};
}

// The options main.cpp sets from the configuration.
struct widget_options {
  std::vector<std::string> cors_origins{"*"};
  std::chrono::seconds online_window{300};
  std::chrono::seconds dedupe_window{0};
  std::chrono::seconds top_refresh{10};
};

// pvcd's read and beacon paths without sockets: a store in a temp dir, the
// counter table, the flusher with an injected clock, the widget with an
// injected steady clock, both listeners' routers.
class WidgetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(calendar::use_zone("Asia/Ho_Chi_Minh"), "");
    salts_made = 0;
  }

  void start(widget_options options = {}, calendar::time_point now = utc(2026, 12, 1, 5)) {
    now_ = now;
    std::string error;
    db_ = store::open(dir_.str(), store_options{.sync = false}, error);
    ASSERT_NE(db_, nullptr) << error;
    sites_ = std::make_unique<site_registry>(100);
    for (const auto& s : db_->sites())
      sites_->preload(s);
    table_ = std::make_unique<counter_table>(2, *sites_, calendar::day_of(now_));
    visitor_options vo;
    vo.online_window = options.online_window;
    vo.dedupe_window = options.dedupe_window;
    vo.make_salt = test_salt;
    widget_ = std::make_unique<test::read_side>(
        *db_, *table_, 2, vo, [this] { return steady_; }, options.top_refresh);
    ctx_ = std::make_unique<route_context>(
        route_context{widget_->reader, *table_, [] { return std::string("pvcd_up 1\n"); }});
    cors_ = options.cors_origins;
    ctx_->cors_origins = [this](std::size_t) -> const std::vector<std::string>& { return cors_; };
    ASSERT_EQ(load_bot_list("", bots_), "");
    bot_gate_ =
        std::make_unique<bot_gate>([this](std::size_t) -> const bot_list& { return bots_; });
    ASSERT_EQ(widget_->visitors.restore(*db_), "");
    ctx_->gates = {bot_gate_.get(), &widget_->visitors.gate()};
    ctx_->listeners = {&widget_->visitors.listener()};
    public_ = std::make_unique<router>(router::role::public_api, *ctx_);
    admin_ = std::make_unique<router>(router::role::admin, *ctx_);
    flusher_ = std::make_unique<flusher>(
        *table_, *db_, [](std::size_t, std::function<void()> task) { task(); },
        [this] { return now_; });
    flusher_->set_extra_writes(
        {[this](key_writes& out, day_number today) { widget_->visitors.collect(out, today); },
         [this](bool ok) { widget_->visitors.written(ok); }});
  }

  // Everything but the store directory, as a restart would.
  void stop() {
    if (flusher_) {
      ASSERT_EQ(flusher_->flush_once(), "");
    }
    flusher_.reset();
    public_.reset();
    admin_.reset();
    widget_.reset();
    ctx_.reset();
    table_.reset();
    db_.reset();
  }

  http_response call(const router& r, const req& q, std::size_t shard = 0) {
    http_response res;
    http_request_view v;
    v.method = q.method;
    v.target = q.target;
    v.peer = q.peer;
    v.user_agent = q.user_agent;
    v.origin = q.origin;
    v.if_none_match = q.if_none_match;
    r.handle(v, res, table_->shard(shard));
    return res;
  }
  http_response get(const std::string& target, std::size_t shard = 0) {
    return call(*public_, {target}, shard);
  }
  // A browser beacon from `ip`.
  unsigned hit(std::string_view site, std::string_view article, std::string ip,
               std::string ua = firefox) {
    return call(*public_, {"/hit?s=" + std::string(site) + "&a=" + std::string(article),
                           std::move(ip), std::move(ua)})
        .status;
  }
  void flush() { ASSERT_EQ(flusher_->flush_once(), ""); }
  std::string widget_json(std::string_view query, std::size_t shard = 0) {
    const http_response res = get("/api/v1/widget?" + std::string(query), shard);
    EXPECT_EQ(res.status, 200u) << res.payload();
    return std::string(res.payload());
  }
  std::uint64_t rejected(reject_reason r) {
    std::uint64_t n = 0;
    for (std::size_t s = 0; s < table_->shard_count(); ++s) {
      n +=
          table_->shard(s)
              .stats()
              .hits_rejected[static_cast<std::size_t>(transport::http)][static_cast<std::size_t>(r)]
              .get();
    }
    return n;
  }

  test::temp_dir dir_;
  calendar::time_point now_;
  std::int64_t steady_ = 50'000;
  std::unique_ptr<store> db_;
  std::unique_ptr<site_registry> sites_;
  std::unique_ptr<counter_table> table_;
  std::unique_ptr<route_context> ctx_;
  bot_list bots_;
  std::unique_ptr<bot_gate> bot_gate_;
  std::vector<std::string> cors_;
  std::unique_ptr<test::read_side> widget_;
  std::unique_ptr<router> public_;
  std::unique_ptr<router> admin_;
  std::unique_ptr<flusher> flusher_;
};

TEST_F(WidgetTest, OneSnapshotWithViewsVisitorsAndTheArticle) {
  start();
  EXPECT_EQ(hit("bcp", "a", "198.51.100.1"), 204u);
  EXPECT_EQ(hit("bcp", "a", "198.51.100.2"), 204u);
  EXPECT_EQ(hit("bcp", "b", "198.51.100.2"), 204u);
  EXPECT_EQ(hit("bcp", "b", "198.51.100.3"), 204u);
  flush();
  EXPECT_EQ(widget_json("s=bcp&a=a"),
            "{\"site\":\"bcp\",\"online\":3,\"today\":4,\"yesterday\":0,\"this_month\":4,"
            "\"total\":4,\"article\":{\"id\":\"a\",\"total\":2,\"today\":2},"
            "\"visitors\":{\"today\":3,\"yesterday\":0,\"this_month\":3}}");
  // Without a=, no article; an unknown site is all zeros.
  EXPECT_EQ(widget_json("s=bcp"),
            "{\"site\":\"bcp\",\"online\":3,\"today\":4,\"yesterday\":0,\"this_month\":4,"
            "\"total\":4,\"visitors\":{\"today\":3,\"yesterday\":0,\"this_month\":3}}");
  EXPECT_EQ(widget_json("s=nobody&a=%2Fx"),
            "{\"site\":\"nobody\",\"online\":0,\"today\":0,\"yesterday\":0,\"this_month\":0,"
            "\"total\":0,\"article\":{\"id\":\"/x\",\"total\":0,\"today\":0},"
            "\"visitors\":{\"today\":0,\"yesterday\":0,\"this_month\":0}}");
  // The same numbers on the admin listener, and the visitors route on both.
  EXPECT_EQ(call(*admin_, {"/api/v1/widget?s=bcp&a=a"}).payload(), widget_json("s=bcp&a=a"));
  for (const router* r : {public_.get(), admin_.get()}) {
    const http_response v = call(*r, {"/api/v1/visitors?s=bcp"});
    EXPECT_EQ(v.status, 200u);
    EXPECT_EQ(v.payload(),
              "{\"site\":\"bcp\",\"online\":3,\"today\":3,\"yesterday\":0,\"this_month\":3}");
  }
  // Bad requests.
  EXPECT_EQ(get("/api/v1/widget?s=bcp&s=x").status, 400u);
  EXPECT_EQ(get("/api/v1/widget?s=b%20c").status, 400u);
  EXPECT_EQ(get("/api/v1/widget?s=bcp&a=").status, 400u);
  EXPECT_EQ(call(*public_, {"/api/v1/widget?s=bcp", "1.1.1.1", firefox, "", "", "POST"}).status,
            405u);
}

TEST_F(WidgetTest, ETagAnswers304UntilTheCountsChange) {
  start();
  hit("bcp", "a", "198.51.100.1");
  flush();
  const http_response first = get("/api/v1/widget?s=bcp&a=a");
  ASSERT_EQ(first.status, 200u);
  ASSERT_FALSE(first.etag.empty());
  EXPECT_EQ(first.cache_control, "public, max-age=5");
  req again{"/api/v1/widget?s=bcp&a=a"};
  again.if_none_match = first.etag;
  const http_response same = call(*public_, again);
  EXPECT_EQ(same.status, 304u);
  EXPECT_TRUE(same.payload().empty());
  hit("bcp", "a", "198.51.100.9");
  flush();
  const http_response changed = call(*public_, again);
  EXPECT_EQ(changed.status, 200u);
  EXPECT_NE(changed.etag, first.etag);
}

TEST_F(WidgetTest, CorsForAnyOriginByDefault) {
  start();
  const http_response res =
      call(*public_, {"/api/v1/widget?s=bcp", "1.1.1.1", firefox, "https://baochinhphu.vn"});
  EXPECT_TRUE(res.cors);
  EXPECT_EQ(res.cors_origin, "*");
}

TEST_F(WidgetTest, CorsOnlyForConfiguredOrigins) {
  widget_options o;
  o.cors_origins = {"https://baochinhphu.vn", "https://chinhphu.vn"};
  start(o);
  const http_response ok =
      call(*public_, {"/api/v1/widget?s=bcp", "1.1.1.1", firefox, "https://chinhphu.vn"});
  EXPECT_TRUE(ok.cors);
  EXPECT_EQ(ok.cors_origin, "https://chinhphu.vn");
  const http_response other =
      call(*public_, {"/api/v1/widget?s=bcp", "1.1.1.1", firefox, "https://evil.example"});
  EXPECT_EQ(other.status, 200u);
  EXPECT_FALSE(other.cors);
  EXPECT_FALSE(get("/api/v1/top?s=bcp").cors);
}

TEST_F(WidgetTest, TheScriptIsServedFromTheBinary) {
  start();
  const http_response js = get("/widget.js");
  EXPECT_EQ(js.status, 200u);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js.cache_control, "public, max-age=3600");
  EXPECT_NE(js.payload().find("navigator.sendBeacon"), std::string_view::npos);
  EXPECT_NE(js.payload().find("Đang truy cập"), std::string_view::npos);
  // No cookies, no storage.
  EXPECT_EQ(js.payload().find("document.cookie"), std::string_view::npos);
  EXPECT_EQ(js.payload().find("localStorage"), std::string_view::npos);
  EXPECT_EQ(call(*admin_, {"/widget.js"}).status, 404u);  // a page never loads it from there
}

TEST_F(WidgetTest, BotsGetTheirAnswerButAreNotCounted) {
  start();
  const std::string googlebot =
      "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
  EXPECT_EQ(hit("bcp", "a", "66.249.66.1", googlebot), 204u);
  const http_response gif = call(*public_, {"/hit.gif?s=bcp&a=a", "66.249.66.1", googlebot});
  EXPECT_EQ(gif.status, 200u);
  EXPECT_EQ(gif.content_type, "image/gif");
  EXPECT_EQ(hit("bcp", "a", "198.51.100.1"), 204u);
  flush();
  EXPECT_EQ(rejected(reject_reason::bot), 2u);
  const std::string json = widget_json("s=bcp&a=a");
  EXPECT_NE(json.find("\"total\":1,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"visitors\":{\"today\":1,"), std::string::npos) << json;
}

TEST_F(WidgetTest, ReloadsWithinTheDedupeWindowCountOnce) {
  widget_options o;
  o.dedupe_window = 30min;
  start(o);
  EXPECT_EQ(hit("bcp", "a", "198.51.100.1"), 204u);
  EXPECT_EQ(hit("bcp", "a", "198.51.100.1"), 204u);  // a reload: still 204
  EXPECT_EQ(call(*public_, {"/hit.gif?s=bcp&a=a", "198.51.100.1"}).content_type, "image/gif");
  EXPECT_EQ(hit("bcp", "b", "198.51.100.1"), 204u);                            // another article
  EXPECT_EQ(hit("bcp", "a", "198.51.100.2"), 204u);                            // another visitor
  EXPECT_EQ(hit("bcp", "a", "198.51.100.1", "Mozilla/5.0 Chrome/156"), 204u);  // another browser
  steady_ += 30 * 60;
  EXPECT_EQ(hit("bcp", "a", "198.51.100.1"), 204u);  // the window has passed
  flush();
  EXPECT_EQ(rejected(reject_reason::duplicate), 2u);
  const std::string json = widget_json("s=bcp&a=a");
  EXPECT_NE(json.find("\"total\":5,\"article\":{\"id\":\"a\",\"total\":4"), std::string::npos)
      << json;
  EXPECT_EQ(widget_->visitors.dedupe_memory_bytes(), 16u << 20);
}

TEST_F(WidgetTest, DedupeIsOffByDefault) {
  start();
  for (int i = 0; i < 3; ++i)
    hit("bcp", "a", "198.51.100.1");
  flush();
  EXPECT_EQ(rejected(reject_reason::duplicate), 0u);
  EXPECT_NE(widget_json("s=bcp&a=a").find("\"total\":3,"), std::string::npos);
  EXPECT_EQ(widget_->visitors.dedupe_memory_bytes(), 0u);
}

// Views of `article` on `day`, written straight to the store.
void seed(store& db, day_number day, std::string_view site, std::string_view article,
          std::uint64_t n, std::uint64_t seq) {
  delta_table t;
  t.reset(day);
  t.add(site, article, n);
  const delta_table* tables[] = {&t};
  ASSERT_EQ(db.apply(tables, seq), "");
}

TEST_F(WidgetTest, MostViewedListsFromMemoryRefreshedInTheBackground) {
  start();
  const day_number today = table_->current_day();
  std::uint64_t seq = 100;
  // Older history: 60 articles with all-time totals 1000..1059 from a month ago.
  for (int i = 0; i < 60; ++i)
    seed(*db_, today - 40, "bcp", "old-" + std::to_string(i), 1000 + i, ++seq);
  seed(*db_, today - 3, "bcp", "this-week", 30, ++seq);
  seed(*db_, today, "bcp", "today-1", 5, ++seq);
  seed(*db_, today, "bcp", "today-2", 7, ++seq);
  sites_->admit("bcp");

  EXPECT_EQ(get("/api/v1/top?s=bcp&period=day").status, 503u);  // being computed
  widget_->tops.refresh();
  http_response day = get("/api/v1/top?s=bcp&period=day");
  ASSERT_EQ(day.status, 200u);
  EXPECT_EQ(day.payload(), "[{\"id\":\"today-2\",\"views\":7},{\"id\":\"today-1\",\"views\":5}]");
  EXPECT_EQ(get("/api/v1/top?s=bcp&period=day&n=1").payload(),
            "[{\"id\":\"today-2\",\"views\":7}]");

  for (const char* p : {"week", "month", "all"})
    get(std::string("/api/v1/top?s=bcp&period=") + p);
  widget_->tops.refresh();
  EXPECT_EQ(get("/api/v1/top?s=bcp&period=week").payload(),
            "[{\"id\":\"this-week\",\"views\":30},{\"id\":\"today-2\",\"views\":7},"
            "{\"id\":\"today-1\",\"views\":5}]");
  EXPECT_EQ(get("/api/v1/top?s=bcp&period=all&n=2").payload(),
            "[{\"id\":\"old-59\",\"views\":1059},{\"id\":\"old-58\",\"views\":1058}]");

  // old-3 was not in the all-time top 50 (1003 < 1010). Views today lift it
  // to the top: the incremental refresh (no full scan) must find it.
  seed(*db_, today, "bcp", "old-3", 100, ++seq);
  steady_ += 10;
  widget_->tops.refresh();
  EXPECT_EQ(get("/api/v1/top?s=bcp&period=all&n=2").payload(),
            "[{\"id\":\"old-3\",\"views\":1103},{\"id\":\"old-59\",\"views\":1059}]");
  // A list is not recomputed before its 10 s are up.
  seed(*db_, today, "bcp", "today-1", 1000, ++seq);
  steady_ += 5;
  widget_->tops.refresh();
  EXPECT_EQ(get("/api/v1/top?s=bcp&period=day&n=1").payload(),
            "[{\"id\":\"old-3\",\"views\":100}]");
  steady_ += 5;
  widget_->tops.refresh();
  EXPECT_EQ(get("/api/v1/top?s=bcp&period=day&n=1").payload(),
            "[{\"id\":\"today-1\",\"views\":1005}]");

  EXPECT_EQ(get("/api/v1/top?s=nobody&period=day").payload(), "[]");
  EXPECT_EQ(get("/api/v1/top?s=bcp&period=year").status, 400u);
  EXPECT_EQ(get("/api/v1/top?s=bcp&n=0").status, 400u);
  EXPECT_EQ(get("/api/v1/top?s=bcp&n=51").status, 400u);
  EXPECT_EQ(call(*admin_, {"/api/v1/top?s=bcp&period=day&n=1"}).payload(),
            "[{\"id\":\"today-1\",\"views\":1005}]");
}

// Midnight, with an injected clock: in every snapshot the figures are of one
// day, "yesterday" is exactly the day that ended, and no total decreases.
TEST_F(WidgetTest, MidnightRolloverIsAtomic) {
  // 30 November, noon in Ho Chi Minh City: the last day of a month.
  start({}, utc(2026, 11, 30, 5));
  const day_number nov30 = table_->current_day();
  for (int i = 0; i < 5; ++i)
    hit("bcp", "a", "198.51.100." + std::to_string(i % 3));
  flush();
  // 23:59:59.9: two more views of 30 November, not yet flushed.
  now_ = utc(2026, 11, 30, 16, 59, 59) + 900ms;
  hit("bcp", "a", "198.51.100.7");
  hit("bcp", "b", "198.51.100.8");
  // 00:00:00.5, before the flusher wakes: still 30 November everywhere.
  now_ = utc(2026, 11, 30, 17, 0, 0) + 500ms;
  EXPECT_EQ(widget_json("s=bcp"),
            "{\"site\":\"bcp\",\"online\":5,\"today\":5,\"yesterday\":0,\"this_month\":5,"
            "\"total\":5,\"visitors\":{\"today\":5,\"yesterday\":0,\"this_month\":5}}");
  // The flush at midnight: the day turns and the last views land in 30 November.
  flush();
  EXPECT_EQ(table_->current_day(), nov30 + 1);
  EXPECT_EQ(widget_json("s=bcp"),
            "{\"site\":\"bcp\",\"online\":5,\"today\":0,\"yesterday\":7,\"this_month\":0,"
            "\"total\":7,\"visitors\":{\"today\":0,\"yesterday\":5,\"this_month\":0}}");
  hit("bcp", "a", "198.51.100.1");
  flush();
  steady_ += 1;  // visitor counts are recomputed at most once a second
  // Online: 198.51.100.1 counts twice for a while, under November's and
  // December's month salt (once a month, for one online window).
  EXPECT_EQ(widget_json("s=bcp"),
            "{\"site\":\"bcp\",\"online\":6,\"today\":1,\"yesterday\":7,\"this_month\":1,"
            "\"total\":8,\"visitors\":{\"today\":1,\"yesterday\":5,\"this_month\":1}}");
}

TEST_F(WidgetTest, ReadersRacingMidnightNeverSeeATotalDecrease) {
  start({}, utc(2026, 11, 30, 16, 59, 0));  // 23:59 local
  std::atomic<bool> done{false};
  std::atomic<int> snapshots{0};
  std::string failure;
  // Reads on shard 1 (its own I/O thread), beacons and flushes on shard 0.
  std::thread reader([&] {
    std::uint64_t last_total = 0;
    while (!done.load()) {
      http_response res;
      http_request_view v;
      v.method = "GET";
      v.target = "/api/v1/widget?s=bcp";
      public_->handle(v, res, table_->shard(1));
      const std::string body(res.payload());
      std::uint64_t total = 0, today = 0, yesterday = 0;
      if (std::sscanf(body.c_str() + body.find("\"today\""), "\"today\":%lu,\"yesterday\":%lu",
                      &today, &yesterday) != 2 ||
          std::sscanf(body.c_str() + body.find("\"total\""), "\"total\":%lu", &total) != 1) {
        failure = "unreadable: " + body;
        return;
      }
      // Every view is of 30 November or 1 December: one of the two days holds it.
      if (total < last_total || today + yesterday != total) {
        failure = "inconsistent after total " + std::to_string(last_total) + ": " + body;
        return;
      }
      last_total = total;
      snapshots.fetch_add(1);
    }
  });
  for (int step = 0; step < 120; ++step) {
    now_ += 1s;  // crosses local midnight at step 60
    for (int i = 0; i < 5; ++i)
      hit("bcp", numbered("a", i), numbered("10.0.0.", step));
    flush();
  }
  done = true;
  reader.join();
  EXPECT_EQ(failure, "");
  EXPECT_GT(snapshots.load(), 10);
  EXPECT_NE(widget_json("s=bcp").find("\"total\":600,"), std::string::npos);
}

TEST_F(WidgetTest, ARestartKeepsVisitorsAndDoesNotCountThemAgain) {
  start();
  for (int i = 0; i < 20; ++i)
    hit("bcp", "a", "203.0.113." + std::to_string(i));
  flush();
  stop();
  start();
  for (int i = 0; i < 20; ++i)
    hit("bcp", "a", "203.0.113." + std::to_string(i));  // the same people, after the restart
  hit("bcp", "a", "203.0.113.99");
  flush();
  const std::string json = widget_json("s=bcp");
  EXPECT_NE(json.find("\"total\":41,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"visitors\":{\"today\":21,\"yesterday\":0,\"this_month\":21}"),
            std::string::npos)
      << json;
}

TEST_F(WidgetTest, ClientAddressesComeFromTrustedProxiesOnly) {
  start();
  // pvcd behind a local nginx: X-Forwarded-For is believed from 127.0.0.1 only.
  trusted_proxies proxies;
  ASSERT_EQ(trusted_proxies::parse({"127.0.0.1/32"}, proxies), "");
  ctx_->client_ip = [&proxies](const http_request_view& r, std::size_t, std::string& scratch) {
    return proxies.client(r.peer, r.x_forwarded_for, r.forwarded, scratch);
  };
  auto beacon = [&](std::string peer, std::string xff) {
    http_response res;
    http_request_view v;
    v.method = "GET";
    v.target = "/hit?s=bcp&a=a";
    v.peer = peer;
    v.user_agent = firefox;
    v.x_forwarded_for = xff;
    public_->handle(v, res, table_->shard(0));
    EXPECT_EQ(res.status, 204u);
  };
  // Three real visitors through the proxy...
  beacon("127.0.0.1", "198.51.100.1");
  beacon("127.0.0.1", "198.51.100.2");
  beacon("127.0.0.1", "198.51.100.3");
  // ...and one client straight to pvcd, claiming ten different addresses.
  for (int i = 0; i < 10; ++i)
    beacon("203.0.113.50", "198.51.100." + std::to_string(100 + i));
  flush();
  EXPECT_NE(widget_json("s=bcp").find("\"visitors\":{\"today\":4,"), std::string::npos);
}

}  // namespace
}  // namespace pvc
