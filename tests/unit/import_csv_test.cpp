#include "core/import_csv.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_support.hpp"

namespace pvc {
namespace {

using test::printable;

struct expected_row {
  std::string site;
  std::string article;  // "" = the site's own counter
  std::uint64_t count;
  import_period period = import_period::all_time;
  std::string period_key = {};
};

TEST(ParseImportLine, MustAccept) {
  struct row {
    std::string line;
    expected_row want;
  };
  const std::string id200(200, 'a');
  const row table[] = {
      {"news,/2026/11/a,5", {"news", "/2026/11/a", 5}},
      {"news,*,86037575", {"news", "", 86037575}},  // the site's own total
      {"news,\"*\",7", {"news", "*", 7}},           // an article literally named *
      {"news,a,0", {"news", "a", 0}},               // zero is a count
      {"news,a,007", {"news", "a", 7}},             // leading zeros
      {"news,a,9007199254740991", {"news", "a", 9007199254740991ULL}},  // 2^53-1
      {"news,a,5\r", {"news", "a", 5}},                                 // CRLF files
      {"news,\"a,b\",5", {"news", "a,b", 5}},                           // quoted comma
      {"news,\"say\"\"hi\"\"\",5", {"news", "say\"hi\"", 5}},           // doubled quotes
      {"\"news\",\"a\",\"5\"", {"news", "a", 5}},                       // everything quoted
      {"n,*,5,20261105", {"n", "", 5, import_period::day, "20261105"}},
      {"n,a,5,20261105", {"n", "a", 5, import_period::day, "20261105"}},
      {"n,*,5,202611", {"n", "", 5, import_period::month, "202611"}},
      {"n,a,5,20240229", {"n", "a", 5, import_period::day, "20240229"}},  // leap day
      {"n,a,5,19700101", {"n", "a", 5, import_period::day, "19700101"}},
      {id200 + "," + id200 + ",1", {id200, id200, 1}},     // longest ids
      {"~!@#$%^&,a%2Fb+c,1", {"~!@#$%^&", "a%2Fb+c", 1}},  // stored as is, no %-decoding
      {"site,article,5", {"site", "article", 5}},  // names that look like a header, with a count
      {"soctrang.gov.vn,/tin-tức/bài-1,12", {"soctrang.gov.vn", "/tin-tức/bài-1", 12}},
      {"sóc-trăng,\"Giới,thiệu\",3", {"sóc-trăng", "Giới,thiệu", 3}},
      {"news,Gio\xCC\x9B\xCC\x81i,4", {"news", "Gio\xCC\x9B\xCC\x81i", 4}},  // combining marks
      {"news,\xF0\x9F\x98\x80,1", {"news", "\xF0\x9F\x98\x80", 1}},
      {"news,tin-t%E1%BB%A9c,1", {"news", "tin-t%E1%BB%A9c", 1}},  // no %-decoding in files
  };
  for (const auto& r : table) {
    SCOPED_TRACE(printable(r.line));
    import_scratch scratch;
    const import_line_result got = parse_import_line(r.line, scratch);
    ASSERT_EQ(got.kind, import_line_kind::row) << got.reason;
    EXPECT_EQ(got.row.site, r.want.site);
    EXPECT_EQ(got.row.article, r.want.article);
    EXPECT_EQ(got.row.site_counter(), r.want.article.empty());
    EXPECT_EQ(got.row.count, r.want.count);
    EXPECT_EQ(got.row.period, r.want.period);
    EXPECT_EQ(got.row.period_key, r.want.period_key);
  }
}

TEST(ParseImportLine, MustReject) {
  struct row {
    std::string line;
    std::string reason;
  };
  const std::string id201(201, 'a');
  const row table[] = {
      {"news,a", "too few fields: expected site,article,total[,period]"},
      {"news", "too few fields: expected site,article,total[,period]"},
      {"news,a,5,20261105,x,y", "too many fields: expected site,article,total[,period[,title]]"},
      {"news,a,5,20261105,Tin",
       "a title goes on an article's all-time row (site,article,total,,title)"},
      {"news,*,5,,Tin", "a title goes on an article's all-time row (site,article,total,,title)"},
      {"news,a,5,,\"" + std::string(201, 'x') + "\"", "title is longer than 200 bytes"},
      {"news,a,5,,Gi\xE1\xBB", "title is not UTF-8"},
      {"news,a,5,,a\x7F", "title holds a control character"},
      {"news,a,5,", "period must be YYYYMMDD (a day) or YYYYMM (a month)"},  // trailing comma
      {",a,5", "site is empty"},
      {"news,,5", "article is empty"},
      {"news,\"\",5", "article is empty"},
      {id201 + ",a,5", "site is longer than 200 bytes"},
      {"news," + id201 + ",5", "article is longer than 200 bytes"},
      {"news,\"" + std::string(402, '"') + "\",5", "article is longer than 200 bytes"},  // 201 "
      {"news,a b,5", "article has a space or a control character"},
      {"new s,a,5", "site has a space or a control character"},
      {"news,\"Giới thiệu\",5", "article has a space or a control character"},
      {"news,caf\xc3,5", "article is not valid UTF-8"},
      {"news,Gi\xE1\xBBi,5", "article is not valid UTF-8"},               // truncated mid-string
      {"news,\xED\xA0\x80,5", "article is not valid UTF-8"},              // a surrogate
      {"s\xC0\xAF,a,5", "site is not valid UTF-8"},                       // an overlong '/'
      {"news,\xC2\x85,5", "article has a space or a control character"},  // C1
      {"news," + std::string(198, 'a') + "\xE1\xBB\x9B,5", "article is longer than 200 bytes"},
      {std::string("news,a\0b,5", 10), "article has a space or a control character"},
      {"news,a,", "total is not a whole number"},
      {"news,a,-5", "total is not a whole number"},
      {"news,a,+5", "total is not a whole number"},
      {"news,a,5.0", "total is not a whole number"},
      {"news,a, 5", "total is not a whole number"},
      {"news,a,1e6", "total is not a whole number"},
      {"news,a,9007199254740992", "total is larger than 9007199254740991"},
      {"news,a,99999999999999999999999", "total is larger than 9007199254740991"},
      {"news,a\"b,5",
       "a quote inside an unquoted field (quote the whole field and double the quote)"},
      {"news,\"ab,5", "a quoted field has no closing quote"},
      {"news,\"a\"b,5", "text after a closing quote"},
      {"news,a,5,2026110", "period must be YYYYMMDD (a day) or YYYYMM (a month)"},
      {"news,a,5,2026-11-05", "period must be YYYYMMDD (a day) or YYYYMM (a month)"},
      {"news,a,5,20261131", "period is not a date from 1970 on"},
      {"news,a,5,20230229", "period is not a date from 1970 on"},  // not a leap year
      {"news,a,5,20261300", "period is not a date from 1970 on"},
      {"news,a,5,19691231", "period is not a date from 1970 on"},
      {"news,*,5,202613", "period is not a date from 1970 on"},
      {"news,a,5,202611", "month counts are kept per site only: the article must be *"},
      {"site,article,total", "total is not a whole number"},  // a header is only allowed on line 1
  };
  for (const auto& r : table) {
    SCOPED_TRACE(printable(r.line));
    import_scratch scratch;
    const import_line_result got = parse_import_line(r.line, scratch);
    EXPECT_EQ(got.kind, import_line_kind::error);
    EXPECT_EQ(got.reason, r.reason);
  }
}

TEST(ParseImportLine, SkipsEmptyLinesAndAHeaderOnLineOneOnly) {
  import_scratch scratch;
  EXPECT_EQ(parse_import_line("", scratch).kind, import_line_kind::skip);
  EXPECT_EQ(parse_import_line("\r", scratch).kind, import_line_kind::skip);
  for (std::string header : {"site,article,total", "Site,Article,Total\r", "site,article,count",
                             "site,article,total,period", "SITE,ARTICLE,TOTAL,DAY"}) {
    SCOPED_TRACE(header);
    EXPECT_EQ(parse_import_line(header, scratch, true).kind, import_line_kind::skip);
    EXPECT_EQ(parse_import_line(header, scratch, false).kind, import_line_kind::error);
  }
  // A real row on line 1 is a row.
  EXPECT_EQ(parse_import_line("site,article,5", scratch, true).kind, import_line_kind::row);
  EXPECT_EQ(parse_import_line("site,article,total,x", scratch, true).kind, import_line_kind::error);
}

TEST(AppendImportLine, ReadsBackToTheSameRow) {
  const std::vector<import_row> rows = {
      {"news", "/2026/11/a", 5, import_period::all_time, {}},
      {"news", "", 86037575, import_period::all_time, {}},
      {"news", "*", 7, import_period::all_time, {}},  // literal *: must not read as the site
      {"news", "a,b", 1, import_period::all_time, {}},
      {"news", "say\"hi\"", 2, import_period::all_time, {}},
      {"a,\"b\"", "\"", 3, import_period::all_time, {}},
      {"news", "a", 4, import_period::day, "20261105"},
      {"news", "", 9007199254740991ULL, import_period::month, "202611"},
      {"*", "x", 0, import_period::all_time, {}},
  };
  for (const import_row& r : rows) {
    std::string line;
    append_import_line(line, r);
    SCOPED_TRACE(printable(line));
    ASSERT_FALSE(line.empty());
    ASSERT_EQ(line.back(), '\n');
    line.pop_back();
    import_scratch scratch;
    const import_line_result got = parse_import_line(line, scratch);
    ASSERT_EQ(got.kind, import_line_kind::row) << got.reason;
    EXPECT_EQ(got.row.site, r.site);
    EXPECT_EQ(got.row.article, r.article);
    EXPECT_EQ(got.row.count, r.count);
    EXPECT_EQ(got.row.period, r.period);
    EXPECT_EQ(got.row.period_key, r.period_key);
  }
  std::string plain;
  append_import_line(plain, {"news", "a", 5, import_period::all_time, {}});
  EXPECT_EQ(plain, "news,a,5\n");  // nothing quoted that need not be
  std::string site;
  append_import_line(site, {"news", "", 5, import_period::day, "20261105"});
  EXPECT_EQ(site, "news,*,5,20261105\n");
  std::string star;
  append_import_line(star, {"news", "*", 5, import_period::all_time, {}});
  EXPECT_EQ(star, "news,\"*\",5\n");
}

TEST(ParseImportLine, TitlesRoundTrip) {
  for (const std::string title : {"Giới thiệu chung về tỉnh Sóc Trăng", "Tin \"nóng\", mới",
                                  "<img src=x onerror=alert(1)>"}) {
    SCOPED_TRACE(title);
    const import_row row{
        "soctrang.gov.vn", "/tin-tuc/bai-1", 12, import_period::all_time, {}, title};
    std::string line;
    append_import_line(line, row);
    line.pop_back();
    import_scratch scratch;
    const import_line_result got = parse_import_line(line, scratch);
    ASSERT_EQ(got.kind, import_line_kind::row) << got.reason;
    EXPECT_EQ(got.row.title, title);
    EXPECT_EQ(got.row.count, 12u);
    EXPECT_EQ(got.row.period, import_period::all_time);
  }
  // An empty title field is no title; a file without the field reads as before.
  import_scratch scratch;
  EXPECT_EQ(parse_import_line("news,a,5,,", scratch).row.title, "");
  EXPECT_EQ(parse_import_line("news,a,5", scratch).row.title, "");
  EXPECT_EQ(parse_import_line("site,article,total,period,title", scratch, true).kind,
            import_line_kind::skip);
}

TEST(ImportHeader, IsSkippedOnLineOne) {
  for (bool daily : {false, true}) {
    std::string h(import_header(daily));
    ASSERT_EQ(h.back(), '\n');
    h.pop_back();
    import_scratch scratch;
    EXPECT_EQ(parse_import_line(h, scratch, true).kind, import_line_kind::skip);
  }
}

}  // namespace
}  // namespace pvc
