// A raw UDP sink: the fastest a single socket per thread can take datagrams
// on this machine (SO_REUSEPORT sockets, recvmmsg in batches, no parsing
// beyond counting LF-terminated lines). The reference pvcd's UDP path is
// measured against in bench/compare.
//
//   udp_sink --listen 127.0.0.1:9999 --threads 2 --seconds 10
// prints: datagrams=N lines=N seconds=S
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "core/config_values.hpp"

namespace {

std::atomic<bool> stop{false};

void on_signal(int) {
  stop = true;
}

struct totals {
  std::atomic<std::uint64_t> datagrams{0};
  std::atomic<std::uint64_t> lines{0};
};

int open_socket(const pvc::endpoint& e, int rcvbuf) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(e.port);
  ::inet_pton(AF_INET, e.host.c_str(), &a.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("bind");
    std::exit(1);
  }
  return fd;
}

// --gather-us: what pvcd's listener does while datagrams keep coming (a wake
// within steady_gap of the last that found datagrams): after emptying the queue,
// wait this long and drain again instead of polling, so one wake-up takes
// what arrived meanwhile. 0, the default, polls after every drain. With the
// same wait as pvcd, the sink's CPU per datagram is the receive pattern's own
// cost, and pvcd's extra over it is its parse, count and flush.
std::chrono::microseconds gather{0};
// pvcd's steady_gap (daemon/ingest/udp_listener.cpp).
constexpr auto steady_gap = std::chrono::microseconds(200);

void receive(int fd, totals& t) {
  constexpr std::size_t batch = 32;
  constexpr std::size_t size = 65536;
  std::vector<char> buf(batch * size);
  std::vector<iovec> iov(batch);
  std::vector<mmsghdr> msgs(batch);
  std::uint64_t datagrams = 0, lines = 0;
  using clock = std::chrono::steady_clock;
  clock::time_point last_found{};
  bool gathering = false;
  while (!stop.load(std::memory_order_relaxed)) {
    bool steady = gathering;
    if (gathering) {
      std::this_thread::sleep_for(gather);
    } else {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      steady = clock::now() - last_found < steady_gap;
    }
    const std::uint64_t before = datagrams;
    for (;;) {
      for (std::size_t i = 0; i < batch; ++i) {
        iov[i] = {buf.data() + i * size, size};
        msgs[i].msg_hdr = {};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int n = ::recvmmsg(fd, msgs.data(), batch, MSG_DONTWAIT, nullptr);
      if (n <= 0) break;
      for (int i = 0; i < n; ++i) {
        const char* d = static_cast<const char*>(iov[i].iov_base);
        const std::size_t len = msgs[i].msg_len;
        std::size_t l = 0;
        for (const char* q = d; (q = static_cast<const char*>(std::memchr(q, '\n', d + len - q)));
             ++q) {
          ++l;
        }
        if (len > 0 && d[len - 1] != '\n') ++l;
        lines += l;
      }
      datagrams += static_cast<std::uint64_t>(n);
      // A short batch emptied the queue: another call would find nothing
      // (pvcd's listener stops here too, so both pay one receive per drain).
      if (static_cast<std::size_t>(n) < batch) break;
    }
    const bool found = datagrams != before;
    if (found) last_found = clock::now();
    gathering = gather.count() > 0 && found && steady;
    t.datagrams.store(datagrams);
    t.lines.store(lines);
  }
  t.datagrams.store(datagrams);
  t.lines.store(lines);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"udp_sink - count UDP datagrams and lines as fast as the kernel delivers them"};
  std::string listen = "127.0.0.1:9999";
  unsigned threads = 1;
  double seconds = 10;
  int rcvbuf = 8 << 20;
  app.add_option("--listen", listen, "HOST:PORT");
  app.add_option("--threads", threads, "sockets/threads (SO_REUSEPORT)");
  app.add_option("--seconds", seconds, "stop after this long (or on SIGTERM/SIGINT)");
  app.add_option("--rcvbuf", rcvbuf, "SO_RCVBUF bytes");
  unsigned gather_us = 0;
  app.add_option("--gather-us", gather_us,
                 "while datagrams keep coming, wait this long after emptying the queue instead "
                 "of polling (pvcd waits 1000); 0 = poll after every drain");
  CLI11_PARSE(app, argc, argv);
  gather = std::chrono::microseconds(gather_us);
  auto e = pvc::parse_endpoint(listen);
  if (!e) {
    std::fprintf(stderr, "udp_sink: bad --listen\n");
    return 2;
  }
  ::signal(SIGTERM, on_signal);
  ::signal(SIGINT, on_signal);
  std::vector<totals> t(threads);
  std::vector<std::thread> workers;
  std::vector<int> fds;
  for (unsigned i = 0; i < threads; ++i)
    fds.push_back(open_socket(*e, rcvbuf));
  std::fprintf(stderr, "udp_sink: listening on %s\n", listen.c_str());
  const auto start = std::chrono::steady_clock::now();
  for (unsigned i = 0; i < threads; ++i)
    workers.emplace_back(receive, fds[i], std::ref(t[i]));
  while (!stop &&
         std::chrono::steady_clock::now() - start < std::chrono::duration<double>(seconds)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop = true;
  for (auto& w : workers)
    w.join();
  std::uint64_t d = 0, l = 0;
  for (auto& x : t) {
    d += x.datagrams;
    l += x.lines;
  }
  std::printf("datagrams=%llu lines=%llu seconds=%.3f\n", static_cast<unsigned long long>(d),
              static_cast<unsigned long long>(l),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  for (int fd : fds)
    ::close(fd);
  return 0;
}
