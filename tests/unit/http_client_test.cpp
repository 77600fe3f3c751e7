// pvctl's HTTP client (client/http_client.cpp): the server URL rules, the
// percent-encoding, and whole exchanges against a scripted server on a
// loopback socket, so that each way an answer can end (Content-Length,
// chunks, the close) is read from real bytes, in pieces.
#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace pvc::client {
namespace {

using namespace std::chrono_literals;

// ---- parse_server_url ------------------------------------------------------

struct url_case {
  const char* url;
  const char* host;
  const char* port;
  const char* base_path;
};

TEST(ParseServerUrl, AcceptsHostPortAndBasePath) {
  const url_case cases[] = {
      {"http://127.0.0.1:8081", "127.0.0.1", "8081", ""},
      {"http://localhost", "localhost", "80", ""},
      {"http://localhost/", "localhost", "80", ""},
      {"http://pvc.example.com:9000/pvc", "pvc.example.com", "9000", "/pvc"},
      {"http://pvc.example.com:9000/pvc/", "pvc.example.com", "9000", "/pvc"},
      {"http://h:1/a/b//", "h", "1", "/a/b"},
      {"http://h:65535", "h", "65535", ""},
      {"http://h:08081", "h", "8081", ""},  // the port as a number
      {"http://[::1]:8081", "::1", "8081", ""},
      {"http://[::1]", "::1", "80", ""},
      {"http://[2001:db8::7]:81/admin", "2001:db8::7", "81", "/admin"},
      {"http://10.0.0.1:8081/a%20b", "10.0.0.1", "8081", "/a%20b"},  // kept encoded
      {"HTTP://Host:8081", "Host", "8081", ""},                      // schemes are case-insensitive
  };
  for (const url_case& c : cases) {
    SCOPED_TRACE(c.url);
    const auto u = parse_server_url(c.url);
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->host, c.host);
    EXPECT_EQ(u->port, c.port);
    EXPECT_EQ(u->base_path, c.base_path);
  }
}

TEST(ParseServerUrl, RefusesEverythingElse) {
  const char* const cases[] = {
      "",
      "127.0.0.1:8081",
      "//127.0.0.1:8081",
      "https://127.0.0.1:8081",
      "ftp://h",
      "http:/h",
      "http://",
      "http://:8081",
      "http://h:",
      "http://h:port",
      "http://h:8081x",
      "http://h:0",
      "http://h:65536",
      "http://h:99999999999",
      "http://[::1",
      "http://[::1]x",
      "http://[::1]:80x/p",
      "http://::1:8081",
      "http://[v1.x]:8081",
      "http://user:secret@h:8081",
      "http://h:8081/?x=1",
      "http://h:8081/#top",
      "http://h 1:8081",
      " http://h:8081",
      "http://h:8081\r\n",
      "http://ex%41mple.com",  // a percent-encoded host could hide CR LF
      "http://h\\x",
  };
  for (const char* url : cases) {
    EXPECT_FALSE(parse_server_url(url).has_value()) << url;
  }
}

// ---- url_encode -------------------------------------------------------------

