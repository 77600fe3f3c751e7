#include "core/hit_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace pvc {
namespace {

using test::printable;

std::string repeat(std::string_view piece, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i)
    out += piece;
  return out;
}

// ---- HTTP ------------------------------------------------------------------

TEST(ParseHttpHit, MustAccept) {
  struct row {
    std::string query;
    std::string body;
    std::string site;
    std::string article;
  };
  const row table[] = {
      {"a=x", "", "default", "x"},  // s defaults to "default"
      {"s=blog&a=post-1", "", "blog", "post-1"},
      {"a=post-1&s=blog", "", "blog", "post-1"},
      {"s=blog&a=news%2Fa", "", "blog", "news/a"},
      {"s=my%2Bsite&a=x", "", "my+site", "x"},
      {"s=blog&a=x&_=1712345678", "", "blog", "x"},  // cache buster ignored
      {"a=x&&s=blog&", "", "blog", "x"},             // empty segments skipped
      {"a=x&ss=blog", "", "default", "x"},           // "ss" is not "s"
      {"flag&a=x", "", "default", "x"},              // unknown field without '='
      {"", "s=blog&a=x", "blog", "x"},               // sendBeacon body only
      {"s=blog", "a=x", "blog", "x"},                // split across query and body
      {"a=" + repeat("a", 200), "", "default", repeat("a", 200)},
      {"a=" + repeat("%41", 200), "", "default", repeat("A", 200)},
      {"s=" + repeat("s", 200) + "&a=x", "", repeat("s", 200), "x"},
      {"a=!~", "", "default", "!~"},
      // UTF-8, raw or %-encoded (what encodeURIComponent sends)
      {"a=caf\xC3\xA9", "", "default", "caf\xC3\xA9"},
      {"a=caf%C3%A9", "", "default", "caf\xC3\xA9"},
      {"s=soctrang.gov.vn&a=%2Ftin-t%E1%BB%A9c%2Fbai-1", "", "soctrang.gov.vn", "/tin-tức/bai-1"},
      {"", "s=s%C3%B3c-tr%C4%83ng&a=Gi%E1%BB%9Bi-thi%E1%BB%87u", "sóc-trăng", "Giới-thiệu"},
      {"s=báo-chính-phủ&a=/tin-tức/bài-1", "", "báo-chính-phủ", "/tin-tức/bài-1"},
      {"a=%F0%9F%98%80", "", "default", "\xF0\x9F\x98\x80"},
  };
  for (const row& r : table) {
    SCOPED_TRACE("query=" + printable(r.query) + " body=" + printable(r.body));
    hit_scratch scratch;
    const hit_result res = parse_http_hit(r.query, r.body, scratch);
    ASSERT_TRUE(res.ok) << res.detail;
    EXPECT_EQ(res.value.site, r.site);
    EXPECT_EQ(res.value.article, r.article);
    EXPECT_EQ(res.value.count, 1u);
  }
}

