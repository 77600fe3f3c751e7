// The admin API's routes in-process, with peers and headers a real socket
// cannot easily fake: who may change counts (token, loopback), and the
// import protocol's refusals.
#include "admin/admin_api.hpp"
#include "stored_views.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "flush/flusher.hpp"
#include "read_side.hpp"
#include "serve/routes.hpp"
#include "store/store_audit.hpp"
#include "test_support.hpp"

namespace pvc {
namespace {

const day_number nov5 = from_civil({2026, 11, 5});
const std::string token = "s3cret-admin-token-0123456789";

struct request {
  std::string method;
  std::string target;
  std::string peer = "127.0.0.1";
  std::string authorization = {};
  std::string body = {};
};

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    db_ = store::open(dir_.str(), store_options{.sync = false}, error);
    ASSERT_NE(db_, nullptr) << error;
    table_ = std::make_unique<counter_table>(1, sites_, nov5);
    flush_ = std::make_unique<flusher>(
        *table_, *db_, [](std::size_t, std::function<void()> task) { task(); },
        [] { return std::chrono::system_clock::now(); });
    reads_ = std::make_unique<test::read_side>(*db_, *table_);
    api_ =
        std::make_unique<admin_api>(*db_, reads_->reader, *table_, *flush_,
                                    [this](std::size_t) -> const std::string& { return token_; });
    ctx_ = std::make_unique<route_context>(
        route_context{reads_->reader, *table_, [] { return std::string("pvcd_up 1\n"); }});
    ctx_->admin = api_.get();
    admin_ = std::make_unique<router>(router::role::admin, *ctx_);
  }

  http_response call(const request& r) {
    http_request_view v;
    v.method = r.method;
    v.target = r.target;
    v.content_type = "text/csv";
    v.body = r.body;
    v.peer = r.peer;
    v.authorization = r.authorization;
    http_response res;
    admin_->handle(v, res, table_->shard(0));
    return res;
  }

  // The value of "key":"..." in a JSON answer.
  static std::string field(const std::string& json, const std::string& key) {
    const std::string marker = "\"" + key + "\":\"";
    const auto at = json.find(marker);
    if (at == std::string::npos) return {};
    const auto start = at + marker.size();
    return json.substr(start, json.find('"', start) - start);
  }

