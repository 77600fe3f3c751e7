// Bad input over HTTP and UDP: refused with the right status and reason
// line, counted in /metrics under the right reason label, and without any
// effect on the counts of good hits sent around it.
#include <map>
#include <string>
#include <vector>

#include "pvcd_fixture.hpp"

namespace pvc::test {
namespace {

struct http_case {
  std::string name;
  std::string method;
  std::string target;
  std::string body;
  std::string content_type;
  std::string want_body;  // the one reason line
  std::string reason;     // metrics label
};

// "%2F" n times: n bytes once decoded, three times as many on the wire.
std::string escaped_slashes(int n) {
  std::string s;
  for (int i = 0; i < n; ++i)
    s += "%2F";
  return s;
}

// Each refused with 400 by the router; the connection stays usable.
std::vector<http_case> router_rejects() {
  const std::string long_id(201, 'x');
  return {
      {"missing a=", "GET", "/hit?s=good", "", "", "bad_article: article (a=) is missing",
       "bad_article"},
      {"empty a=", "GET", "/hit?s=good&a=", "", "", "bad_article: article is empty", "bad_article"},
      {"space in id", "GET", "/hit?s=good&a=two%20words", "", "",
       "bad_article: article has a space or a control character", "bad_article"},
      {"space in a Vietnamese id", "GET", "/hit?s=good&a=Gi%E1%BB%9Bi+thi%E1%BB%87u", "", "",
       "bad_article: article has a space or a control character", "bad_article"},
      {"UTF-8 cut short", "GET", "/hit?s=good&a=Gi%E1%BB", "", "",
       "bad_article: article is not valid UTF-8", "bad_article"},
      {"overlong slash", "GET", "/hit?s=good&a=a%C0%AFb", "", "",
       "bad_article: article is not valid UTF-8", "bad_article"},
      {"C1 control", "POST", "/hit", "s=good&a=c1%C2%85", "text/plain",
       "bad_article: article has a space or a control character", "bad_article"},
      {"201-byte id", "GET", "/hit?s=good&a=" + long_id, "", "",
       "bad_article: article is longer than 200 bytes", "bad_article"},
      {"201 bytes once decoded", "GET", "/hit?s=good&a=" + escaped_slashes(201), "", "",
       "bad_article: article is longer than 200 bytes", "bad_article"},
      {"escaped control byte", "GET", "/hit?s=good&a=ctl%01byte", "", "",
       "bad_article: article has a space or a control character", "bad_article"},
      {"DEL byte", "GET", "/hit?s=good&a=del%7F", "", "",
       "bad_article: article has a space or a control character", "bad_article"},
      {"bad escape", "GET", "/hit?s=good&a=bad%zzescape", "", "",
       "bad_article: article has a bad %-escape", "bad_article"},
      {"gif without a=", "GET", "/hit.gif?s=good", "", "", "bad_article: article (a=) is missing",
       "bad_article"},
      {"POST body without a=", "POST", "/hit", "s=good", "text/plain",
       "bad_article: article (a=) is missing", "bad_article"},
      // A JSON body is not read as a form, so the article is missing.
      {"JSON body", "POST", "/hit", "s=good&a=json", "application/json",
       "bad_article: article (a=) is missing", "bad_article"},
      {"duplicate a=", "GET", "/hit?s=good&a=x&a=y", "", "", "malformed: a field is given twice",
       "malformed"},
      {"a= in query and body", "POST", "/hit?s=good&a=x", "a=y", "text/plain",
       "malformed: a field is given twice", "malformed"},
      {"duplicate s=", "GET", "/hit?s=good&s=good&a=x", "", "", "malformed: a field is given twice",
       "malformed"},
      {"space in site", "GET", "/hit?s=bad%20site&a=x", "", "",
       "bad_site: site has a space or a control character", "bad_site"},
      {"surrogate in site", "GET", "/hit?s=s%ED%A0%80&a=x", "", "",
       "bad_site: site is not valid UTF-8", "bad_site"},
      {"201-byte site", "GET", "/hit?s=" + long_id + "&a=x", "", "",
       "bad_site: site is longer than 200 bytes", "bad_site"},
      {"empty site", "GET", "/hit?s=&a=x", "", "", "bad_site: site is empty", "bad_site"},
  };
}

struct raw_case {
  std::string name;
  std::string bytes;
  int want_status;
  std::string want_body;
};

// Each answered once, then the connection is closed (the stream is lost).
std::vector<raw_case> raw_rejects() {
  return {
      {"TLS handshake bytes", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11), 400,
       "malformed: not a valid HTTP/1.1 request"},
      {"text garbage", "hello there, this is not HTTP\r\n\r\n", 400,
       "malformed: not a valid HTTP/1.1 request"},
      {"raw control byte in the target",
       std::string("GET /hit?s=good&a=x\x01y HTTP/1.1\r\nHost: h\r\n\r\n"), 400,
       "malformed: not a valid HTTP/1.1 request"},
      {"header over 8 KiB",
       "GET /hit?s=good&a=big HTTP/1.1\r\nHost: h\r\nX-Filler: " + std::string(9000, 'f') +
           "\r\n\r\n",
       431, "malformed: request header larger than 8 KiB"},
      {"body over 16 KiB",
       "POST /hit HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: "
       "17000\r\n\r\n" +
           std::string(17000, 'b'),
       413, "malformed: request body too large"},
  };
}

class reject_test : public pvcd_test {};

TEST_F(reject_test, BadHttpAndUdpInputIsRefusedCountedByReasonAndLeavesGoodCountsAlone) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  std::map<std::string, std::uint64_t> want;  // article -> views on site "good"
  std::map<std::string, int> http_rejected, udp_rejected;
  int http_accepted = 0, udp_accepted = 0;