TEST(UrlEncode, KeepsUnreservedAndEncodesTheRest) {
  EXPECT_EQ(url_encode(""), "");
  EXPECT_EQ(url_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(url_encode("a b&c=d/e?f#g%h+i"), "a%20b%26c%3Dd%2Fe%3Ff%23g%25h%2Bi");
  EXPECT_EQ(url_encode(std::string("\0\x7f\xff", 3)), "%00%7F%FF");
}

TEST(UrlEncode, VietnameseTextBecomesItsUtf8Bytes) {
  EXPECT_EQ(url_encode("Giới thiệu"), "Gi%E1%BB%9Bi%20thi%E1%BB%87u");
  EXPECT_EQ(url_encode("Tiếng Việt có dấu"),
            "Ti%E1%BA%BFng%20Vi%E1%BB%87t%20c%C3%B3%20d%E1%BA%A5u");
}

// ---- exchanges with a scripted server ----------------------------------------

// One connection on a loopback port, served by a thread: it reads the request
// (head, and a body by its Content-Length), then sends `pieces` with a pause
// between them so that the answer arrives in several reads. Then it closes,
// or, with `keep_open`, waits (up to 5 s) for the client to close first, as a
// keep-alive server would: a client that reads until the close stalls there.
class scripted_server {
 public:
  scripted_server(std::vector<std::string> pieces, bool keep_open, int family = AF_INET)
      : pieces_(std::move(pieces)), keep_open_(keep_open) {
    listen_fd_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) return;
    sockaddr_storage addr{};
    socklen_t len = 0;
    if (family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
      a->sin6_family = AF_INET6;
      a->sin6_addr = in6addr_loopback;
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&addr);
      a->sin_family = AF_INET;
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof *a;
    }
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 1) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(listen_fd_);
      listen_fd_ = -1;
      return;
    }
    port_ = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                     : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~scripted_server() {
    finish();
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }

  bool listening() const { return listen_fd_ >= 0; }
  std::uint16_t port() const { return port_; }
  // Waits for the thread; then request() and client_closed() are final.
  void finish() {
    if (thread_.joinable()) thread_.join();
  }
  const std::string& request() const { return request_; }
  bool client_closed() const { return client_closed_; }

 private:
  static bool readable(int fd, std::chrono::milliseconds within) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(within.count())) == 1;
  }

  void serve() {
    if (!readable(listen_fd_, 5s)) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    read_request(fd);
    for (const std::string& piece : pieces_) {
      std::this_thread::sleep_for(20ms);
      if (::send(fd, piece.data(), piece.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(piece.size()))
        break;
    }
    if (keep_open_) {
      char c;
      client_closed_ = readable(fd, 5s) && ::recv(fd, &c, 1, 0) == 0;
    }
    ::close(fd);
  }

  void read_request(int fd) {
    char buf[4096];
    std::size_t want = std::string::npos;  // head + body, once the head is in
    while (request_.size() < want && readable(fd, 5s)) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      request_.append(buf, static_cast<std::size_t>(n));
      const std::size_t head_end = request_.find("\r\n\r\n");
      if (want == std::string::npos && head_end != std::string::npos) {
        const std::size_t cl = request_.find("Content-Length: ");
        const std::size_t body =
            cl < head_end ? std::stoul(request_.substr(cl + 16)) : std::size_t{0};
        want = head_end + 4 + body;
      }
    }
  }

  std::vector<std::string> pieces_;
  bool keep_open_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::string request_;
  bool client_closed_ = false;
};

server_url loopback(std::uint16_t port, std::string base_path = "") {
  return {"127.0.0.1", std::to_string(port), std::move(base_path)};
}

request_options quick(std::chrono::milliseconds timeout = 3s) {
  request_options o;
  o.timeout = timeout;
  return o;
}

TEST(HttpRequest, ReadsAChunkedAnswerAndStopsAtItsLastChunk) {
  scripted_server s(
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
       "Content-Type: text/plain\r\n\r\n",
       "5;note=first\r\nhel", "lo\r\n", "7\r\n, world\r\n", "0\r\nX-Checksum: none\r\n\r\n"},
      /*keep_open=*/true);
  ASSERT_TRUE(s.listening());
  const auto started = std::chrono::steady_clock::now();
  const http_result r = http_request(loopback(s.port()), "GET", "/api/v1/views?s=news", quick());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s) << "waited for the close";
  EXPECT_TRUE(r.connected);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello, world");
  s.finish();
  EXPECT_TRUE(s.client_closed());
}

TEST(HttpRequest, ReadsToTheContentLengthOfAKeepAliveAnswer) {
  scripted_server s({"HTTP/1.1 201 Created\r\nContent-Length: 11\r\nConnection: keep-alive\r\n"
                     "Keep-Alive: timeout=60\r\n\r\nhello",
                     " world"},
                    /*keep_open=*/true);
  ASSERT_TRUE(s.listening());
  const auto started = std::chrono::steady_clock::now();
  const http_result r = http_request(loopback(s.port()), "POST", "/x", quick());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s) << "waited for the close";
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "hello world");
  s.finish();
  EXPECT_TRUE(s.client_closed());
}

TEST(HttpRequest, ReadsABodyThatEndsAtTheClose) {
  scripted_server s({"HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nno such ", "site\n"},
                    /*keep_open=*/false);
  ASSERT_TRUE(s.listening());
  const http_result r = http_request(loopback(s.port()), "GET", "/", quick());
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "no such site\n");
}