TEST(ParseHttpHit, MustReject) {
  struct row {
    std::string query;
    std::string body;
    reject_reason reason;
  };
  const row table[] = {
      // a= is required
      {"", "", reject_reason::bad_article},
      {"s=blog", "", reject_reason::bad_article},
      {"A=x", "", reject_reason::bad_article},    // names are case-sensitive
      {"%61=x", "", reject_reason::bad_article},  // names are not decoded
      // empty fields
      {"a=", "", reject_reason::bad_article},
      {"a", "", reject_reason::bad_article},
      {"s=&a=x", "", reject_reason::bad_site},
      {"s&a=x", "", reject_reason::bad_site},
      // duplicates, in the query, the body or across both
      {"a=x&a=y", "", reject_reason::malformed},
      {"a=x&a=x", "", reject_reason::malformed},
      {"s=b&s=b&a=x", "", reject_reason::malformed},
      {"a=x", "a=y", reject_reason::malformed},
      {"s=b&a=x", "s=c", reject_reason::malformed},
      {"", "a=x&a=y", reject_reason::malformed},
      // bad escapes
      {"a=%G1", "", reject_reason::bad_article},
      {"a=%4", "", reject_reason::bad_article},
      {"a=x%", "", reject_reason::bad_article},
      {"s=%zz&a=x", "", reject_reason::bad_site},
      {"s=b%2&a=x", "", reject_reason::bad_site},
      // spaces and control characters, raw or escaped; bytes that are not UTF-8
      {"a=x y", "", reject_reason::bad_article},
      {"a=x+y", "", reject_reason::bad_article},
      {"a=%20", "", reject_reason::bad_article},
      {"a=x%00", "", reject_reason::bad_article},
      {"a=\x01", "", reject_reason::bad_article},
      {"a=\t", "", reject_reason::bad_article},
      {"a=\x7F", "", reject_reason::bad_article},
      {"a=%7F", "", reject_reason::bad_article},
      {"a=\x80", "", reject_reason::bad_article},
      {"a=caf\xC3", "", reject_reason::bad_article},
      {"a=caf%C3", "", reject_reason::bad_article},
      {"a=Gi%E1%BB%9Bi+thi%E1%BB%87u", "", reject_reason::bad_article},  // "Giới thiệu"
      {"a=%C2%80", "", reject_reason::bad_article},
      {"a=%ED%A0%80", "", reject_reason::bad_article},
      {"s=%C0%AF&a=x", "", reject_reason::bad_site},
      {"s=\x7F&a=x", "", reject_reason::bad_site},
      {"s=a%0Ab&a=x", "", reject_reason::bad_site},
      // oversize ids, raw and after decoding
      {"a=" + repeat("a", 201), "", reject_reason::bad_article},
      {"a=" + repeat("%41", 201), "", reject_reason::bad_article},
      {"s=" + repeat("s", 201) + "&a=x", "", reject_reason::bad_site},
      {"s=" + repeat("%73", 201) + "&a=x", "", reject_reason::bad_site},
  };
  for (const row& r : table) {
    SCOPED_TRACE("query=" + printable(r.query) + " body=" + printable(r.body));
    hit_scratch scratch;
    const hit_result res = parse_http_hit(r.query, r.body, scratch);
    ASSERT_FALSE(res.ok) << "accepted site=" << res.value.site << " article=" << res.value.article;
    EXPECT_EQ(name_of(res.reason), name_of(r.reason));
    EXPECT_FALSE(res.detail.empty());
  }
}

// ---- UDP -------------------------------------------------------------------

TEST(ParseUdpLine, MustAccept) {
  struct row {
    std::string line;
    std::string site;
    std::string article;
    std::uint32_t count;
  };
  const row table[] = {
      {"blog post", "blog", "post", 1},  // COUNT defaults to 1
      {"blog post 1", "blog", "post", 1},
      {"blog post 42", "blog", "post", 42},
      {"blog post 1000000", "blog", "post", 1000000},
      {"blog news%2Fa 3", "blog", "news/a", 3},
      {"%62log post", "blog", "post", 1},
      {"default x", "default", "x", 1},
      {repeat("s", 200) + " " + repeat("a", 200) + " 7", repeat("s", 200), repeat("a", 200), 7},
      {"b " + repeat("%41", 200), "b", repeat("A", 200), 1},
      {"soctrang.gov.vn /tin-tức/bai-1 1", "soctrang.gov.vn", "/tin-tức/bai-1", 1},
      {"soctrang.gov.vn /tin-t%E1%BB%A9c/bai-1 2", "soctrang.gov.vn", "/tin-tức/bai-1", 2},
      {"sóc-trăng Giới-thiệu", "sóc-trăng", "Giới-thiệu", 1},
  };
  for (const row& r : table) {
    SCOPED_TRACE(printable(r.line));
    hit_scratch scratch;
    const hit_result res = parse_udp_line(r.line, scratch);
    ASSERT_TRUE(res.ok) << res.detail;
    EXPECT_EQ(res.value.site, r.site);
    EXPECT_EQ(res.value.article, r.article);
    EXPECT_EQ(res.value.count, r.count);
  }
}