  std::string wait_job(const std::string& id) {
    for (int i = 0; i < 500; ++i) {
      const http_response r = call({"GET", "/admin/v1/jobs?id=" + id});
      const std::string state = field(r.body, "state");
      if (state == "done" || state == "failed") return r.body;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return "timed out";
  }

  test::temp_dir dir_;
  std::unique_ptr<store> db_;
  site_registry sites_{100};
  std::unique_ptr<counter_table> table_;
  std::unique_ptr<flusher> flush_;
  std::string token_;
  std::unique_ptr<test::read_side> reads_;
  std::unique_ptr<admin_api> api_;
  std::unique_ptr<route_context> ctx_;
  std::unique_ptr<router> admin_;
};

const char* const mutating[] = {
    "/admin/v1/hit?s=news&a=x",
    "/admin/v1/adjust?s=news&a=x&delta=5&reason=r",
    "/admin/v1/rename?s=news&from=x&to=y",
    "/admin/v1/merge?s=news&from=x&into=y",
    "/admin/v1/import/start?mode=add",
    "/admin/v1/import/chunk?id=x&line=1",
    "/admin/v1/import/commit?id=x",
    "/admin/v1/import/abort?id=x",
    "/admin/v1/backup?dir=relative",  // a 400 once authorized: nothing is written
};

TEST_F(AdminApiTest, WithoutATokenChangesComeFromLoopbackOnly) {
  for (const char* target : mutating) {
    SCOPED_TRACE(target);
    for (const char* peer : {"10.0.0.5", "192.168.1.20", "::ffff:10.0.0.5", "2001:db8::1"}) {
      const http_response r = call({"POST", target, peer, "Bearer " + token});
      EXPECT_EQ(r.status, 403u) << peer;
      EXPECT_EQ(r.body,
                "forbidden: no admin token is configured (admin_token_file), so changes are "
                "accepted from loopback only\n");
    }
  }
  // Reads stay open; a hit from loopback counts, one from elsewhere did not.
  EXPECT_EQ(call({"GET", "/admin/v1/top?s=news", "10.0.0.5"}).status, 200u);
  EXPECT_EQ(call({"GET", "/admin/v1/stats", "10.0.0.5"}).status, 200u);
  EXPECT_EQ(call({"POST", "/admin/v1/hit?s=news&a=x&n=3", "::1"}).status, 204u);
  EXPECT_EQ(
      table_->shard(0).stats().views_accepted[static_cast<std::size_t>(transport::admin)].get(),
      3u);
}

TEST_F(AdminApiTest, WithATokenEveryCallerNeedsIt) {
  token_ = token;
  for (const char* target : mutating) {
    SCOPED_TRACE(target);
    for (const char* peer : {"127.0.0.1", "10.0.0.5"}) {
      const http_response none = call({"POST", target, peer});
      EXPECT_EQ(none.status, 401u);
      EXPECT_EQ(none.body, "unauthorized: this route needs Authorization: Bearer <admin token>\n");
      for (const std::string& wrong : {std::string("Bearer wrong"), "Bearer " + token + "x",
                                       "Bearer " + token.substr(0, 20), "Basic " + token}) {
        const http_response r = call({"POST", target, peer, wrong});
        EXPECT_EQ(r.status, 401u) << wrong;
        EXPECT_EQ(r.body.find(token), std::string::npos);
      }
      EXPECT_NE(call({"POST", target, peer, "Bearer " + token}).status, 401u);
    }
  }
  EXPECT_EQ(call({"POST", "/admin/v1/hit?s=news&a=x&n=2", "10.0.0.5", "bearer " + token}).status,
            204u);
}

TEST_F(AdminApiTest, AdjustChecksItsFields) {
  struct row {
    std::string target;
    unsigned status;
    std::string body;
  };
  const row table[] = {
      {"/admin/v1/adjust?s=news&a=x&delta=5", 400,
       "bad_request: reason= is required for an adjust\n"},
      {"/admin/v1/adjust?s=news&a=x&delta=0&reason=r", 400,
       "bad_request: delta must be a non-zero whole number, e.g. 250 or -40\n"},
      {"/admin/v1/adjust?s=news&a=x&delta=5x&reason=r", 400,
       "bad_request: delta must be a non-zero whole number, e.g. 250 or -40\n"},
      {"/admin/v1/adjust?s=news&a=x&delta=%2B-5&reason=r", 400,
       "bad_request: delta must be a non-zero whole number, e.g. 250 or -40\n"},
      {"/admin/v1/adjust?s=news&a=x&delta=5&reason=r&day=20261131", 400,
       "bad_request: day must be a date YYYYMMDD\n"},
      {"/admin/v1/adjust?s=news&a=x&delta=5&reason=r&reason=s", 400,
       "bad_request: reason= is given twice\n"},
      {"/admin/v1/adjust?s=news&a=x&delta=5&reason=a%0Ab", 400,
       "bad_request: reason: text holds a control character\n"},
      {"/admin/v1/adjust?a=x&delta=5&reason=r", 400, "bad_request: s= is required\n"},
      {"/admin/v1/adjust?s=news&a=two%20words&delta=5&reason=r", 400,
       "bad_request: a is not a valid id (1-200 bytes of UTF-8, no space or control character)\n"},
      {"/admin/v1/adjust?s=news&a=Gi%E1%BB&delta=5&reason=r", 400,
       "bad_request: a is not a valid id (1-200 bytes of UTF-8, no space or control character)\n"},
      {"/admin/v1/adjust?s=news&a=x&delta=-1&reason=r", 400,
       "refused: article_total is 0; subtracting 1 would make it negative\n"},
      {"/admin/v1/rename?s=news&from=x&to=y", 404, "x has no counts on site news\n"},
  };
  for (const auto& r : table) {
    SCOPED_TRACE(r.target);
    const http_response res = call({"POST", r.target});
    EXPECT_EQ(res.status, r.status);
    EXPECT_EQ(res.body, r.body);
  }
  const http_response ok = call({"POST", "/admin/v1/adjust?s=news&a=x&delta=%2B5&reason=r&by=me"});
  EXPECT_EQ(ok.status, 200u) << ok.body;
  EXPECT_EQ(ok.content_type, "application/json");
  std::vector<std::string> records;
  std::string next;
  ASSERT_EQ(read_audit(*db_, 0, "", 10, records, next), "");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_NE(records[0].find(
                "\"by\":\"me\",\"peer\":\"127.0.0.1\",\"auth\":\"loopback\",\"reason\":\"r\""),
            std::string::npos)
      << records[0];
}

// What a caller types comes back as the same text, in valid JSON, both in
// the answer and in the stored record.
TEST_F(AdminApiTest, HostileTextInReasonAndByIsValidJson) {
  const std::string hostile = "say \"hi\" \\ Gi\xe1\xbb\x9bi thi\xe1\xbb\x87u";
  const std::string encoded = "say%20%22hi%22%20%5C%20Gi%E1%BB%9Bi%20thi%E1%BB%87u";
  const http_response ok =
      call({"POST", "/admin/v1/adjust?s=news&a=x&delta=5&reason=" + encoded + "&by=" + encoded});
  ASSERT_EQ(ok.status, 200u) << ok.body;
  const boost::json::value answer = boost::json::parse(ok.body);
  EXPECT_EQ(answer.at("action"), "adjust");
  EXPECT_TRUE(answer.at("details").is_object()) << ok.body;
  std::vector<std::string> records;
  std::string next;
  ASSERT_EQ(read_audit(*db_, 0, "", 10, records, next), "");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].find('\n'), std::string::npos);
  const boost::json::value record = boost::json::parse(records[0]);
  EXPECT_EQ(record.at("reason").as_string(), hostile);
  EXPECT_EQ(record.at("by").as_string(), hostile);
  EXPECT_TRUE(record.at("details").is_object());
  const http_response audit = call({"GET", "/admin/v1/audit"});
  ASSERT_EQ(audit.status, 200u);
  EXPECT_EQ(boost::json::parse(audit.body).at("records").at(0), record);

  // Control bytes cannot come through a form field, but a record holds them too.
  audit_entry e{"adjust", {"a\tb\x01\"", "127.0.0.1", "loopback"}, "line\nbreak\\", "{\"n\":1}"};
  const std::string text = format_audit_record(e, 1'793'872'800'123'456);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_EQ(text.rfind("{\"time\":\"2026-11-05T10:00:00.123456Z\",\"unix_us\":1793872800123456,"
                       "\"action\":\"adjust\",\"by\":",
                       0),
            0u)
      << text;
  const boost::json::value parsed = boost::json::parse(text);
  EXPECT_EQ(parsed.at("by").as_string(), e.caller.by);
  EXPECT_EQ(parsed.at("reason").as_string(), e.reason);
  EXPECT_EQ(parsed.at("details").at("n"), 1);
}

