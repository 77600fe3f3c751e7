#include "ingest/udp_listener.hpp"

#include <linux/sock_diag.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "core/counter_table.hpp"
#include "core/udp_datagram.hpp"
#include "ingest/io_threads.hpp"
#include "ingest/listen_sockets.hpp"

namespace pvc {
namespace {

namespace asio = boost::asio;
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

// Gathering. While datagrams keep coming, a worker that has emptied its
// queue waits gather_wait before the next drain, with the socket out of the
// event loop's sight, so that one wake-up takes what arrived meanwhile
// instead of a wake-up per datagram. A wake-up (epoll_wait returning, the
// scheduler, the receive that ends in EAGAIN, the timer) costs about what the
// datagram it brings does, and more in a VM (bench/RESULTS.md, issue 20).
// 1 ms, not less: at 150,000 one-hit datagrams a second a 200 us wait left
// pvcd at 1.07x the raw sink's CPU a datagram, 1 ms at 0.87x (A/B, same VM).
// Hits reach the counter table about gather_wait later (plus what else the
// thread is running): far inside a flush interval (10 ms at least).
constexpr auto gather_wait = std::chrono::milliseconds(1);
// Traffic is steady, worth starting to gather for, when a wake-up comes
// within steady_gap of the last one that found datagrams: 5,000 datagrams a
// second or more, so the first wait brings about five. Once gathering, a
// worker goes on while each wait finds something: down to about 1,000 a
// second, where a wait brings one or two, and a wake-up a millisecond is
// still no more than a wake-up per datagram. Sparser traffic waits in epoll,
// so a quiet listener pays no timer wake-ups.
constexpr auto steady_gap = std::chrono::microseconds(200);
// Gathering needs room in the kernel queue for what arrives during the wait.
// With less (SO_RCVBUF capped by net.core.rmem_max) a worker never waits.
// 4 MiB (the kernel lets a queue hold twice that) takes what 1 ms brings at
// the most one core could count: about 1,300 small datagrams (792 ns of CPU
// a datagram at full rate, bench/RESULTS.md), a few MiB at worst with a NIC's
// page-sized buffers; and a drain that reaches its cap goes on at once.
constexpr std::size_t min_buffer_to_gather = 4u << 20;

// The receive buffer a socket was granted, in bytes usable for datagrams.
std::size_t granted_receive_buffer(int fd) {
  int got = 0;
  socklen_t len = sizeof got;
  ::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len);
  return static_cast<std::size_t>(got) / 2;  // Linux reports twice the usable size
}

// One socket and the thread that reads it. The socket is not registered with
// the event loop itself: it sits alone in a private epoll set, and the loop
// watches that set's descriptor. A worker that gathers registers the socket
// one-shot: each wait re-arms it and the wake-up that ends the wait disarms
// it, so while the worker gathers, arriving datagrams wake nobody. (Asio's
// own registration of a socket is edge-triggered and permanent: every
// datagram would end the loop's epoll_wait, gathering or not.) A worker that
// does not gather registers it level-triggered, once: the set is ready while
// the queue holds a datagram, and a wait costs no re-arm.
class worker {
 public:
  // `reports_drops`: this worker's socket is its own (SO_REUSEPORT), or it is
  // the first of the workers sharing one socket: a shared socket's drops are
  // reported once, not once per worker. Takes ownership of `fd`.
  worker(asio::io_context& ctx, int fd, counter_shard& shard, bool reports_drops)
      : fd_(fd),
        readiness_(ctx),
        shard_(shard),
        drop_timer_(ctx),
        retry_timer_(ctx),
        gather_timer_(ctx),
        reports_drops_(reports_drops),
        buffers_(batch_size * max_datagram) {
    // Set once: with no name and no control data, recvmmsg only writes
    // msg_len (and msg_flags) back, so the headers stay valid across calls.
    for (std::size_t i = 0; i < batch_size; ++i) {
      iov_[i] = {buffers_.data() + i * max_datagram, max_datagram};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
    }
  }
  ~worker() { close_socket(); }
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  // The private epoll set, holding the socket; "" or why it failed.
  std::string open() {
    const int set = ::epoll_create1(EPOLL_CLOEXEC);
    if (set < 0) return std::strerror(errno);
    error_code ec;
    readiness_.assign(set, ec);
    if (ec) {
      ::close(set);
      return ec.message();
    }
    gathers_ = granted_receive_buffer(fd_) >= min_buffer_to_gather;
    epoll_event ev{};
    ev.events = registration();
    if (::epoll_ctl(set, EPOLL_CTL_ADD, fd_, &ev) != 0) return std::strerror(errno);
    return {};
  }

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
    gather_timer_.cancel();
    if (reports_drops_) read_drops();
    error_code ignored;
    readiness_.close(ignored);
    close_socket();
  }

 private:
  // What one drain() took.
  struct drained {
    std::size_t datagrams = 0;
    bool capped = false;  // stopped after max_batches full batches: more may be queued
    int error = 0;        // errno of a failed receive (not EAGAIN)
  };

  std::uint32_t registration() const { return gathers_ ? EPOLLIN | EPOLLONESHOT : EPOLLIN; }

