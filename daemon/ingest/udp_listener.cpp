#include "ingest/udp_listener.hpp"

#include <linux/sock_diag.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <vector>

#include "core/counter_table.hpp"
#include "core/udp_datagram.hpp"
#include "ingest/io_threads.hpp"
#include "ingest/listen_sockets.hpp"

namespace pvc {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using error_code = boost::system::error_code;

// Datagrams per recvmmsg call: enough to amortise the syscall, small enough
// that other work on the thread (HTTP, flush hand-offs) waits little.
constexpr std::size_t batch_size = 32;
// At least the largest UDP payload (65,527 bytes), so no datagram is ever truncated.
constexpr std::size_t max_datagram = 65536;
// Batches per wake-up before yielding back to the event loop.
constexpr int batches_per_wake = 16;
// How often a worker reads its socket's kernel drop count. A timer, not a
// per-datagram SO_RXQ_OVFL control message: at one hit per datagram that
// message cost ~8% of the listener's CPU (perf: __sock_recv_cmsgs), and the
// metric only needs to be fresh to a scrape interval.
constexpr auto drop_check_interval = std::chrono::milliseconds(100);
// The pause before receiving again after a failed receive.
constexpr auto retry_after_error = std::chrono::milliseconds(100);

class worker {
 public:
  // `reports_drops`: this worker's socket is its own (SO_REUSEPORT), or it is
  // the first of the workers sharing one socket: a shared socket's drops are
  // reported once, not once per worker.
  worker(asio::io_context& ctx, counter_shard& shard, bool reports_drops)
      : socket_(ctx),
        shard_(shard),
        drop_timer_(ctx),
        retry_timer_(ctx),
        reports_drops_(reports_drops),
        first_(max_datagram),
        buffers_(batch_size * max_datagram) {
    // Set once: with no name and no control data, recvmmsg only writes
    // msg_len (and msg_flags) back, so the headers stay valid across calls.
    for (std::size_t i = 0; i < batch_size; ++i) {
      iov_[i] = {buffers_.data() + i * max_datagram, max_datagram};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
    }
  }

  udp::socket& socket() { return socket_; }

  void start() {
    wait();
    if (reports_drops_) watch_drops();
  }

  void stop() {
    stopping_ = true;
    drain(4096);  // what the kernel already holds was sent before the stop (bounded: a sender may
                  // not stop)
    drop_timer_.cancel();
    retry_timer_.cancel();
    if (reports_drops_) read_drops();
    error_code ignored;
    socket_.close(ignored);
  }

 private:
  // Waits for the next datagram by receiving it. Asio tries a receive at
  // once and, when the queue is empty, waits on the edge-triggered epoll
  // registration it made when the socket opened. async_wait(wait_read) would
  // do neither: it re-arms with epoll_ctl(MOD) on every wait, ~5% of the
  // listener's CPU at one hit per datagram (perf: do_epoll_ctl).
  void wait() {
    socket_.async_receive(asio::buffer(first_), [this](error_code ec, std::size_t n) {
      if (ec == asio::error::operation_aborted || (ec && stopping_)) return;
      if (ec) {
        // A failed receive (ENOMEM, say) does not end the listener: it
        // tries again shortly, without spinning on a persistent error.
        spdlog::error("event=udp_receive_failed error=\"{}\" retry_in_ms={}", ec.message(),
                      retry_after_error.count());
        retry_timer_.expires_after(retry_after_error);
        retry_timer_.async_wait([this](error_code timer_ec) {
          if (!timer_ec && !stopping_) wait();
        });
        return;
      }
      // Received by the reactor before stop() ran, when the handler runs
      // after it: counted, as main() runs the handlers still queued before
      // the final flush (io_threads::run_leftovers).
      count_udp_datagram({first_.data(), n}, shard_, batch_);
      // Added after its lines are counted (here and in drain), so a scrape
      // that sees a datagram sees its lines' results too.
      shard_.stats().udp_datagrams.add(1);
      if (stopping_) return;
      drain(batches_per_wake);
      wait();
    });
  }

  void watch_drops() {
    drop_timer_.expires_after(drop_check_interval);
    drop_timer_.async_wait([this](error_code ec) {
      if (ec || stopping_) return;
      read_drops();
      watch_drops();
    });
  }

