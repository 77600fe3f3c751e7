#include "support/net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace pvc::test {
namespace {

// A reply head larger than this is not one pvcd would send.
constexpr std::size_t max_head_bytes = 64 * 1024;

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

void set_timeouts(int fd) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(io_timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((io_timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

http_reply failed(std::string why) {
  http_reply r;
  r.error = std::move(why);
  return r;
}

}  // namespace

std::string http_reply::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return {};
}

bool http_reply::closes() const {
  return lower(header("connection")) == "close";
}

http_connection::http_connection(std::uint16_t port, int receive_buffer_bytes) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error_ = errno_text("socket");
    return;
  }
  set_timeouts(fd_);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (receive_buffer_bytes > 0) {
    // Before connect: the window offered to the server is set at the handshake.
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes);
  }
  const sockaddr_in a = loopback(port);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    error_ = errno_text(("connect to 127.0.0.1:" + std::to_string(port)).c_str());
    ::close(fd_);
    fd_ = -1;
  }
}

http_connection::~http_connection() {
  if (fd_ >= 0) ::close(fd_);
}

std::string http_connection::format_request(std::string_view method, std::string_view target,
                                            std::string_view body, std::string_view content_type,
                                            std::string_view extra_headers) {
  std::string r;
  r.reserve(128 + target.size() + body.size() + extra_headers.size());
  r.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  if (!content_type.empty()) r.append("Content-Type: ").append(content_type).append("\r\n");
  if (!body.empty() || method == "POST") {
    r.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  r.append(extra_headers).append("\r\n").append(body);
  return r;
}

http_reply http_connection::request(std::string_view method, std::string_view target,
                                    std::string_view body, std::string_view content_type,
                                    std::string_view extra_headers) {
  if (!send_raw(format_request(method, target, body, content_type, extra_headers))) {
    return failed(error_);
  }
  return read_reply(method == "HEAD");
}

bool http_connection::send_raw(std::string_view bytes) {
  if (fd_ < 0) {
    if (error_.empty()) error_ = "not connected";
    return false;
  }
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = errno == EAGAIN ? "send timed out" : errno_text("send");
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool http_connection::fill() {
  if (fd_ < 0 || eof_) return false;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      in_.append(buf, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) {
      eof_ = true;
      error_ = "connection closed by the server";
      return false;
    }
    if (errno == EINTR) continue;
    error_ = errno == EAGAIN ? "timed out waiting for the server" : errno_text("recv");
    return false;
  }
}

http_reply http_connection::read_reply(bool head_only) {
  std::size_t head_end;
  while ((head_end = in_.find("\r\n\r\n")) == std::string::npos) {
    if (in_.size() > max_head_bytes) return failed("reply head larger than 64 KiB");
    if (!fill()) return failed(error_ + (in_.empty() ? "" : " (after a partial reply)"));
  }
  http_reply r;
  const std::string_view head(in_.data(), head_end);
  std::size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  if (status_line.substr(0, 9) != "HTTP/1.1 " || status_line.size() < 12) {
    return failed("not an HTTP/1.1 status line: " + std::string(status_line));
  }
  r.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
  while (line_end != std::string_view::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string_view line = head.substr(
        start, line_end == std::string_view::npos ? std::string_view::npos : line_end - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return failed("bad header line: " + std::string(line));
    r.headers.emplace_back(lower(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
  }
  in_.erase(0, head_end + 4);

  const bool no_body = head_only || r.status == 204 || r.status == 304 || r.status < 200;
  const std::string length_text = r.header("content-length");
  if (no_body) return r;
  if (!length_text.empty()) {
    std::size_t length = 0;
    const auto [end, ec] =
        std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
    if (ec != std::errc{} || end != length_text.data() + length_text.size()) {
      return failed("bad Content-Length: " + length_text);
    }
    while (in_.size() < length) {
      if (!fill()) return failed(error_ + " (in the middle of a reply body)");
    }
    r.body = in_.substr(0, length);
    in_.erase(0, length);
  } else {
    while (fill()) {
    }
    if (!eof_) return failed(error_ + " (reading a body delimited by close)");
    r.body = std::move(in_);
    in_.clear();
  }
  return r;
}

bool http_connection::wait_closed(std::chrono::milliseconds timeout) {
  if (!in_.empty()) return false;
  if (eof_) return true;
  if (fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return false;
  char buf[256];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n > 0) {
    in_.append(buf, static_cast<std::size_t>(n));
    return false;
  }
  eof_ = true;
  return n == 0 || errno == ECONNRESET;
}

http_reply http_once(std::uint16_t port, std::string_view method, std::string_view target,
                     std::string_view body, std::string_view content_type) {
  http_connection c(port);
  if (!c.connected()) return failed(c.error());
  return c.request(method, target, body, content_type);
}

udp_sender::udp_sender(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error_ = errno_text("socket");
    return;
  }
  const sockaddr_in a = loopback(port);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    error_ = errno_text("connect");
    ::close(fd_);
    fd_ = -1;
  }
}

udp_sender::~udp_sender() {
  if (fd_ >= 0) ::close(fd_);
}

bool udp_sender::send(std::string_view datagram) {
  if (fd_ < 0) {
    if (error_.empty()) error_ = "no socket";
    return false;
  }
  for (;;) {
    const ssize_t n = ::send(fd_, datagram.data(), datagram.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(datagram.size())) {
      error_ = n < 0 ? errno_text("send") : "short UDP send";
      return false;
    }
    return true;
  }
}

reserved_port::reserved_port() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  port_ = ntohs(a.sin_port);
}

reserved_port::~reserved_port() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace pvc::test
