#include "ingest/http_server.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <unordered_set>

#include "core/counter_table.hpp"
#include "ingest/http_request_reader.hpp"
#include "ingest/io_threads.hpp"
#include "ingest/listen_sockets.hpp"
#include "serve/routes.hpp"

namespace pvc {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using std::chrono::steady_clock;

// Sockets and timers bound to their thread's io_context by type: each
// operation then skips the type-erased executor (any_io_executor) that
// perf showed at several percent of a beacon's user-space time.
using executor = asio::io_context::executor_type;
using socket_type = asio::basic_stream_socket<tcp, executor>;
using acceptor_type = asio::basic_socket_acceptor<tcp, executor>;
using timer_type =
    asio::basic_waitable_timer<steady_clock, asio::wait_traits<steady_clock>, executor>;

// Requests answered in one go from bytes already received (pipelining)
// before the session lets the thread's other connections run.
constexpr int max_answers_per_turn = 16;

class session;

// Everything of one listener that lives on one I/O thread.
struct worker {
  worker(asio::io_context& c, const router& r, counter_shard& s, transport k, const http_limits& l)
      : ctx(c), acceptor(c), retry_timer(c), routes(r), shard(s), kind(k), limits(l) {}

  asio::io_context& ctx;
  acceptor_type acceptor;
  timer_type retry_timer;
  const router& routes;
  counter_shard& shard;
  transport kind;
  http_limits limits;
  std::unordered_set<session*> sessions;
  std::size_t max_sessions = 1;  // this thread's share of the listener's connection limit
  bool stopping = false;

  void do_accept();
  void on_accept(error_code ec, socket_type socket);
  void stop();
  void close_all();
  void make_room();
};

class session : public std::enable_shared_from_this<session> {
 public:
  session(socket_type socket, worker& w)
      : socket_(std::move(socket)),
        timer_(w.ctx),
        w_(w),
        reader_(w.limits.header_bytes, w.limits.body_bytes) {
    w_.sessions.insert(this);
    w_.shard.stats().http_connections.add(1);
  }
  ~session() {
    w_.sessions.erase(this);
    w_.shard.stats().http_connections.add(-1);  // unsigned wrap-around: a decrement
  }

  // When the current read or write times out: the least recently active connection has
  // the earliest deadline.
  steady_clock::time_point deadline() const noexcept { return deadline_; }
  bool is_open() const noexcept { return socket_.is_open(); }

  void start() {
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    // Answers are sent at once (see send_answer); a send that would block
    // returns instead of waiting.
    socket_.non_blocking(true, ignored);
    const auto remote = socket_.remote_endpoint(ignored);
    if (!ignored) {
      const auto a = remote.address();
      // An IPv4 client on a dual-stack socket is reported as itself.
      peer_ = a.is_v6() && a.to_v6().is_v4_mapped()
                  ? asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string()
                  : a.to_string();
    }
    deadline_ = steady_clock::now() + w_.limits.idle_timeout;
    arm_timer();
    receive();
  }

  // Called when the listener stops: an idle connection closes now, a busy
  // one after its response.
  void stop() {
    if (receiving_ && reader_.between_requests()) close();
  }

  void close() {
    error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
  }

 private:
  // The deadline is not moved by the bytes of a request arriving, only by
  // an answer: a request dripped a byte at a time still times out.
  void receive() {
    receiving_ = true;
    const std::span<char> space = reader_.receive_space();
    socket_.async_read_some(
        asio::buffer(space.data(), space.size()),
        [self = shared_from_this()](error_code ec, std::size_t n) { self->on_receive(ec, n); });
  }

  void on_receive(error_code ec, std::size_t n) {
    receiving_ = false;
    // stop() or make_room() may have closed the socket after the request arrived
    // but before this handler ran: no answer can go out, so it must not count.
    if (!socket_.is_open()) return close();
    if (!ec) {
      reader_.received(n);
      return serve(reader_.parse());
    }
    if (ec == asio::error::eof) return serve(reader_.end_of_input());
    close();  // reset, aborted: nobody to answer
  }

