#pragma once
// Loopback clients for the integration tests, on plain blocking sockets with
// a timeout on every send and receive, so a daemon that stops answering
// fails the test instead of hanging it.
//
//   http_connection: one keep-alive HTTP/1.1 connection. Sends requests (or
//     any raw bytes) and reads replies one at a time, keeping the bytes that
//     follow a reply, so pipelined replies are read correctly.
//   udp_sender: a connected UDP socket.
//   reserved_port: a TCP port bound but not listening: connecting to it is
//     refused, and no other process can take it while it is held.
//
// Thread-safety: an object belongs to one thread at a time.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pvc::test {

// Every send/receive step waits at most this long.
inline constexpr std::chrono::milliseconds io_timeout{5000};

struct http_reply {
  int status = 0;     // 0 when no reply could be read (see error)
  std::string error;  // what went wrong on the socket or in the reply's syntax
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;

  // The value of the first header with this (lower-case) name; "" if absent.
  std::string header(std::string_view name) const;
  bool closes() const;  // "Connection: close"
};

class http_connection {
 public:
  // `receive_buffer_bytes` > 0 shrinks the socket's receive buffer, so that a
  // client reading late makes the server's sends wait.
  explicit http_connection(std::uint16_t port, int receive_buffer_bytes = 0);
  ~http_connection();
  http_connection(const http_connection&) = delete;
  http_connection& operator=(const http_connection&) = delete;

  bool connected() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }

  // Sends one request and reads its reply. A Content-Length is added when
  // there is a body or the method is POST; `extra_headers` are raw
  // "Name: value\r\n" lines.
  http_reply request(std::string_view method, std::string_view target, std::string_view body = {},
                     std::string_view content_type = {}, std::string_view extra_headers = {});
  http_reply get(std::string_view target) { return request("GET", target); }

  // The request bytes request() would send, for pipelining with send_raw.
  static std::string format_request(std::string_view method, std::string_view target,
                                    std::string_view body = {}, std::string_view content_type = {},
                                    std::string_view extra_headers = {});

  // Sends bytes as they are; false (and error()) on failure.
  bool send_raw(std::string_view bytes);
  // Reads one reply (after send_raw). `head_only`: a reply to HEAD.
  http_reply read_reply(bool head_only = false);
  // True when the server closes the connection (EOF or reset) within
  // `timeout` without sending anything more.
  bool wait_closed(std::chrono::milliseconds timeout = io_timeout);

 private:
  bool fill();  // reads more bytes into in_; false on EOF/error/timeout

  int fd_ = -1;
  std::string in_;  // received, not yet consumed
  std::string error_;
  bool eof_ = false;
};

// One GET/POST on a fresh connection.
http_reply http_once(std::uint16_t port, std::string_view method, std::string_view target,
                     std::string_view body = {}, std::string_view content_type = {});

class udp_sender {
 public:
  explicit udp_sender(std::uint16_t port);
  ~udp_sender();
  udp_sender(const udp_sender&) = delete;
  udp_sender& operator=(const udp_sender&) = delete;

  // Sends one datagram (empty is allowed); false, with error(), on failure.
  bool send(std::string_view datagram);
  const std::string& error() const { return error_; }

 private:
  int fd_ = -1;
  std::string error_;
};

class reserved_port {
 public:
  reserved_port();
  ~reserved_port();
  reserved_port(const reserved_port&) = delete;
  reserved_port& operator=(const reserved_port&) = delete;

  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace pvc::test