TEST_F(AdminApiTest, ImportSessionsRefuseWhatDoesNotFollowTheProtocol) {
  EXPECT_EQ(call({"POST", "/admin/v1/import/start?mode=merge"}).status, 400u);
  const http_response started = call({"POST", "/admin/v1/import/start?mode=set"});
  ASSERT_EQ(started.status, 200u) << started.body;
  const std::string id = field(started.body, "import");
  ASSERT_EQ(id.size(), 16u);
  // One import at a time.
  EXPECT_EQ(call({"POST", "/admin/v1/import/start?mode=add"}).status, 409u);
  EXPECT_EQ(
      call({"POST", "/admin/v1/import/chunk?id=nope&line=1", "127.0.0.1", {}, "a,b,1\n"}).status,
      404u);
  // Chunks come in file order.
  const http_response gap =
      call({"POST", "/admin/v1/import/chunk?id=" + id + "&line=3", "127.0.0.1", {}, "a,b,1\n"});
  EXPECT_EQ(gap.status, 409u);
  EXPECT_EQ(gap.body, "expected the chunk starting at line 1\n");
  const http_response first = call({"POST",
                                    "/admin/v1/import/chunk?id=" + id + "&line=1",
                                    "127.0.0.1",
                                    {},
                                    "site,article,total\nnews,*,100\nnews,a,7\n"});
  ASSERT_EQ(first.status, 200u) << first.body;
  EXPECT_EQ(first.body, "{\"rows\":2,\"next_line\":4}\n");
  // A bad line names its line in the file and ends the import.
  const http_response bad = call({"POST",
                                  "/admin/v1/import/chunk?id=" + id + "&line=4",
                                  "127.0.0.1",
                                  {},
                                  "news,b,1\nnews,c,x\n"});
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.body, "import refused, nothing was changed: line 5: total is not a whole number\n");
  EXPECT_EQ(call({"POST", "/admin/v1/import/commit?id=" + id}).status, 404u);
  EXPECT_EQ(reads_->reader.top("news", top_period::all, 10).articles.size(), 0u);

  // A fresh one goes through, as a job.
  const std::string id2 = field(call({"POST", "/admin/v1/import/start?mode=set"}).body, "import");
  ASSERT_EQ(call({"POST",
                  "/admin/v1/import/chunk?id=" + id2 + "&line=1",
                  "127.0.0.1",
                  {},
                  "news,*,100\nnews,a,7"})
                .status,
            200u);
  const http_response commit = call({"POST", "/admin/v1/import/commit?id=" + id2 + "&reason=r"});
  ASSERT_EQ(commit.status, 202u) << commit.body;
  const std::string job = wait_job(field(commit.body, "job"));
  EXPECT_EQ(field(job, "state"), "done") << job;
  EXPECT_NE(job.find("\"rows\":2"), std::string::npos) << job;
  const views_snapshot v =
      test::stored_views(*db_, "news", std::vector<std::string_view>{"a"}, nov5);
  EXPECT_EQ(v.site.total, 100u);
  EXPECT_EQ(v.articles.at(0).total, 7u);
  EXPECT_TRUE(sites_.contains("news"));
  // An empty file is refused, not committed.
  const std::string id3 = field(call({"POST", "/admin/v1/import/start?mode=add"}).body, "import");
  const http_response empty = call({"POST", "/admin/v1/import/commit?id=" + id3});
  EXPECT_EQ(empty.status, 400u);
  EXPECT_EQ(empty.body, "import refused, nothing was changed: the file holds no rows\n");
}

