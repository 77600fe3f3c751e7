#pragma once
// Reads HTTP/1.1 requests out of the bytes one connection receives: Beast's
// request parser, fed by hand from one buffer per connection. The session
// (http_server.cpp) owns the socket and decides when to receive and send;
// this owns the bytes and what they mean, so the fuzz target runs exactly
// this code without sockets.
//
// Why not http::async_read: per keep-alive beacon, its composed operations,
// type-erased executor and buffer bookkeeping cost more user-space time than
// the parse and the count together. Fed by hand, a request is one receive,
// one parse and one send.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/config_values.hpp"
#include "core/reject_reason.hpp"

namespace pvc {

struct http_request_view;
struct http_response;
class router;
class counter_shard;

class request_reader {
 public:
  // What the bytes received so far amount to.
  enum class step {
    need_more,  // part of a request: receive more
    request,    // a whole request: see request(), keep_alive(), is_head()
    broken,     // not HTTP/1.1, or past a limit: answer_broken(), then close
    closed,     // the peer closed between requests: nothing to answer
  };

  // Requests whose header passes `header_bytes` or whose body passes
  // `body_bytes` are broken (431 and 413).
  request_reader(std::size_t header_bytes, std::size_t body_bytes);
  ~request_reader();
  request_reader(const request_reader&) = delete;
  request_reader& operator=(const request_reader&) = delete;

  // Room for the next receive (never empty), then how much of it arrived.
  std::span<char> receive_space();
  void received(std::size_t n);

  // Parses what has arrived and is not yet part of an answered request.
  step parse();
  // The peer will send nothing more (end of stream).
  step end_of_input();

  // After step::request. The views stay valid until next_request().
  http_request_view request(std::string_view peer) const;
  bool keep_alive() const;
  bool is_head() const;
  // After step::broken: the answer, 400, 413 or 431.
  void answer_broken(http_response& res) const;

  // Forgets the answered request; bytes already received for the next stay.
  void next_request();
  // Nothing of a next request has arrived yet.
  bool between_requests() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// How a parsed step is answered, as a session answers it: a request is routed
// (and counted, for a beacon); a broken one is counted as malformed. The
// answer is left in `res`.
struct answer_plan {
  bool keep_alive = false;  // the request allows another on this connection
  bool head_only = false;   // HEAD: the payload is not sent
};
answer_plan answer(request_reader::step step, const request_reader& reader, std::string_view peer,
                   const router& routes, counter_shard& shard, transport kind, http_response& res);

// The status line and headers of an answer, as written before its payload.
// Formatted again only when they would differ from the previous answer's, so
// a keep-alive stream of beacons formats its 204 head once.
class answer_head {
 public:
  // Valid until the next call.
  std::string_view of(const http_response& res, bool keep_alive);

 private:
  bool same_as_last(const http_response& res, bool keep_alive) const;
  void format(const http_response& res, bool keep_alive);

  // What the head of `text_` was made from.
  bool formatted_ = false;
  unsigned status_ = 0;
  std::size_t payload_bytes_ = 0;
  bool cors_ = false;
  bool keep_alive_ = false;
  std::string content_type_, cache_control_, cors_origin_, etag_, allow_, preflight_methods_;
  std::string text_;
};

// For the fuzz target (tests/fuzz): `bytes` as everything a peer sent on one
// connection, received in buffer-sized pieces, parsed and answered as a
// session does (same reader, limits, router and answers, no sockets); each
// answer, as it would be written, is appended to `out`. Stops at the end of
// the input, after a broken request or after an answer that closes.
void handle_raw_requests(std::string_view bytes, const router& routes, counter_shard& shard,
                         transport kind, std::size_t header_bytes, std::size_t body_bytes,
                         std::string& out);

}  // namespace pvc
