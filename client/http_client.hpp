#pragma once
// A small blocking HTTP/1.1 client for pvctl (and the tests): one request per
// connection (Connection: close), plain TCP, a timeout on every step. pvctl
// talks to a loopback admin listener, so nothing more is needed.
//
// Thread-safety: none needed; each call is independent.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace pvc::client {

struct server_url {
  std::string host;
  std::string port;
  std::string base_path;  // without a trailing '/'
};

// Parses "http://HOST[:PORT][/base]"; empty optional on anything else.
std::optional<server_url> parse_server_url(std::string_view url);

struct http_result {
  bool connected = false;
  std::string error;  // set when the exchange failed (connection, timeout, bad reply)
  int status = 0;
  std::string body;
};

http_result http_request(const server_url& server, std::string_view method,
                         std::string_view path_and_query, std::string_view body = {},
                         std::string_view content_type = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

struct request_options {
  std::string_view body;
  std::string_view content_type;
  std::string_view bearer_token;  // sent as "Authorization: Bearer ..." when not empty
  std::chrono::milliseconds timeout{10'000};
};

http_result http_request(const server_url& server, std::string_view method,
                         std::string_view path_and_query, const request_options& options);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view s);

}  // namespace pvc::client