TEST(HttpRequest, AnAnswerCutShortIsAnError) {
  const std::vector<std::vector<std::string>> cut = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", "only ten.."},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "a\r\nonly ten..\r\n"},
      {"HTTP/1.1 200 OK\r\nContent-Le"},
      {},  // closed without a byte
  };
  for (const auto& pieces : cut) {
    SCOPED_TRACE(pieces.empty() ? "nothing" : pieces.back());
    scripted_server s(pieces, /*keep_open=*/false);
    ASSERT_TRUE(s.listening());
    const http_result r = http_request(loopback(s.port()), "GET", "/", quick());
    EXPECT_TRUE(r.connected);
    EXPECT_NE(r.error, "");
  }
}

TEST(HttpRequest, AnAnswerThatIsNotHttpIsAnError) {
  scripted_server s({"SSH-2.0-OpenSSH_9.2\r\n\r\n"}, /*keep_open=*/false);
  ASSERT_TRUE(s.listening());
  const http_result r = http_request(loopback(s.port()), "GET", "/", quick());
  EXPECT_TRUE(r.connected);
  EXPECT_NE(r.error.find("not valid HTTP"), std::string::npos) << r.error;
}

TEST(HttpRequest, SendsTheMethodTargetHeadersAndBody) {
  scripted_server s({"HTTP/1.1 204 No Content\r\n\r\n"}, /*keep_open=*/true);
  ASSERT_TRUE(s.listening());
  request_options o = quick();
  o.body = "a,b\n";
  o.content_type = "text/csv";
  o.bearer_token = "tok-123";
  const http_result r = http_request(loopback(s.port(), "/pvc"), "PUT", "/api/v1/x?y=1", o);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.status, 204);  // no body, and no waiting for the close either
  EXPECT_EQ(r.body, "");
  s.finish();
  const std::string& req = s.request();
  EXPECT_EQ(req.rfind("PUT /pvc/api/v1/x?y=1 HTTP/1.1\r\n", 0), 0u) << req;
  for (const std::string& line :
       {"\r\nHost: 127.0.0.1:" + std::to_string(s.port()) + "\r\n",
        std::string("\r\nConnection: close\r\n"), std::string("\r\nContent-Type: text/csv\r\n"),
        std::string("\r\nAuthorization: Bearer tok-123\r\n"),
        std::string("\r\nContent-Length: 4\r\n")}) {
    EXPECT_NE(req.find(line), std::string::npos) << line << " not in " << req;
  }
  EXPECT_EQ(req.substr(req.size() - 8), "\r\n\r\na,b\n") << req;
}

TEST(HttpRequest, AnEmptyPostStatesItsLength) {
  scripted_server s({"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}, /*keep_open=*/false);
  ASSERT_TRUE(s.listening());
  const http_result r = http_request(loopback(s.port()), "POST", "/api/v1/admin/flush", quick());
  EXPECT_EQ(r.error, "");
  s.finish();
  EXPECT_NE(s.request().find("\r\nContent-Length: 0\r\n"), std::string::npos) << s.request();
}

TEST(HttpRequest, ARefusedConnectionIsNotConnected) {
  // Bound but not listening: connecting is refused.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), len), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::string port = std::to_string(ntohs(a.sin_port));
  const http_result r = http_request({"127.0.0.1", port, ""}, "GET", "/", quick());
  ::close(fd);
  EXPECT_FALSE(r.connected);
  EXPECT_EQ(r.error.rfind("cannot connect to 127.0.0.1:" + port + ": ", 0), 0u) << r.error;
}

TEST(HttpRequest, ASilentServerTimesOut) {
  scripted_server s({}, /*keep_open=*/true);
  ASSERT_TRUE(s.listening());
  const auto started = std::chrono::steady_clock::now();
  const http_result r = http_request(loopback(s.port()), "GET", "/", quick(300ms));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(r.connected);
  EXPECT_EQ(r.error, "timed out waiting for the answer");
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
}

TEST(HttpRequest, TalksToAnIpv6Literal) {
  scripted_server s({"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv6"}, /*keep_open=*/false,
                    AF_INET6);
  if (!s.listening()) GTEST_SKIP() << "no IPv6 loopback here";
  const auto u = parse_server_url("http://[::1]:" + std::to_string(s.port()) + "/base/");
  ASSERT_TRUE(u.has_value());
  const http_result r = http_request(*u, "GET", "/x", quick());
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.body, "v6");
  s.finish();
  EXPECT_EQ(s.request().rfind("GET /base/x HTTP/1.1\r\n", 0), 0u) << s.request();
  EXPECT_NE(s.request().find("\r\nHost: [::1]:" + std::to_string(s.port()) + "\r\n"),
            std::string::npos)
      << s.request();
}

}  // namespace
}  // namespace pvc::client
