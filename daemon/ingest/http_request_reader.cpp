#include "ingest/http_request_reader.hpp"

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <cstring>
#include <optional>

#include "core/counter_table.hpp"
#include "serve/routes.hpp"

namespace pvc {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using error_code = boost::system::error_code;

// What a session keeps of a request. Strings keep their capacity between
// requests, so a keep-alive connection stops allocating after its first.
struct request_data {
  std::string method;
  std::string target;
  std::string content_type;
  std::string body;
  std::string user_agent;
  std::string x_forwarded_for;
  std::string forwarded;
  std::string if_none_match;
  std::string origin;
  std::string authorization;
  std::string access_control_request_headers;

  void clear() {
    for (std::string* s :
         {&method, &target, &content_type, &body, &user_agent, &x_forwarded_for, &forwarded,
          &if_none_match, &origin, &authorization, &access_control_request_headers}) {
      s->clear();
    }
  }
};

// Beast's parser with callbacks that copy only what routes need, instead of
// building a full message with an allocated field list.
class request_parser final : public http::basic_parser<true> {
 public:
  explicit request_parser(request_data& d) : d_(d) { d_.clear(); }

 private:
  void on_request_impl(http::verb, beast::string_view method, beast::string_view target, int,
                       error_code&) override {
    d_.method.assign(method.data(), method.size());
    d_.target.assign(target.data(), target.size());
  }
  void on_response_impl(int, beast::string_view, int, error_code& ec) override {
    ec = http::error::bad_method;  // never called for a request parser
  }
  void on_field_impl(http::field name, beast::string_view name_string, beast::string_view value,
                     error_code&) override {
    switch (name) {
      case http::field::content_type:
        d_.content_type.assign(value);
        break;
      case http::field::user_agent:
        d_.user_agent.assign(value);
        break;
      case http::field::forwarded:
        d_.forwarded.assign(value);
        break;
      case http::field::if_none_match:
        d_.if_none_match.assign(value);
        break;
      case http::field::origin:
        d_.origin.assign(value);
        break;
      case http::field::authorization:
        d_.authorization.assign(value);
        break;
      case http::field::access_control_request_headers:
        d_.access_control_request_headers.assign(value);
        break;
      case http::field::unknown:
        // Beast has no enum value for X-Forwarded-For. Several such lines
        // form one comma-separated list.
        if (beast::iequals(name_string, "x-forwarded-for")) {
          if (!d_.x_forwarded_for.empty()) d_.x_forwarded_for += ", ";
          d_.x_forwarded_for.append(value);
        }
        break;
      default:
        break;
    }
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(boost::optional<std::uint64_t> const&, error_code&) override {}
  std::size_t on_body_impl(beast::string_view body, error_code&) override {
    d_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code&) override {
    d_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  request_data& d_;
};

std::string_view reason_phrase(unsigned status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Content Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

// The answer to a request the parser refused.
void answer_broken_request(error_code ec, http_response& res) {
  res.reset();
  if (ec == http::error::header_limit) {
    res.status = 431;
    res.body = "malformed: request header larger than 8 KiB\n";
  } else if (ec == http::error::body_limit) {
    res.status = 413;
    res.body = "malformed: request body too large\n";
  } else {
    res.status = 400;
    res.body = "malformed: not a valid HTTP/1.1 request\n";
  }
}

// A receive gets at least this much room: a beacon's whole request, with
// its browser's usual headers, fits in one.
constexpr std::size_t min_receive = 512;
constexpr std::size_t first_capacity = 2048;

}  // namespace

struct request_reader::impl {
  impl(std::size_t header_bytes, std::size_t body_bytes)
      : header_bytes(header_bytes), body_bytes(body_bytes) {
    start_request();
  }

  // Beast's parser needs more bytes than have arrived. Its header limit
  // bounds what it waits for in a header, but not in a chunk's size line or
  // the trailer after the last chunk: the same limit applies there, else
  // one request could fill memory until the idle timeout.
  step waiting() {
    if (end - begin <= header_bytes) return step::need_more;
    error = parser->is_header_done() ? http::error::bad_chunk : http::error::header_limit;
    return step::broken;
  }

  // Beast's parser cannot be reset: each request gets a fresh one.
  void start_request() {
    parser.emplace(data);
    parser->header_limit(static_cast<std::uint32_t>(header_bytes));
    parser->body_limit(body_bytes);
    parser->eager(true);  // header and body in one put() when both have arrived
  }

  std::size_t header_bytes;
  std::size_t body_bytes;
  request_data data;
  std::optional<request_parser> parser;
  error_code error;  // why the request is broken
  // Received bytes not yet parsed are [begin, end). The buffer grows only
  // while a header or chunk line is incomplete, up to about twice the
  // header limit (see waiting()); body bytes are copied out as they are
  // parsed.
  std::unique_ptr<char[]> buffer;
  std::size_t capacity = 0;
  std::size_t begin = 0;
  std::size_t end = 0;
};

request_reader::request_reader(std::size_t header_bytes, std::size_t body_bytes)
    : impl_(std::make_unique<impl>(header_bytes, body_bytes)) {}

request_reader::~request_reader() = default;

std::span<char> request_reader::receive_space() {
  impl& r = *impl_;
  if (r.begin == r.end) r.begin = r.end = 0;
  if (r.capacity - r.end < min_receive && r.begin > 0) {
    std::memmove(r.buffer.get(), r.buffer.get() + r.begin, r.end - r.begin);
    r.end -= r.begin;
    r.begin = 0;
  }
  if (r.capacity - r.end < min_receive) {
    const std::size_t capacity = std::max(first_capacity, r.capacity * 2);
    auto bigger = std::make_unique<char[]>(capacity);
    if (r.end > 0) std::memcpy(bigger.get(), r.buffer.get(), r.end);
    r.buffer = std::move(bigger);
    r.capacity = capacity;
  }
  return {r.buffer.get() + r.end, r.capacity - r.end};
}

void request_reader::received(std::size_t n) {
  impl_->end += n;
}

request_reader::step request_reader::parse() {
  impl& r = *impl_;
  while (!r.parser->is_done()) {
    if (r.begin == r.end) return step::need_more;
    error_code ec;
    const std::size_t used =
        r.parser->put(boost::asio::const_buffer(r.buffer.get() + r.begin, r.end - r.begin), ec);
    r.begin += used;
    if (ec == http::error::need_more || (!ec && used == 0)) return r.waiting();
    if (ec) {
      r.error = ec;
      return step::broken;
    }
  }
  return step::request;
}

request_reader::step request_reader::end_of_input() {
  impl& r = *impl_;
  if (const step s = parse(); s != step::need_more) return s;
  if (!r.parser->got_some()) return step::closed;
  error_code ec;
  r.parser->put_eof(ec);
  if (!ec && !r.parser->is_done()) ec = http::error::partial_message;
  if (ec) {
    r.error = ec;
    return step::broken;
  }
  return step::request;
}

http_request_view request_reader::request(std::string_view peer) const {
  const request_data& d = impl_->data;
  return {d.method,
          d.target,
          d.content_type,
          d.body,
          peer,
          d.user_agent,
          d.x_forwarded_for,
          d.forwarded,
          d.if_none_match,
          d.origin,
          d.authorization,
          d.access_control_request_headers};
}

bool request_reader::keep_alive() const {
  return impl_->parser->keep_alive();
}

bool request_reader::is_head() const {
  return impl_->data.method == "HEAD";
}

void request_reader::answer_broken(http_response& res) const {
  answer_broken_request(impl_->error, res);
}

void request_reader::next_request() {
  impl_->start_request();
}

bool request_reader::between_requests() const {
  return !impl_->parser->got_some() && impl_->begin == impl_->end;
}

answer_plan answer(request_reader::step step, const request_reader& reader, std::string_view peer,
                   const router& routes, counter_shard& shard, transport kind, http_response& res) {
  if (step != request_reader::step::request) {
    shard.reject(kind, reject_reason::malformed);
    reader.answer_broken(res);
    return {};  // the stream is out of sync: answer, then close
  }
  res.reset();
  routes.handle(reader.request(peer), res, shard);
  return {reader.keep_alive(), reader.is_head()};
}

std::string_view answer_head::of(const http_response& res, bool keep_alive) {
  if (!same_as_last(res, keep_alive)) format(res, keep_alive);
  return text_;
}

bool answer_head::same_as_last(const http_response& res, bool keep_alive) const {
  return formatted_ && status_ == res.status && keep_alive_ == keep_alive && cors_ == res.cors &&
         payload_bytes_ == res.payload().size() && content_type_ == res.content_type &&
         cache_control_ == res.cache_control && cors_origin_ == res.cors_origin &&
         etag_ == res.etag && allow_ == res.allow && res.preflight_methods.empty() &&
         preflight_methods_.empty();
}

void answer_head::format(const http_response& res, bool keep_alive) {
  formatted_ = true;
  status_ = res.status;
  payload_bytes_ = res.payload().size();
  cors_ = res.cors;
  keep_alive_ = keep_alive;
  content_type_ = res.content_type;
  cache_control_ = res.cache_control;
  cors_origin_ = res.cors_origin;
  etag_ = res.etag;
  allow_ = res.allow;
  preflight_methods_ = res.preflight_methods;

  std::string& out = text_;
  out.clear();
  out += "HTTP/1.1 ";
  out += std::to_string(res.status);
  out += ' ';
  out += reason_phrase(res.status);
  out += "\r\nCache-Control: ";
  out += res.cache_control;
  out += "\r\n";
  if (res.status != 204 && res.status != 304) {
    out += "Content-Type: ";
    out += res.content_type;
    out += "\r\nContent-Length: ";
    out += std::to_string(payload_bytes_);
    out += "\r\n";
  }
  if (res.cors) {
    out += "Access-Control-Allow-Origin: ";
    out += res.cors_origin;
    out += "\r\n";
    if (res.cors_origin != "*") out += "Vary: Origin\r\n";
  }
  if (res.stale_seconds > 0) {
    out += "X-Pvcd-Stale-Seconds: ";
    out += std::to_string(res.stale_seconds);
    out += "\r\n";
    if (res.cors) out += "Access-Control-Expose-Headers: X-Pvcd-Stale-Seconds\r\n";
  }
  if (!res.etag.empty()) {
    out += "ETag: ";
    out += res.etag;
    out += "\r\n";
  }
  if (!res.allow.empty()) {
    out += "Allow: ";
    out += res.allow;
    out += "\r\n";
  }
  if (!res.preflight_methods.empty()) {
    // A CORS preflight's answer (router::handle): what the page may send.
    out += "Access-Control-Allow-Methods: ";
    out += res.preflight_methods;
    out += "\r\n";
    if (!res.preflight_headers.empty()) {
      out += "Access-Control-Allow-Headers: ";
      out += res.preflight_headers;
      out += "\r\n";
    }
    out += "Access-Control-Max-Age: 86400\r\n";
  }
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
}

void handle_raw_requests(std::string_view bytes, const router& routes, counter_shard& shard,
                         transport kind, std::size_t header_bytes, std::size_t body_bytes,
                         std::string& out) {
  using step = request_reader::step;
  request_reader reader(header_bytes, body_bytes);
  http_response res;
  answer_head head;
  step s = step::need_more;
  for (;;) {
    while (s == step::need_more) {
      if (bytes.empty()) {
        s = reader.end_of_input();
        break;
      }
      const std::span<char> space = reader.receive_space();
      const std::size_t n = std::min(space.size(), bytes.size());
      std::memcpy(space.data(), bytes.data(), n);
      bytes.remove_prefix(n);
      reader.received(n);
      s = reader.parse();
    }
    if (s == step::closed) return;
    const answer_plan plan = answer(s, reader, "127.0.0.1", routes, shard, kind, res);
    out += head.of(res, plan.keep_alive);
    if (!plan.head_only) out += res.payload();
    if (!plan.keep_alive) return;
    reader.next_request();
    s = reader.parse();
  }
}

}  // namespace pvc
