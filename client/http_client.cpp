#include "http_client.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pvc::client {
namespace {

class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(left.count())) == 1;
}

}  // namespace

std::optional<server_url> parse_server_url(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (url.substr(0, scheme.size()) != scheme) return std::nullopt;
  url.remove_prefix(scheme.size());
  server_url out;
  std::size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) out.base_path = std::string(url.substr(slash));
  while (!out.base_path.empty() && out.base_path.back() == '/')
    out.base_path.pop_back();
  if (authority.empty()) return std::nullopt;
  if (authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return std::nullopt;
    out.port = rest.empty() ? "80" : std::string(rest.substr(1));
  } else {
    std::size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    out.port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  }
  if (out.host.empty() || out.port.empty()) return std::nullopt;
  for (char c : out.port) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return out;
}

std::string url_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

http_result http_request(const server_url& server, std::string_view method,
                         std::string_view path_and_query, std::string_view body,
                         std::string_view content_type, std::chrono::milliseconds timeout) {
  return http_request(server, method, path_and_query, {body, content_type, {}, timeout});
}

http_result http_request(const server_url& server, std::string_view method,
                         std::string_view path_and_query, const request_options& options) {
  const std::string_view body = options.body;
  const std::string_view content_type = options.content_type;
  const std::chrono::milliseconds timeout = options.timeout;
  http_result r;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(server.host.c_str(), server.port.c_str(), &hints, &found); rc != 0) {
    r.error = "cannot resolve " + server.host + ": " + ::gai_strerror(rc);
    return r;
  }
  int fd = -1;
  std::string connect_error = "no address";
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      connect_error = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) {
    r.error = "cannot connect to " + server.host + ":" + server.port + ": " + connect_error;
    return r;
  }
  fd_guard guard(fd);
  r.connected = true;

  std::string request;
  request.append(method).append(" ").append(server.base_path).append(path_and_query);
  request.append(" HTTP/1.1\r\nHost: ").append(server.host).append("\r\nConnection: close\r\n");
  if (!content_type.empty()) request.append("Content-Type: ").append(content_type).append("\r\n");
  if (!options.bearer_token.empty()) {
    request.append("Authorization: Bearer ").append(options.bearer_token).append("\r\n");
  }
  if (!body.empty() || method == "POST") {
    request.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  request.append("\r\n").append(body);
  for (std::size_t sent = 0; sent < request.size();) {
    if (!wait_for(fd, POLLOUT, deadline)) {
      r.error = "timed out sending the request";
      return r;
    }
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      r.error = std::string("send failed: ") + std::strerror(errno);
      return r;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string reply;
  char buf[16384];
  for (;;) {
    if (!wait_for(fd, POLLIN, deadline)) {
      r.error = "timed out waiting for the answer";
      return r;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      r.error = std::string("receive failed: ") + std::strerror(errno);
      return r;
    }
    if (n == 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody": the server closes after the body.
  std::size_t head_end = reply.find("\r\n\r\n");
  if (reply.compare(0, 9, "HTTP/1.1 ") != 0 || head_end == std::string::npos || reply.size() < 12) {
    r.error = "the server's answer is not HTTP";
    return r;
  }
  r.status = std::atoi(reply.c_str() + 9);
  r.body = reply.substr(head_end + 4);
  return r;
}

}  // namespace pvc::client