  // Good hits first, over both transports.
  http_connection c(d.ports().http);
  ASSERT_TRUE(c.connected()) << c.error();
  udp_sender u(d.ports().udp);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(c.get("/hit?s=good&a=base").status, 204);
    ASSERT_TRUE(u.send("good base\n")) << u.error();
  }
  want["base"] = 20;
  http_accepted += 10;
  udp_accepted += 10;

  // HTTP refused by the router: 400 with one reason line, keep-alive intact.
  for (const auto& k : router_rejects()) {
    SCOPED_TRACE(k.name);
    const http_reply r = c.request(k.method, k.target, k.body, k.content_type);
    EXPECT_EQ(r.status, 400) << r.error;
    EXPECT_EQ(r.body, k.want_body + "\n");
    EXPECT_FALSE(r.closes());
    ++http_rejected[k.reason];
  }
  // The longest valid id is accepted, and the connection still works.
  const std::string id200(200, 'x');
  ASSERT_EQ(c.get("/hit?s=good&a=" + id200).status, 204);
  ASSERT_EQ(c.get("/hit?s=good&a=" + escaped_slashes(200)).status, 204);
  ASSERT_EQ(c.get("/hit?s=good&a=after").status, 204);
  const std::string slashes200(200, '/');
  want[id200] = 1;
  want[slashes200] = 1;
  want["after"] = 1;
  http_accepted += 3;

  // Broken HTTP on fresh connections: one answer, then the server closes.
  for (const auto& k : raw_rejects()) {
    SCOPED_TRACE(k.name);
    http_connection raw(d.ports().http);
    ASSERT_TRUE(raw.connected()) << raw.error();
    ASSERT_TRUE(raw.send_raw(k.bytes)) << raw.error();
    const http_reply r = raw.read_reply();
    EXPECT_EQ(r.status, k.want_status) << r.error;
    EXPECT_EQ(r.body, k.want_body + "\n");
    EXPECT_TRUE(r.closes());
    EXPECT_TRUE(raw.wait_closed()) << "the connection stayed open after a broken request";
    ++http_rejected["malformed"];
  }

  // UDP: good and bad lines mixed in one datagram; the good ones count.
  const std::string mixed = std::string() +
                            "good u1\n"               // ok, 1
                            "good u1 0\n"             // bad_count
                            "good u1 1000001\n"       // bad_count
                            "good u1 -1\n"            // bad_count
                            "good u1 1e3\n"           // bad_count
                            "good u1 3\n"             // ok, 3
                            "good u1 2 extra\n"       // malformed: too many fields
                            "good\n"                  // malformed: one field
                            "good  u1\n"              // malformed: two spaces
                            "good u2 1000000\n"       // ok, the largest COUNT
                            "good two%20words\n"      // bad_article
                            "bad%20site u1\n"         // bad_site
                            "\xff\xfe \x01\n"         // bad_site: binary site
                            "good u1\r\n"             // ok, CRLF tolerated
                            "\x01\x02\xfe\xff\x7f\n"  // malformed: binary junk
                            "good u1";                // ok, last LF omitted
  ASSERT_TRUE(u.send(mixed)) << u.error();
  want["u1"] = 1 + 3 + 1 + 1;
  want["u2"] = 1'000'000;
  udp_accepted += 5;
  udp_rejected["bad_count"] += 4;
  udp_rejected["malformed"] += 4;
  udp_rejected["bad_article"] += 1;
  udp_rejected["bad_site"] += 2;
  // The decoded length decides, as over HTTP: 200 is the most, one more is refused.
  ASSERT_TRUE(u.send("good " + escaped_slashes(200) + "\ngood " + escaped_slashes(201) + "\n"))
      << u.error();
  want[slashes200] += 1;
  udp_accepted += 1;
  udp_rejected["bad_article"] += 1;
  // Pure binary junk (no LF, no space): one malformed line.
  ASSERT_TRUE(u.send(std::string("\x00\x01\x02\x03\xfe\xff\x80\x7f", 8))) << u.error();
  udp_rejected["malformed"] += 1;
  // An empty line between good ones.
  ASSERT_TRUE(u.send("good u3\n\ngood u3\n")) << u.error();
  want["u3"] = 2;
  udp_accepted += 2;
  udp_rejected["malformed"] += 1;
  // A datagram of a lone LF: one empty line.
  ASSERT_TRUE(u.send("\n")) << u.error();
  udp_rejected["malformed"] += 1;
  // A good datagram last: one socket, read in order, so once it is counted
  // every earlier datagram has been read.
  ASSERT_TRUE(u.send("good last\n")) << u.error();
  want["last"] = 1;
  udp_accepted += 1;

  std::string metrics;
  ASSERT_TRUE(wait_until([&] {
    metrics = fetch_metrics(d.ports().admin);
    return metric_value(metrics, accepted_series("udp")) == udp_accepted;
  })) << metrics;
  EXPECT_EQ(metric_value(metrics, accepted_series("http")), http_accepted);
  EXPECT_EQ(metric_value(metrics, "pvcd_udp_datagrams_total"), 10 + 6);
  for (auto reason : all_reasons) {
    const std::string r(reason);
    EXPECT_EQ(metric_value(metrics, rejected_series(r, "http")), http_rejected[r]) << r;
    EXPECT_EQ(metric_value(metrics, rejected_series(r, "udp")), udp_rejected[r]) << r;
    EXPECT_EQ(metric_value(metrics, rejected_series(r, "admin")), 0) << r;
  }

  // The good counts, exactly, and nothing for the ids of refused hits.
  std::uint64_t site_total = 0;
  std::vector<std::string> ids;
  for (const auto& [id, n] : want) {
    site_total += n;
    ids.push_back(id);
  }
  // Valid ids that appeared only in refused requests.
  ids.insert(ids.end(), {"x", "y", "json", "big"});
  ASSERT_TRUE(wait_until([&] { return fetch_views(d.ports().http, "good").total == site_total; }))
      << "site total never reached " << site_total;
  const views_reply v = fetch_views(d.ports().http, "good", ids);
  ASSERT_EQ(v.error, "");
  EXPECT_EQ(v.total, site_total);
  for (const auto& id : ids) {
    EXPECT_EQ(v.articles.at(id).total, want.count(id) ? want[id] : 0u) << id;
  }
  // No refused hit created a site.
  EXPECT_EQ(scrape(d.ports().admin, "pvcd_sites"), 1.0);

  const exit_status s = d.stop();
  EXPECT_TRUE(s.ok()) << s.describe();
}