TEST(ParseUdpLine, MustReject) {
  struct row {
    std::string line;
    reject_reason reason;
  };
  const row table[] = {
      // line shape
      {"", reject_reason::malformed},
      {"blog", reject_reason::malformed},
      {"blog ", reject_reason::malformed},
      {" blog post", reject_reason::malformed},  // leading space
      {"blog  post", reject_reason::malformed},  // double space
      {"blog post  1", reject_reason::malformed},
      {"blog post 1 2", reject_reason::malformed},  // four fields
      {"blog post 1 ", reject_reason::malformed},
      {"blog\tpost", reject_reason::malformed},
      // COUNT
      {"blog post 0", reject_reason::bad_count},
      {"blog post 1000001", reject_reason::bad_count},
      {"blog post -1", reject_reason::bad_count},
      {"blog post +1", reject_reason::bad_count},
      {"blog post 1x", reject_reason::bad_count},
      {"blog post x", reject_reason::bad_count},
      {"blog post 1.0", reject_reason::bad_count},
      {"blog post ", reject_reason::bad_count},            // empty COUNT
      {"blog post 4294967297", reject_reason::bad_count},  // 2^32+1, would wrap to 1
      {"blog post 99999999999", reject_reason::bad_count},
      // ids
      {"bl%G1 post", reject_reason::bad_site},
      {"\x7F post", reject_reason::bad_site},
      {repeat("s", 201) + " post", reject_reason::bad_site},
      {repeat("%73", 201) + " post", reject_reason::bad_site},
      {"blog p%4", reject_reason::bad_article},
      {"blog post%", reject_reason::bad_article},
      {"blog a+b", reject_reason::bad_article},
      {"blog \x01", reject_reason::bad_article},
      {"blog \x80", reject_reason::bad_article},
      {"blog Gi\xE1\xBB", reject_reason::bad_article},
      {"blog Gi\xE1\xBB 3", reject_reason::bad_article},
      {"blog \xF4\x90\x80\x80", reject_reason::bad_article},
      {"blog Gi%E1%BB%9Bi%20thi%E1%BB%87u", reject_reason::bad_article},
      {"s\xC2\x9F post", reject_reason::bad_site},
      {"blog post\r", reject_reason::bad_article},  // CR is only stripped before LF
      {"blog " + repeat("a", 201), reject_reason::bad_article},
      {"blog " + repeat("%41", 201) + " 2", reject_reason::bad_article},
  };
  for (const row& r : table) {
    SCOPED_TRACE(printable(r.line));
    hit_scratch scratch;
    const hit_result res = parse_udp_line(r.line, scratch);
    ASSERT_FALSE(res.ok) << "accepted site=" << res.value.site << " article=" << res.value.article
                         << " count=" << res.value.count;
    EXPECT_EQ(name_of(res.reason), name_of(r.reason));
    EXPECT_FALSE(res.detail.empty());
  }
}

TEST(ParseHit, RefusalsSayWhatIsWrongWithTheId) {
  struct row {
    std::string udp_line;
    std::string detail;
  };
  const row table[] = {
      {"blog Gi\xE1\xBB", "article is not valid UTF-8"},
      {"blog \xED\xA0\x80", "article is not valid UTF-8"},
      {"blog a%01", "article has a space or a control character"},
      {"blog Gi%E1%BB%9Bi%20thi%E1%BB%87u", "article has a space or a control character"},
      {"blog \xC2\x80", "article has a space or a control character"},
      {"s\xC3 post", "site is not valid UTF-8"},
      {"s+t post", "site has a space or a control character"},
      {"blog " + repeat("a", 198) + "\xE1\xBB\x9B", "article is longer than 200 bytes"},
  };
  for (const row& r : table) {
    SCOPED_TRACE(printable(r.udp_line));
    hit_scratch scratch;
    const hit_result res = parse_udp_line(r.udp_line, scratch);
    ASSERT_FALSE(res.ok);
    EXPECT_EQ(res.detail, r.detail);
  }
}

TEST(ParseUdpLine, DefaultConstructedViewIsAnEmptyLine) {
  // A null string_view is a valid empty string: it must be refused like "",
  // without touching its (null) data. Under the asan+ubsan preset a memchr
  // on the null pointer aborts this test.
  hit_scratch scratch;
  const hit_result res = parse_udp_line(std::string_view{}, scratch);
  EXPECT_FALSE(res.ok);
  EXPECT_EQ(name_of(res.reason), "malformed");
}

