#include "http_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <optional>
#include <unordered_set>

#include "core/counter_table.hpp"
#include "io_threads.hpp"
#include "port_probe.hpp"
#include "routes.hpp"

namespace pvc {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
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

  void clear() {
    for (std::string* s : {&method, &target, &content_type, &body, &user_agent, &x_forwarded_for,
                           &forwarded, &if_none_match, &origin, &authorization}) {
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

void format_head(std::string& out, const http_response& res, bool keep_alive) {
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
    out += std::to_string(res.payload().size());
    out += "\r\n";
  }
  if (res.cors) {
    out += "Access-Control-Allow-Origin: ";
    out += res.cors_origin;
    out += "\r\n";
    if (res.cors_origin != "*") out += "Vary: Origin\r\n";
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
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
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

class session;

// Everything of one listener that lives on one I/O thread.
struct worker {
  worker(asio::io_context& c, const router& r, counter_shard& s, transport k, const http_limits& l)
      : ctx(c), acceptor(c), retry_timer(c), routes(r), shard(s), kind(k), limits(l) {}

  asio::io_context& ctx;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  const router& routes;
  counter_shard& shard;
  transport kind;
  http_limits limits;
  std::unordered_set<session*> sessions;
  std::size_t max_sessions = 1;  // this thread's share of the listener's connection limit
  bool stopping = false;

  void do_accept();
  void on_accept(error_code ec, tcp::socket socket);
  void stop();
  void close_all();
  void make_room();
};

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, worker& w) : socket_(std::move(socket)), timer_(w.ctx), w_(w) {
    w_.sessions.insert(this);
    w_.shard.stats().http_connections.add(1);
  }
  ~session() {
    w_.sessions.erase(this);
    w_.shard.stats().http_connections.add(-1);  // unsigned wrap-around: a decrement
  }

  // When the current read or write times out: the least recently active connection has
  // the earliest deadline.
  std::chrono::steady_clock::time_point deadline() const noexcept { return deadline_; }
  bool is_open() const noexcept { return socket_.is_open(); }

  void start() {
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    const auto remote = socket_.remote_endpoint(ignored);
    if (!ignored) {
      const auto a = remote.address();
      // An IPv4 client on a dual-stack socket is reported as itself.
      peer_ = a.is_v6() && a.to_v6().is_v4_mapped()
                  ? asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string()
                  : a.to_string();
    }
    deadline_ = std::chrono::steady_clock::now() + w_.limits.idle_timeout;
    arm_timer();
    do_read();
  }

  // Called when the listener stops: an idle connection closes now, a busy
  // one after its response.
  void stop() {
    if (reading_ && !parser_->got_some() && buffer_.size() == 0) close();
  }

  void close() {
    error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
  }

 private:
  void do_read() {
    parser_.emplace(req_);
    parser_->header_limit(static_cast<std::uint32_t>(w_.limits.header_bytes));
    parser_->body_limit(w_.limits.body_bytes);
    deadline_ = std::chrono::steady_clock::now() + w_.limits.idle_timeout;
    reading_ = true;
    http::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    reading_ = false;
    // stop() or make_room() may have closed the socket after the request arrived
    // but before this handler ran: no answer can go out, so it must not count.
    if (!socket_.is_open()) return close();
    if (ec) {
      if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
          ec == asio::error::connection_reset || ec == asio::error::eof) {
        return close();
      }
      // A broken request: answer once, then close (the stream is out of sync).
      w_.shard.reject(w_.kind, reject_reason::malformed);
      started_ = std::chrono::steady_clock::now();
      answer_broken_request(ec, res_);
      head_only_ = false;  // the body of this 400 must go out even after a HEAD
      return write(false);
    }
    const http_request_view view{
        req_.method,       req_.target,          req_.content_type, req_.body,          peer_,
        req_.user_agent,   req_.x_forwarded_for, req_.forwarded,    req_.if_none_match, req_.origin,
        req_.authorization};
    started_ = std::chrono::steady_clock::now();
    res_.reset();
    w_.routes.handle(view, res_, w_.shard);
    head_only_ = req_.method == "HEAD";
    write(parser_->keep_alive() && !w_.stopping);
  }

  void write(bool keep_alive) {
    keep_alive_ = keep_alive;
    format_head(head_, res_, keep_alive);
    std::array<asio::const_buffer, 2> buffers = {
        asio::buffer(head_), head_only_
                                 ? asio::const_buffer{}
                                 : asio::buffer(res_.payload().data(), res_.payload().size())};
    deadline_ = std::chrono::steady_clock::now() + w_.limits.idle_timeout;
    asio::async_write(socket_, buffers, [self = shared_from_this()](error_code ec, std::size_t) {
      self->on_write(ec);
    });
  }

  void on_write(error_code ec) {
    // Latency as the client sees it, from a complete request to the answer written.
    const auto elapsed = std::chrono::steady_clock::now() - started_;
    w_.shard.stats().observe_http(
        res_.route, res_.status,
        static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()));
    if (ec || !keep_alive_) {
      error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_send, ignored);
      return close();
    }
    do_read();
  }

  // One timer per connection, re-armed lazily: activity only moves
  // `deadline_`, so a busy keep-alive connection costs no timer operation
  // per request.
  void arm_timer() {
    timer_.expires_at(deadline_);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || !self->socket_.is_open()) return;
      if (std::chrono::steady_clock::now() >= self->deadline_) return self->close();
      self->arm_timer();
    });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  worker& w_;
  beast::flat_buffer buffer_;
  std::optional<request_parser> parser_;
  request_data req_;
  std::string peer_;
  http_response res_;
  std::string head_;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::steady_clock::time_point started_;
  bool reading_ = false;
  bool keep_alive_ = true;
  bool head_only_ = false;
};

