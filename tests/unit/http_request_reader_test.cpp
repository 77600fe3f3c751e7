#include "ingest/http_request_reader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "serve/routes.hpp"

namespace pvc {
namespace {

using step = request_reader::step;

// Puts `bytes` into the reader as receives of at most `piece` bytes, parsing
// after each, as a session does; returns the last step.
step receive(request_reader& r, std::string_view bytes, std::size_t piece = 1 << 20) {
  step s = r.parse();
  while (!bytes.empty()) {
    const std::span<char> space = r.receive_space();
    if (space.empty()) {
      ADD_FAILURE() << "no room to receive";
      return s;
    }
    const std::size_t n = std::min({piece, space.size(), bytes.size()});
    std::memcpy(space.data(), bytes.data(), n);
    bytes.remove_prefix(n);
    r.received(n);
    s = r.parse();
    if (s != step::need_more) break;
  }
  return s;
}

unsigned broken_status(const request_reader& r) {
  http_response res;
  r.answer_broken(res);
  return res.status;
}

const std::string post_hit =
    "POST /hit HTTP/1.1\r\nHost: example.org\r\nContent-Type: text/plain\r\n"
    "User-Agent: test/1.0\r\nContent-Length: 15\r\n\r\ns=demo&a=%2Fx&n";

TEST(RequestReader, ARequestReceivedAByteAtATimeIsWholeOnlyAtItsLastByte) {
  request_reader r(8192, 16384);
  for (std::size_t i = 0; i + 1 < post_hit.size(); ++i) {
    ASSERT_EQ(receive(r, post_hit.substr(i, 1)), step::need_more) << "at byte " << i;
  }
  ASSERT_EQ(receive(r, post_hit.substr(post_hit.size() - 1)), step::request);
  const http_request_view v = r.request("192.0.2.7");
  EXPECT_EQ(v.method, "POST");
  EXPECT_EQ(v.target, "/hit");
  EXPECT_EQ(v.content_type, "text/plain");
  EXPECT_EQ(v.user_agent, "test/1.0");
  EXPECT_EQ(v.body, "s=demo&a=%2Fx&n");
  EXPECT_EQ(v.peer, "192.0.2.7");
  EXPECT_TRUE(r.keep_alive());
  EXPECT_FALSE(r.is_head());
}

TEST(RequestReader, PipelinedRequestsComeOneAtATimeAndTheNextStartsClean) {
  request_reader r(8192, 16384);
  const std::string bytes = post_hit +
                            "HEAD /a HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n"
                            "GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(receive(r, bytes), step::request);
  EXPECT_EQ(r.request("").body, "s=demo&a=%2Fx&n");
  EXPECT_FALSE(r.between_requests());

  r.next_request();
  ASSERT_EQ(r.parse(), step::request);
  EXPECT_EQ(r.request("").target, "/a");
  EXPECT_EQ(r.request("").x_forwarded_for, "10.0.0.1");
  EXPECT_EQ(r.request("").body, "");
  EXPECT_EQ(r.request("").user_agent, "");  // the previous request's, forgotten
  EXPECT_TRUE(r.is_head());

  r.next_request();
  ASSERT_EQ(r.parse(), step::request);
  EXPECT_EQ(r.request("").target, "/b");
  EXPECT_EQ(r.request("").x_forwarded_for, "");
  EXPECT_FALSE(r.keep_alive());

  r.next_request();
  EXPECT_TRUE(r.between_requests());
  EXPECT_EQ(r.parse(), step::need_more);
  EXPECT_EQ(r.end_of_input(), step::closed);
}

TEST(RequestReader, AHeaderLargerThanTheFirstBufferGrowsItUpToTheLimit) {
  const std::string cookie(6000, 'c');
  const std::string big = "GET /hit?s=demo&a=x HTTP/1.1\r\nCookie: " + cookie + "\r\n\r\n";
  request_reader r(8192, 16384);
  ASSERT_EQ(receive(r, big, 700), step::request);
  EXPECT_EQ(r.request("").target, "/hit?s=demo&a=x");

  const std::string too_big = "GET /hit HTTP/1.1\r\nCookie: " + std::string(9000, 'c') + "\r\n\r\n";
  request_reader small(8192, 16384);
  ASSERT_EQ(receive(small, too_big, 700), step::broken);
  EXPECT_EQ(broken_status(small), 431u);
}

TEST(RequestReader, ABodyPastTheLimitIsRefusedBeforeItArrives) {
  request_reader r(8192, 100);
  ASSERT_EQ(receive(r, "POST /hit HTTP/1.1\r\nContent-Length: 101\r\n\r\n"), step::broken);
  EXPECT_EQ(broken_status(r), 413u);

  request_reader chunked(8192, 10);
  ASSERT_EQ(receive(chunked,
                    "POST /hit HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n"),
            step::broken);
  EXPECT_EQ(broken_status(chunked), 413u);
}

TEST(RequestReader, AChunkLineOrTrailerPastTheHeaderLimitIsBroken) {
  // Beast's own limit covers the header only: these would wait for more
  // bytes for ever, the buffer doubling as they come.
  const std::string chunked = "POST /hit HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const std::string& start : {chunked + "1;", chunked + "0\r\nX-Trailer: "}) {
    request_reader r(1024, 16384);
    EXPECT_EQ(receive(r, start + std::string(1000, 'a'), 100), step::need_more) << start;
    ASSERT_EQ(receive(r, std::string(100, 'a'), 100), step::broken) << start;
    EXPECT_EQ(broken_status(r), 400u);
    EXPECT_LE(r.receive_space().size(), 4096u);
  }
}

TEST(RequestReader, ChunkedBodiesAreJoined) {
  request_reader r(8192, 100);
  ASSERT_EQ(receive(r,
                    "POST /hit HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "6\r\ns=demo\r\n5\r\n&a=%2\r\n1\r\nF\r\n0\r\n\r\n",
                    3),
            step::request);
  EXPECT_EQ(r.request("").body, "s=demo&a=%2F");
}

TEST(RequestReader, NotHttpIsBroken) {
  request_reader r(8192, 16384);
  ASSERT_EQ(receive(r, "hello there, this is not HTTP\r\n\r\n"), step::broken);
  EXPECT_EQ(broken_status(r), 400u);
}

TEST(RequestReader, TheEndOfInputClosesBetweenRequestsAndBreaksInsideOne) {
  request_reader idle(8192, 16384);
  EXPECT_TRUE(idle.between_requests());
  EXPECT_EQ(idle.end_of_input(), step::closed);

  request_reader half(8192, 16384);
  ASSERT_EQ(receive(half, "GET /hit?s=demo HTTP/1.1\r\nHo"), step::need_more);
  EXPECT_FALSE(half.between_requests());
  ASSERT_EQ(half.end_of_input(), step::broken);
  EXPECT_EQ(broken_status(half), 400u);

  request_reader short_body(8192, 16384);
  ASSERT_EQ(receive(short_body, "POST /hit HTTP/1.1\r\nContent-Length: 10\r\n\r\ns=a"),
            step::need_more);
  ASSERT_EQ(short_body.end_of_input(), step::broken);
}

// The head of a fresh answer_head, formatted from nothing.
std::string fresh_head(const http_response& res, bool keep_alive) {
  answer_head h;
  return std::string(h.of(res, keep_alive));
}

TEST(AnswerHead, APreflightNamesTheMethodsAndHeadersAPageMaySend) {
  http_response res;
  res.status = 204;
  res.cors = true;
  res.preflight_methods = "GET, HEAD, POST";
  res.preflight_headers = "content-type";
  answer_head head;
  const std::string text(head.of(res, true));
  EXPECT_NE(text.find("Access-Control-Allow-Origin: *\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Access-Control-Allow-Methods: GET, HEAD, POST\r\n"), std::string::npos);
  EXPECT_NE(text.find("Access-Control-Allow-Headers: content-type\r\n"), std::string::npos);
  EXPECT_NE(text.find("Access-Control-Max-Age: 86400\r\n"), std::string::npos);
  res.preflight_methods = {};
  EXPECT_EQ(std::string(head.of(res, true)).find("Access-Control-Allow-Methods"), std::string::npos)
      << "the next answer's head is formatted anew";
}

TEST(AnswerHead, IsReusedOnlyWhileEveryFieldOfTheHeadIsTheSame) {
  http_response res;
  res.status = 200;
  res.body = "{\"total\":1}";
  res.content_type = "application/json";
  answer_head reused;
  ASSERT_EQ(reused.of(res, true), fresh_head(res, true));
  EXPECT_NE(reused.of(res, true).find("Content-Length: 11\r\n"), std::string_view::npos);

  // Each change alone must show in the head.
  const auto check = [&](const char* what) {
    EXPECT_EQ(reused.of(res, true), fresh_head(res, true)) << what;
  };
  res.body = "{\"total\":10}";
  check("payload size");
  res.status = 404;
  check("status");
  res.content_type = "text/plain; charset=utf-8";
  check("content type");
  res.cache_control = "public, max-age=60";
  check("cache control");
  res.cors = true;
  check("cors");
  res.cors_origin = "https://example.org";
  check("cors origin");
  res.etag = "\"abc\"";
  check("etag");
  res.etag = "\"abd\"";
  check("etag of the same length");
  res.status = 405;
  res.allow = "GET, HEAD";
  check("allow");
  res.allow = "POST";
  check("allow alone");
  EXPECT_EQ(reused.of(res, false), fresh_head(res, false)) << "keep-alive";
  EXPECT_NE(reused.of(res, false).find("Connection: close\r\n"), std::string_view::npos);
  res.static_body = "a static body, longer than the other";
  EXPECT_EQ(reused.of(res, false), fresh_head(res, false)) << "static body";
}

}  // namespace
}  // namespace pvc
