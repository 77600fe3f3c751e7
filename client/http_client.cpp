#include "http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <utility>

namespace pvc::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// beast::tcp_stream's expiry only applies to asynchronous operations (its
// synchronous read/write never time out), so each step is started
// asynchronously and the io_context is run until that step has finished:
// blocking in shape, with the stream's deadline covering every step.
template <class Start>
beast::error_code run_step(asio::io_context& ioc, Start&& start) {
  beast::error_code result;
  std::forward<Start>(start)([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

// "127.0.0.1", "[::1]": the host as a URL (and the Host header) writes it.
std::string url_host(const server_url& server) {
  const bool ipv6 = server.host.find(':') != std::string::npos;
  return ipv6 ? "[" + server.host + "]" : server.host;
}

std::string read_error_text(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out waiting for the answer";
  if (ec == http::error::end_of_stream) return "the server closed the connection without answering";
  if (ec == http::error::partial_message) {
    return "the server closed the connection before the end of its answer";
  }
  if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
    return "the server's answer is not valid HTTP: " + ec.message();
  }
  return "receive failed: " + ec.message();
}

}  // namespace

std::optional<server_url> parse_server_url(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return std::nullopt;
  const boost::urls::url_view& u = *parsed;
  // Only what a request target can be built from: plain http, a host, a port
  // and a path prefix. A query or fragment would end up inside every target.
  if (u.scheme_id() != boost::urls::scheme::http || u.has_userinfo() || u.has_query() ||
      u.has_fragment()) {
    return std::nullopt;
  }
  const auto type = u.host_type();
  if (type != boost::urls::host_type::name && type != boost::urls::host_type::ipv4 &&
      type != boost::urls::host_type::ipv6) {
    return std::nullopt;  // no host, or an IPvFuture literal
  }
  server_url out;
  // Without the brackets of an IPv6 literal, as the resolver wants it. A
  // percent-encoded name is refused: no DNS name needs one, and decoding it
  // could put any byte (CR, LF) into the Host header.
  out.host = std::string(u.encoded_host_address());
  if (out.host.empty() || out.host.find('%') != std::string::npos) return std::nullopt;
  if (u.has_port()) {
    // port_number() is 0 for an empty port ("host:") and one past 65535.
    if (u.port_number() == 0) return std::nullopt;
    out.port = std::to_string(u.port_number());
  } else {
    out.port = "80";
  }
  out.base_path = std::string(u.encoded_path());
  // RFC 3986 wants an empty path or one starting with '/' after an
  // authority, but Boost.URL 1.81's parse_uri takes "http://h:8081x" as port
  // 8081 and path "x" (and "http://[::1]x" alike): refuse that here.
  if (!out.base_path.empty() && out.base_path.front() != '/') return std::nullopt;
  while (!out.base_path.empty() && out.base_path.back() == '/')
    out.base_path.pop_back();
  return out;
}

std::string url_encode(std::string_view s) {
  // encode() works on bytes, so UTF-8 text becomes its percent-encoded bytes.
  return boost::urls::encode(s, boost::urls::unreserved_chars);
}

http_result http_request(const server_url& server, std::string_view method,
                         std::string_view path_and_query, std::string_view body,
                         std::string_view content_type, std::chrono::milliseconds timeout) {
  return http_request(server, method, path_and_query, {body, content_type, {}, timeout});
}

http_result http_request(const server_url& server, std::string_view method,
                         std::string_view path_and_query, const request_options& options) {
  http_result r;
  asio::io_context ioc;
  beast::error_code ec;

  // getaddrinfo cannot be timed out (Asio's async_resolve only moves it to a
  // thread that would still be joined); pvctl's hosts are literals or
  // /etc/hosts names, which resolve without the network.
  tcp::resolver resolver(ioc);
  const auto endpoints = resolver.resolve(server.host, server.port, ec);
  if (ec) {
    r.error = "cannot resolve " + server.host + ": " + ec.message();
    return r;
  }

  beast::tcp_stream stream(ioc);
  // One deadline for the whole exchange, as `timeout` promises the caller.
  stream.expires_after(options.timeout);
  ec = run_step(ioc, [&](auto handler) { stream.async_connect(endpoints, std::move(handler)); });
  if (ec) {
    const std::string why = ec == beast::error::timeout ? "timed out" : ec.message();
    r.error = "cannot connect to " + url_host(server) + ":" + server.port + ": " + why;
    return r;
  }
  r.connected = true;

  http::request<http::string_body> req;
  req.method_string(method);
  req.target(server.base_path + std::string(path_and_query));
  req.version(11);
  req.set(http::field::host,
          server.port == "80" ? url_host(server) : url_host(server) + ":" + server.port);
  // One request per connection: the server closes after its answer.
  req.set(http::field::connection, "close");
  if (!options.content_type.empty()) req.set(http::field::content_type, options.content_type);
  if (!options.bearer_token.empty()) {
    req.set(http::field::authorization, "Bearer " + std::string(options.bearer_token));
  }
  req.body() = std::string(options.body);
  // As the old client did: a POST always states its length, even 0, since
  // a server may otherwise wait for a body or answer 411.
  if (!options.body.empty() || req.method() == http::verb::post) {
    req.content_length(options.body.size());
  }
  ec = run_step(ioc, [&](auto handler) { http::async_write(stream, req, std::move(handler)); });
  if (ec) {
    r.error = ec == beast::error::timeout ? "timed out sending the request"
                                          : "send failed: " + ec.message();
    return r;
  }

  // The parser reads to the Content-Length, through the chunks, or to the
  // close, whichever the answer uses; never past the answer's end, so a
  // server that keeps the connection open does not stall the read.
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);  // exports and backups may be large
  parser.skip(req.method() == http::verb::head);
  beast::flat_buffer buffer;
  ec = run_step(
      ioc, [&](auto handler) { http::async_read(stream, buffer, parser, std::move(handler)); });
  if (ec) {
    r.error = read_error_text(ec);
    return r;
  }
  r.status = static_cast<int>(parser.get().result_int());
  r.body = std::move(parser.get().body());
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);  // best effort
  return r;
}

}  // namespace pvc::client