  // The socket's drop counter (sk_drops, the value SO_RXQ_OVFL would carry).
  void read_drops() {
    std::array<std::uint32_t, SK_MEMINFO_VARS> info{};
    socklen_t len = sizeof info;
    if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_MEMINFO, info.data(), &len) == 0 &&
        len > SK_MEMINFO_DROPS * sizeof(std::uint32_t)) {
      shard_.stats().udp_kernel_drops.set(info[SK_MEMINFO_DROPS]);
    }
  }

  void drain(int max_batches) {
    for (int b = 0; b < max_batches; ++b) {
      const int n =
          ::recvmmsg(socket_.native_handle(), msgs_.data(), batch_size, MSG_DONTWAIT, nullptr);
      if (n <= 0) return;                   // EAGAIN: the queue is empty
      udp_counter counter(shard_, batch_);  // the lines of all n datagrams, in batches
      for (int i = 0; i < n; ++i) {
        counter.count({static_cast<const char*>(iov_[i].iov_base), msgs_[i].msg_len});
      }
      counter.finish();  // before the next recvmmsg reuses the buffers
      shard_.stats().udp_datagrams.add(static_cast<std::uint64_t>(n));
      if (static_cast<std::size_t>(n) < batch_size) return;
    }
  }

  udp::socket socket_;
  counter_shard& shard_;
  asio::steady_timer drop_timer_;
  asio::steady_timer retry_timer_;
  bool reports_drops_;
  std::vector<char> first_;  // the datagram that ends a wait
  std::vector<char> buffers_;
  std::array<iovec, batch_size> iov_{};
  std::array<mmsghdr, batch_size> msgs_{};
  udp_batch batch_;
  bool stopping_ = false;
};

// The kernel queue a socket pvcd bound itself gets (a socket from systemd
// has the unit's ReceiveBuffer=).
void size_receive_buffer(int fd, const udp_options& o) {
  int want = static_cast<int>(o.receive_buffer);
  // SO_RCVBUFFORCE passes net.core.rmem_max when pvcd has CAP_NET_ADMIN;
  // without it, fall back to the capped SO_RCVBUF.
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
  }
  int got = 0;
  socklen_t len = sizeof got;
  ::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len);
  // Linux reports twice the usable size; net.core.rmem_max caps the request.
  if (got / 2 < want) {
    spdlog::warn("event=udp_rcvbuf_capped wanted={} got={} hint=\"raise net.core.rmem_max\"", want,
                 got / 2);
  }
}

}  // namespace

struct udp_listener::impl {
  io_threads& threads;
  endpoint bound;
  std::vector<std::unique_ptr<worker>> workers;
};

udp_listener::udp_listener(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
udp_listener::~udp_listener() = default;

const endpoint& udp_listener::bound() const noexcept {
  return impl_->bound;
}

std::unique_ptr<udp_listener> udp_listener::start(io_threads& threads, const endpoint& where,
                                                  counter_table& table, const udp_options& options,
                                                  int inherited_fd, std::string& error) {
  auto p = std::make_unique<impl>(impl{threads, where, {}});
  std::vector<int> fds;
  error = open_listen_sockets(threads.size(), where, SOCK_DGRAM, inherited_fd, fds, p->bound);
  if (!error.empty()) return nullptr;
  for (std::size_t i = 0; i < threads.size(); ++i) {
    // With one socket from systemd, only the first thread reads its drop count.
    auto w =
        std::make_unique<worker>(threads.context(i), table.shard(i), inherited_fd < 0 || i == 0);
    if (inherited_fd < 0) size_receive_buffer(fds[i], options);
    error_code ec;
    w->socket().assign(p->bound.host.find(':') != std::string::npos ? udp::v6() : udp::v4(), fds[i],
                       ec);
    if (!ec) w->socket().non_blocking(true, ec);
    if (ec) {
      error = "cannot use the UDP socket: " + ec.message();
      for (std::size_t j = i + 1; j < fds.size(); ++j)
        ::close(fds[j]);
      return nullptr;
    }
    p->workers.push_back(std::move(w));
  }
  for (std::size_t i = 0; i < p->workers.size(); ++i) {
    asio::post(threads.context(i), [w = p->workers[i].get()] { w->start(); });
  }
  return std::unique_ptr<udp_listener>(new udp_listener(std::move(p)));
}

void udp_listener::stop() {
  for (std::size_t i = 0; i < impl_->workers.size(); ++i) {
    impl_->threads.run_on(i, [w = impl_->workers[i].get()] { w->stop(); });
  }
}

}  // namespace pvc