  // Waits in the event loop until the socket has a datagram. A datagram
  // queued before the wait starts ends it at once: re-arming the one-shot
  // registration checks the socket, and so does the EPOLL_CTL_MOD that Asio
  // issues for every async_wait on a descriptor (epoll_reactor::start_op,
  // Boost 1.81), which re-checks the set itself.
  void wait() {
    if (gathers_) {
      epoll_event ev{};
      ev.events = registration();
      if (::epoll_ctl(readiness_.native_handle(), EPOLL_CTL_MOD, fd_, &ev) != 0)
        return retry_later("udp_wait_failed", errno);
    }
    readiness_.async_wait(asio::posix::descriptor_base::wait_read, [this](error_code ec) {
      if (ec == asio::error::operation_aborted || stopping_) return;
      if (ec) return retry_later("udp_wait_failed", ec.value());
      if (gathers_) {
        // Takes the set's event, which disarms the one-shot registration.
        // With a socket shared by several workers (systemd's), another one
        // may have emptied the queue first: then there is no event, the
        // registration stays armed, and the drain below finds nothing.
        epoll_event got;
        ::epoll_wait(readiness_.native_handle(), &got, 1, 0);
      }
      receive(clock::now() - last_found_ < steady_gap);
    });
  }

  // Drains the queue, then decides how to wait for more: at once when the
  // drain stopped at its cap (after the loop's other work), gathering when
  // traffic is steady, else in epoll.
  void receive(bool steady) {
    const drained d = drain(batches_per_wake);
    if (d.datagrams != 0) {
      shard_.stats().udp_wakeups.add(1);
      last_found_ = clock::now();
    }
    if (d.error != 0) return retry_later("udp_receive_failed", d.error);
    if (d.datagrams == 0) return wait();  // nothing came (after a gather: the traffic paused)
    if (d.capped) {
      asio::post(readiness_.get_executor(), [this] {
        if (!stopping_) receive(true);
      });
    } else if (gathers_ && steady) {
      gather_timer_.expires_after(gather_wait);
      gather_timer_.async_wait([this](error_code ec) {
        if (!ec && !stopping_) receive(true);
      });
    } else {
      wait();
    }
  }

  // A failed receive (ENOMEM, say) or wait does not end the listener: it
  // tries again shortly, without spinning on a persistent error.
  void retry_later(const char* event, int error) {
    spdlog::error("event={} error=\"{}\" retry_in_ms={}", event, std::strerror(error),
                  retry_after_error.count());
    retry_timer_.expires_after(retry_after_error);
    retry_timer_.async_wait([this](error_code ec) {
      if (!ec && !stopping_) wait();
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
    if (::getsockopt(fd_, SOL_SOCKET, SO_MEMINFO, info.data(), &len) == 0 &&
        len > SK_MEMINFO_DROPS * sizeof(std::uint32_t)) {
      shard_.stats().udp_kernel_drops.set(info[SK_MEMINFO_DROPS]);
    }
  }

  drained drain(int max_batches) {
    drained d;
    for (int b = 0; b < max_batches; ++b) {
      const int n = ::recvmmsg(fd_, msgs_.data(), batch_size, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) d.error = errno;
        return d;
      }
      if (n == 0) return d;
      udp_counter counter(shard_, batch_);  // the lines of all n datagrams, in batches
      for (int i = 0; i < n; ++i) {
        counter.count({static_cast<const char*>(iov_[i].iov_base), msgs_[i].msg_len});
      }
      counter.finish();  // before the next recvmmsg reuses the buffers
      // Added after its lines are counted, so a scrape that sees a datagram
      // sees its lines' results too.
      shard_.stats().udp_datagrams.add(static_cast<std::uint64_t>(n));
      d.datagrams += static_cast<std::size_t>(n);
      if (static_cast<std::size_t>(n) < batch_size) return d;
    }
    d.capped = true;
    return d;
  }

  void close_socket() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  using clock = std::chrono::steady_clock;

  int fd_;
  asio::posix::stream_descriptor readiness_;  // the private epoll set
  counter_shard& shard_;
  asio::steady_timer drop_timer_;
  asio::steady_timer retry_timer_;
  asio::steady_timer gather_timer_;
  bool reports_drops_;
  bool gathers_ = false;            // the kernel queue has room to gather in (open())
  clock::time_point last_found_{};  // the last wake-up that found datagrams
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
  // net.core.rmem_max caps the request.
  if (const std::size_t got = granted_receive_buffer(fd); got < o.receive_buffer) {
    spdlog::warn("event=udp_rcvbuf_capped wanted={} got={} hint=\"raise net.core.rmem_max\"", want,
                 got);
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
    if (inherited_fd < 0) size_receive_buffer(fds[i], options);
    // With one socket from systemd, only the first thread reads its drop count.
    auto w = std::make_unique<worker>(threads.context(i), fds[i], table.shard(i),
                                      inherited_fd < 0 || i == 0);
    if (const std::string why = w->open(); !why.empty()) {
      error = "cannot watch the UDP socket: " + why;
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