TEST(ParseCount, Bounds) {
  struct row {
    std::string text;
    std::uint32_t max;
    bool ok;
    std::uint32_t value;
  };
  const row table[] = {
      {"1", max_hit_count, true, 1},
      {"1000000", max_hit_count, true, 1000000},
      {"999999", max_hit_count, true, 999999},
      {"9", 9, true, 9},
      {"0", max_hit_count, false, 0},
      {"1000001", max_hit_count, false, 0},
      {"10", 9, false, 0},
      {"-1", max_hit_count, false, 0},
      {"+1", max_hit_count, false, 0},
      {"1x", max_hit_count, false, 0},
      {"", max_hit_count, false, 0},
      {" 1", max_hit_count, false, 0},
      {"1 ", max_hit_count, false, 0},
      {"4294967296", 4294967295u, false, 0},  // 2^32 must not wrap to 0
      {"4294967297", 4294967295u, false, 0},
      {"18446744073709551617", 4294967295u, false, 0},
  };
  for (const row& r : table) {
    SCOPED_TRACE(printable(r.text) + " max=" + std::to_string(r.max));
    std::uint32_t out = 12345;
    EXPECT_EQ(parse_count(r.text, r.max, out), r.ok);
    if (r.ok) {
      EXPECT_EQ(out, r.value);
    }
  }
}

TEST(ForEachUdpLine, SplitsDatagrams) {
  struct row {
    std::string datagram;
    std::vector<std::string> lines;
  };
  const row table[] = {
      {"a b", {"a b"}},  // last LF optional
      {"a b\n", {"a b"}},
      {"a b\nc d", {"a b", "c d"}},
      {"a b\nc d\n", {"a b", "c d"}},
      {"a b\r\nc d\r\n", {"a b", "c d"}},  // CR before LF tolerated
      {"a b\r\nc d\r", {"a b", "c d"}},
      {"a b\n\nc d", {"a b", "", "c d"}},
      {"\n", {""}},
      {"", {}},
      {"a\rb\n", {"a\rb"}},  // a CR elsewhere is data
  };
  for (const row& r : table) {
    SCOPED_TRACE(printable(r.datagram));
    std::vector<std::string> got;
    for_each_udp_line(r.datagram, [&](std::string_view line) { got.emplace_back(line); });
    EXPECT_EQ(got, r.lines);
  }
}

TEST(ForEachUdpLine, EveryLineOfADatagramIsJudgedOnItsOwn) {
  const std::string datagram = "blog a 2\r\nblog b\n blog c\nblog d 0\nblog e";
  std::vector<std::string> accepted;
  std::vector<std::string_view> rejected;
  for_each_udp_line(datagram, [&](std::string_view line) {
    hit_scratch scratch;
    const hit_result r = parse_udp_line(line, scratch);
    if (r.ok) {
      accepted.push_back(std::string(r.value.article) + "x" + std::to_string(r.value.count));
    } else {
      rejected.push_back(name_of(r.reason));
    }
  });
  EXPECT_EQ(accepted, (std::vector<std::string>{"ax2", "bx1", "ex1"}));
  EXPECT_EQ(rejected, (std::vector<std::string_view>{"malformed", "bad_count"}));
}

TEST(ForEachFormField, SplitsPairs) {
  using pairs = std::vector<std::pair<std::string, std::string>>;
  struct row {
    std::string form;
    pairs fields;
  };
  const row table[] = {
      {"a=1&b=2", {{"a", "1"}, {"b", "2"}}},
      {"a=1&&b=2", {{"a", "1"}, {"b", "2"}}},
      {"&a=1&", {{"a", "1"}}},
      {"a", {{"a", ""}}},
      {"a=", {{"a", ""}}},
      {"=x", {{"", "x"}}},
      {"a=b=c", {{"a", "b=c"}}},
      {"", {}},
      {"&&", {}},
  };
  for (const row& r : table) {
    SCOPED_TRACE(printable(r.form));
    pairs got;
    for_each_form_field(r.form, [&](std::string_view n, std::string_view v) {
      got.emplace_back(std::string(n), std::string(v));
    });
    EXPECT_EQ(got, r.fields);
  }
}

}  // namespace
}  // namespace pvc