// The wire format says a datagram holds one or more lines; an empty one
// holds none and is not a hit, so it must be counted as malformed like any
// other unusable input rather than vanish without a trace.
TEST_F(reject_test, EmptyUdpDatagramIsCountedAsMalformed) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  udp_sender u(d.ports().udp);
  ASSERT_TRUE(u.send("")) << u.error();
  ASSERT_TRUE(u.send("good one\n")) << u.error();
  // The listener adds a datagram to pvcd_udp_datagrams_total before it counts
  // its lines, so a scrape may see both datagrams and not yet their results:
  // wait for all three figures (a missing rejection still fails, by timeout).
  std::string metrics;
  ASSERT_TRUE(wait_until([&] {
    metrics = fetch_metrics(d.ports().admin);
    return metric_value(metrics, "pvcd_udp_datagrams_total") == 2 &&
           metric_value(metrics, accepted_series("udp")) == 1 &&
           metric_value(metrics, rejected_series("malformed", "udp")) == 1;
  })) << metrics;
  EXPECT_EQ(metric_value(metrics, accepted_series("udp")), 1);
  EXPECT_EQ(metric_value(metrics, rejected_series("malformed", "udp")), 1)
      << "an empty datagram was received (pvcd_udp_datagrams_total counts it) but not counted "
         "as rejected";
  const exit_status s = d.stop();
  EXPECT_TRUE(s.ok()) << s.describe();
}

}  // namespace
}  // namespace pvc::test