TEST_F(AdminApiTest, ExportAndJobsRefuseUnknownHandles) {
  EXPECT_EQ(call({"GET", "/admin/v1/export?cursor=zz"}).status, 400u);
  EXPECT_EQ(call({"GET", "/admin/v1/export?cursor=abc.00"}).status, 404u);
  EXPECT_EQ(call({"GET", "/admin/v1/export?daily=2"}).status, 400u);
  EXPECT_EQ(call({"GET", "/admin/v1/export?limit=0"}).status, 400u);
  EXPECT_EQ(call({"GET", "/admin/v1/jobs?id=j999"}).status, 404u);
  EXPECT_EQ(call({"GET", "/admin/v1/top?period=year"}).status, 400u);
  EXPECT_EQ(call({"GET", "/admin/v1/top?n=1001"}).status, 400u);
  EXPECT_EQ(call({"POST", "/admin/v1/backup?dir=relative"}).status, 400u);
  const http_response inside = call({"POST", "/admin/v1/backup?dir=" + dir_.str() + "/sub"});
  EXPECT_EQ(inside.status, 400u);
  EXPECT_EQ(inside.body, "bad_request: dir= is inside the data dir; back up elsewhere\n");
  EXPECT_EQ(call({"GET", "/admin/v1/adjust"}).status, 405u);
}

TEST_F(AdminApiTest, AtMostFourExportsAreOpenAtOnce) {
  // Each open export holds a RocksDB snapshot until it ends or idles out.
  delta_table t;
  t.reset(nov5);
  for (const char* a : {"a", "b", "c"})
    t.add("news", a, 1);
  const std::vector<const delta_table*> tables = {&t};
  ASSERT_EQ(db_->apply(tables, 1), "");
  std::vector<std::string> cursors;
  for (int i = 0; i < 4; ++i) {
    const http_response r = call({"GET", "/admin/v1/export?limit=1"});
    ASSERT_EQ(r.status, 200u) << r.body;
    cursors.push_back(field(r.body, "cursor"));
    ASSERT_FALSE(cursors.back().empty()) << r.body;  // more rows: the export stays open
  }
  const http_response fifth = call({"GET", "/admin/v1/export?limit=1"});
  EXPECT_EQ(fifth.status, 503u);
  EXPECT_EQ(fifth.body, "too many exports in progress; try again in a minute\n");
  // Reading one to its end closes it, and a new one may start.
  std::string cursor = cursors[0];
  for (int page = 0; !cursor.empty() && page < 10; ++page) {
    const http_response r = call({"GET", "/admin/v1/export?limit=1&cursor=" + cursor});
    ASSERT_EQ(r.status, 200u) << r.body;
    cursor = field(r.body, "cursor");
  }
  EXPECT_TRUE(cursor.empty());
  EXPECT_EQ(call({"GET", "/admin/v1/export?limit=1"}).status, 200u);
}

TEST_F(AdminApiTest, IdleExportsAndImportsAreDropped) {
  // The worker drops idle sessions once a second; the limits are shortened.
  api_->set_idle_limits(std::chrono::milliseconds(200), std::chrono::milliseconds(200));
  delta_table t;
  t.reset(nov5);
  for (const char* a : {"a", "b"})
    t.add("news", a, 1);
  const std::vector<const delta_table*> tables = {&t};
  ASSERT_EQ(db_->apply(tables, 1), "");
  const std::string cursor = field(call({"GET", "/admin/v1/export?limit=1"}).body, "cursor");
  ASSERT_FALSE(cursor.empty());
  const std::string import =
      field(call({"POST", "/admin/v1/import/start?mode=add"}).body, "import");
  ASSERT_EQ(import.size(), 16u);
  // Left alone for longer than the limit and a worker round.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const http_response page = call({"GET", "/admin/v1/export?limit=1&cursor=" + cursor});
  EXPECT_EQ(page.status, 404u);
  EXPECT_EQ(page.body, "export expired (idle for over a minute); start it again\n");
  const http_response chunk = call(
      {"POST", "/admin/v1/import/chunk?id=" + import + "&line=1", "127.0.0.1", {}, "news,a,1\n"});
  EXPECT_EQ(chunk.status, 404u);
  // A new import may start at once: the dropped one no longer holds the slot.
  EXPECT_EQ(call({"POST", "/admin/v1/import/start?mode=add"}).status, 200u);
}

}  // namespace
}  // namespace pvc