  // Answers every whole request received so far, up to a turn's worth,
  // then receives more, or waits for a send the kernel could not take at once.
  void serve(request_reader::step step) {
    using step_t = request_reader::step;
    for (int answered = 0;; ++answered) {
      if (step == step_t::need_more) return receive();
      if (step == step_t::closed) return close();
      if (answered == max_answers_per_turn) {
        asio::post(socket_.get_executor(), [self = shared_from_this(), step] {
          // As in on_receive: closed meanwhile, the request must not count.
          if (!self->socket_.is_open()) return self->close();
          self->serve(step);
        });
        return;
      }
      started_ = steady_clock::now();
      const answer_plan plan = answer(step, reader_, peer_, w_.routes, w_.shard, w_.kind, res_);
      keep_alive_ = plan.keep_alive && !w_.stopping;
      head_only_ = plan.head_only;
      if (!send_answer()) return;  // on_sent continues
      if (!answer_sent()) return;
      step = reader_.parse();
    }
  }

  // Sends the answer now if the kernel takes all of it, which it nearly
  // always does: one send, no completion to queue. Else sends the rest
  // asynchronously and returns false (on_sent continues).
  bool send_answer() {
    const std::string_view head = head_.of(res_, keep_alive_);
    const std::string_view payload = head_only_ ? std::string_view{} : res_.payload();
    std::array<asio::const_buffer, 2> buffers = {asio::buffer(head.data(), head.size()),
                                                 asio::buffer(payload.data(), payload.size())};
    error_code ec;
    const std::size_t sent = socket_.write_some(buffers, ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      observe_answer();
      close();
      return false;
    }
    if (sent == head.size() + payload.size()) return true;
    // What is left: the rest of the head and the payload, or the rest of the payload.
    if (sent < head.size()) {
      buffers[0] += sent;
    } else {
      buffers[0] = asio::const_buffer{};
      buffers[1] += sent - head.size();
    }
    deadline_ = steady_clock::now() + w_.limits.idle_timeout;
    asio::async_write(socket_, buffers,
                      [self = shared_from_this()](error_code e, std::size_t) { self->on_sent(e); });
    return false;
  }

  void on_sent(error_code ec) {
    // Closed meanwhile (the idle timer, an eviction): a request still in the
    // buffer must not count, as in on_receive.
    if (ec || !socket_.is_open()) {
      observe_answer();
      return close();
    }
    if (answer_sent()) serve(reader_.parse());
  }

  // Latency as the client sees it, from a complete request to the answer
  // written (or the connection lost).
  steady_clock::time_point observe_answer() {
    const auto now = steady_clock::now();
    w_.shard.stats().observe_http(
        res_.route, res_.status,
        static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - started_).count()));
    return now;
  }

  // After an answer went out in full: records its latency and gets ready for
  // the next request. False when the connection closes instead.
  bool answer_sent() {
    const auto now = observe_answer();
    if (!keep_alive_) {
      error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_send, ignored);
      close();
      return false;
    }
    deadline_ = now + w_.limits.idle_timeout;
    reader_.next_request();
    return true;
  }

  // One timer per connection, re-armed lazily: activity only moves
  // `deadline_`, so a busy keep-alive connection costs no timer operation
  // per request.
  void arm_timer() {
    timer_.expires_at(deadline_);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || !self->socket_.is_open()) return;
      if (steady_clock::now() >= self->deadline_) return self->close();
      self->arm_timer();
    });
  }

  socket_type socket_;
  timer_type timer_;
  worker& w_;
  request_reader reader_;
  std::string peer_;
  http_response res_;
  answer_head head_;
  steady_clock::time_point deadline_;
  steady_clock::time_point started_;
  bool receiving_ = false;
  bool keep_alive_ = true;
  bool head_only_ = false;
};

void worker::do_accept() {
  acceptor.async_accept(ctx, [this](error_code ec, socket_type s) { on_accept(ec, std::move(s)); });
}

void worker::on_accept(error_code ec, socket_type socket) {
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
  std::vector<int> fds;
  error = open_listen_sockets(threads.size(), where, SOCK_STREAM, inherited_fd, fds, p->bound);
  if (!error.empty()) return nullptr;
  for (std::size_t i = 0; i < threads.size(); ++i) {
    auto w = std::make_unique<worker>(threads.context(i), routes, table.shard(i), kind, limits);
    w->max_sessions = std::max<std::size_t>(1, limits.max_connections / threads.size());
    error_code ec;
    w->acceptor.assign(p->bound.host.find(':') != std::string::npos ? tcp::v6() : tcp::v4(), fds[i],
                       ec);
    if (ec) {
      error = "cannot use the listening socket: " + ec.message();
      for (std::size_t j = i; j < fds.size(); ++j)
        ::close(fds[j]);
      return nullptr;
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

}  // namespace pvc