void worker::do_accept() {
  acceptor.async_accept(ctx, [this](error_code ec, tcp::socket s) { on_accept(ec, std::move(s)); });
}

void worker::on_accept(error_code ec, tcp::socket socket) {
  if (stopping || ec == asio::error::operation_aborted) return;
  if (ec) {
    // Out of descriptors or memory: pause instead of spinning on the error.
    spdlog::warn("event=accept_failed error=\"{}\"", ec.message());
    retry_timer.expires_after(std::chrono::milliseconds(100));
    retry_timer.async_wait([this](error_code e) {
      if (!e && !stopping) do_accept();
    });
    return;
  }
  if (sessions.size() >= max_sessions) make_room();
  std::make_shared<session>(std::move(socket), *this)->start();
  do_accept();
}

// At the connection limit, the connection that has waited longest for its
// current request goes: an idle keep-alive or a slowloris drip, never a
// fresh client. Runs only at the limit, so the scan is rare.
void worker::make_room() {
  session* oldest = nullptr;
  for (session* s : sessions) {
    if (s->is_open() && (!oldest || s->deadline() < oldest->deadline())) oldest = s;
  }
  if (oldest) {
    oldest->close();
    shard.stats().http_evictions.add(1);
  }
}

void worker::stop() {
  stopping = true;
  error_code ignored;
  acceptor.close(ignored);
  retry_timer.cancel();
  // Copy: stop() may end sessions, which edit the set.
  std::vector<session*> current(sessions.begin(), sessions.end());
  for (session* s : current)
    s->stop();
}

void worker::close_all() {
  std::vector<session*> current(sessions.begin(), sessions.end());
  for (session* s : current)
    s->close();
}

bool open_acceptor(tcp::acceptor& a, const tcp::endpoint& ep, std::string& error) {
  error_code ec;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) {
    // One acceptor per thread on the same port; the kernel spreads connections.
    int one = 1;
    if (::setsockopt(a.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      ec.assign(errno, boost::system::system_category());
    }
  }
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = ec.message();
    return false;
  }
  return true;
}

}  // namespace

struct http_listener::impl {
  io_threads& threads;
  endpoint bound;
  std::vector<std::unique_ptr<worker>> workers;
};

http_listener::http_listener(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
http_listener::~http_listener() = default;

const endpoint& http_listener::bound() const noexcept {
  return impl_->bound;
}

std::unique_ptr<http_listener> http_listener::start(io_threads& threads, const endpoint& where,
                                                    const router& routes, counter_table& table,
                                                    transport kind, const http_limits& limits,
                                                    int inherited_fd, std::string& error) {
  auto p = std::make_unique<impl>(impl{threads, where, {}});
  error_code ec;
  tcp::endpoint ep(asio::ip::make_address(where.host, ec), where.port);
  if (ec) {
    error = "bad address " + where.host;
    return nullptr;
  }
  if (inherited_fd >= 0) {
    // Socket activation: one listening socket from systemd, shared by every
    // thread through its own descriptor (dup), so a restart refuses nothing.
    for (std::size_t i = 0; i < threads.size(); ++i) {
      auto w = std::make_unique<worker>(threads.context(i), routes, table.shard(i), kind, limits);
      w->max_sessions = std::max<std::size_t>(1, limits.max_connections / threads.size());
      const int fd = i == 0 ? inherited_fd : ::dup(inherited_fd);
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
      w->acceptor.assign(addr.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
      if (ec) {
        error = "cannot use the socket passed by systemd: " + ec.message();
        return nullptr;
      }
      if (i == 0) {
        const auto local = w->acceptor.local_endpoint();
        p->bound = {local.address().to_string(), local.port()};
      }
      p->workers.push_back(std::move(w));
    }
  }
  if (inherited_fd < 0 && ep.port() != 0) {
    if (auto why = probe_free_address(ep.data(), static_cast<socklen_t>(ep.size()), SOCK_STREAM);
        !why.empty()) {
      error = "cannot listen on " + format_endpoint(where) + ": " + why +
              " (another process listens there)";
      return nullptr;
    }
  }
  for (std::size_t i = 0; inherited_fd < 0 && i < threads.size(); ++i) {
    auto w = std::make_unique<worker>(threads.context(i), routes, table.shard(i), kind, limits);
    w->max_sessions = std::max<std::size_t>(1, limits.max_connections / threads.size());
    std::string why;
    if (!open_acceptor(w->acceptor, ep, why)) {
      error = "cannot listen on " + format_endpoint(where) + ": " + why;
      return nullptr;
    }
    if (i == 0) {
      // Port 0: the others join the port the kernel picked for the first.
      ep.port(w->acceptor.local_endpoint().port());
      p->bound.port = ep.port();
    }
    p->workers.push_back(std::move(w));
  }
  for (std::size_t i = 0; i < p->workers.size(); ++i) {
    asio::post(threads.context(i), [w = p->workers[i].get()] { w->do_accept(); });
  }
  return std::unique_ptr<http_listener>(new http_listener(std::move(p)));
}

void http_listener::stop() {
  for (std::size_t i = 0; i < impl_->workers.size(); ++i) {
    impl_->threads.run_on(i, [w = impl_->workers[i].get()] { w->stop(); });
  }
}

void http_listener::close_all() {
  for (std::size_t i = 0; i < impl_->workers.size(); ++i) {
    impl_->threads.run_on(i, [w = impl_->workers[i].get()] { w->close_all(); });
  }
}

void handle_raw_requests(std::string_view bytes, const router& routes, counter_shard& shard,
                         transport kind, const http_limits& limits, std::string& out) {
  request_data req;
  http_response res;
  std::string head;
  while (!bytes.empty()) {
    // What a session does per request: a fresh parser over the bytes received
    // so far; the input is everything the peer sent, so "need more" means EOF.
    request_parser parser(req);
    parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes));
    parser.body_limit(limits.body_bytes);
    error_code ec;
    bool eof = false;
    while (!parser.is_done() && !ec) {
      if (bytes.empty() || eof) {
        // The peer sent nothing more: EOF, as http::read handles it.
        if (!parser.got_some()) return;  // end_of_stream: closed without an answer
        parser.put_eof(ec);
        if (!ec && !parser.is_done()) ec = http::error::partial_message;
        break;
      }
      const std::size_t used = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
      bytes.remove_prefix(used);
      if (ec == http::error::need_more) ec = {};
      if (used == 0 && !ec) eof = true;  // what is left can never complete the request
    }
    bool keep_alive = false;
    bool head_only = false;
    if (ec) {
      shard.reject(kind, reject_reason::malformed);
      answer_broken_request(ec, res);
    } else {
      const http_request_view view{
          req.method,        req.target,     req.content_type,    req.body,
          "127.0.0.1",       req.user_agent, req.x_forwarded_for, req.forwarded,
          req.if_none_match, req.origin,     req.authorization};
      res.reset();
      routes.handle(view, res, shard);
      head_only = req.method == "HEAD";
      keep_alive = parser.keep_alive();
    }
    format_head(head, res, keep_alive);
    out += head;
    if (!head_only) out += res.payload();
    if (!keep_alive) return;
  }
}

}  // namespace pvc
