// pvload: a load generator for pvcd (and for the comparison peers).
//
//   pvload udp  --target 127.0.0.1:8080 [--lines-per-datagram 1 | --datagram-bytes 1400]
//   pvload http --target 127.0.0.1:8080 --connections 64
//   common: --sites S --articles N --zipf 1.0 --rate HITS_PER_S (0 = as fast as possible)
//           --article-format "/tin-tuc/bai-{}.html"
//           --seconds T --max-hits M --threads K --seed X
//
// Ids are drawn from Zipf(N, s) for articles and uniformly over sites. It
// stops by itself at --seconds or --max-hits, whichever comes first, and
// prints one line: mode=... sent_hits=N acked_hits=N datagrams=N seconds=S rate=R.
// For HTTP, acked_hits counts 2xx answers: the hits pvcd confirmed counting.
// With --expect FILE it also writes the per-(site, article) counts it sent,
// as "site article count" lines, so a test can compare exactly.
// With --progress FILE it samples its totals every 5 ms and writes them as
// "MONOTONIC_NS SENT ACKED" lines (CLOCK_MONOTONIC, like steady_clock and
// Python's time.monotonic_ns), so a crash test knows what was acknowledged
// before a given moment. SIGINT/SIGTERM end the run early but cleanly: the
// summary, --expect and --progress files are still written.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/config_values.hpp"
#include "zipf.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

// Set by SIGINT/SIGTERM: senders stop at their next pacing check.
volatile sig_atomic_t stop_requested = 0;

struct options {
  std::string mode;
  std::string target = "127.0.0.1:8080";
  unsigned sites = 3;
  unsigned articles = 1000;
  double zipf = 1.0;
  double rate = 0;
  double seconds = 10;
  std::uint64_t max_hits = 0;  // 0 = unbounded (time-bounded only)
  unsigned threads = 1;
  unsigned connections = 16;
  unsigned lines_per_datagram = 1;
  unsigned datagram_bytes = 0;
  std::uint64_t seed = 1;
  std::string expect_file;
  std::string progress_file;
  std::string site_prefix = "site";
  // Article N's id is this with "{}" replaced by N (the compare bench sends
  // the portals' own shape, "/tin-tuc/bai-{}.html").
  std::string article_format = "/news/2026/article-{}";
  bool sequential = false;        // every article once, in order (memory per key)
  unsigned sequential_sites = 1;  // --sequential keys dealt round-robin over this many sites
};

struct results {
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> acked{0};
  std::atomic<std::uint64_t> datagrams{0};
  std::atomic<std::uint64_t> errors{0};
  std::mutex expect_mutex;
  std::map<std::pair<unsigned, unsigned>, std::uint64_t> expected;  // (site, article) -> acked
};

std::string article_name(const options& o, unsigned a) {
  const auto at = o.article_format.find("{}");
  if (at == std::string::npos) return o.article_format + std::to_string(a);
  return o.article_format.substr(0, at) + std::to_string(a) + o.article_format.substr(at + 2);
}

// Pre-drawn (site, article) pairs, cycled through: drawing costs nothing at send time.
struct id_stream {
  std::vector<std::uint32_t> articles;
  std::vector<std::uint32_t> sites;
  std::size_t pos = 0;
  id_stream(const options& o, std::uint64_t seed)
      : sequential(o.sequential), n_articles(o.articles), sequential_sites(o.sequential_sites) {
    articles = pvc::bench::zipf_sample(o.articles, o.zipf, 1 << 16, seed);
    std::mt19937 rng(static_cast<unsigned>(seed * 7919));
    std::uniform_int_distribution<std::uint32_t> d(0, o.sites - 1);
    sites.resize(articles.size());
    for (auto& s : sites)
      s = d(rng);
    // Their UDP lines too, formatted once: at ~10M lines/s a sender that
    // formatted each line (two allocations) would measure itself, not pvcd.
    if (!sequential) {
      lines.reserve(articles.size());
      for (std::size_t i = 0; i < articles.size(); ++i)
        lines.push_back(udp_line(o, sites[i], articles[i]));
    }
  }
  std::vector<std::string> lines;
  std::string seq_line;
  static std::string udp_line(const options& o, unsigned s, unsigned a) {
    return o.site_prefix + std::to_string(s) + " " + article_name(o, a) + "\n";
  }
  // next(), and its line "SITE ARTICLE\n" (valid until the next call).
  std::pair<unsigned, unsigned> next_line(const options& o, std::string_view& line) {
    if (sequential) {
      const auto k = next();
      seq_line = udp_line(o, k.first, k.second);
      line = seq_line;
      return k;
    }
    line = lines[pos];
    return next();
  }
  bool sequential = false;
  unsigned n_articles = 0;
  unsigned sequential_sites = 1;
  std::uint64_t seq = 0;
  std::pair<unsigned, unsigned> next() {
    if (sequential) {
      // Key k is article k / S of site k % S: N distinct keys over S sites.
      const auto k = static_cast<unsigned>(seq++ % n_articles);
      return {k % sequential_sites, k / sequential_sites};
    }
    auto r = std::make_pair(sites[pos], articles[pos]);
    if (++pos == articles.size()) pos = 0;
    return r;
  }
};

// Paces a sender to its share of --rate; returns false when time or hits ran out.
class pacer {
 public:
  pacer(const options& o, results& r, clock_type::time_point start, unsigned share)
      : o_(o), r_(r), start_(start), per_second_(o.rate / share) {}
  bool more(std::uint64_t mine) {
    const auto now = clock_type::now();
    if (stop_requested || now - start_ >= std::chrono::duration<double>(o_.seconds)) return false;
    if (o_.max_hits && r_.sent.load(std::memory_order_relaxed) >= o_.max_hits) return false;
    if (per_second_ > 0) {
      const auto due = start_ + std::chrono::duration_cast<clock_type::duration>(
                                    std::chrono::duration<double>(mine / per_second_));
      if (due > now) std::this_thread::sleep_until(due);
    }
    return true;
  }

 private:
  const options& o_;
  results& r_;
  clock_type::time_point start_;
  double per_second_;
};

sockaddr_in to_sockaddr(const pvc::endpoint& e) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(e.port);
  ::inet_pton(AF_INET, e.host.c_str(), &a.sin_addr);
  return a;
}

void udp_sender(const options& o, results& r, const pvc::endpoint& e, unsigned index,
                clock_type::time_point start) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to = to_sockaddr(e);
  ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
  id_stream ids(o, o.seed + index);
  pacer pace(o, r, start, o.threads);
  constexpr std::size_t batch = 32;
  std::vector<std::string> payloads(batch);
  std::vector<iovec> iov(batch);
  std::vector<mmsghdr> msgs(batch);
  std::map<std::pair<unsigned, unsigned>, std::uint64_t> mine;
  std::uint64_t hits = 0;
  for (;;) {
    // Build a batch of datagrams, each holding whole lines.
    std::size_t n = 0;
    std::uint64_t batch_hits = 0;
    bool done = false;
    for (; n < batch; ++n) {
      if (!pace.more(hits + batch_hits)) {
        done = true;
        break;
      }
      std::string& p = payloads[n];
      p.clear();
      unsigned lines = 0;
      for (;;) {
        if (o.max_hits && r.sent.load() + batch_hits >= o.max_hits) break;
        std::string_view line;
        auto [s, a] = ids.next_line(o, line);
        if (o.datagram_bytes ? p.size() + line.size() > o.datagram_bytes && lines > 0
                             : lines == o.lines_per_datagram) {
          // Put the id back for the next datagram.
          if (ids.sequential)
            --ids.seq;
          else
            ids.pos = ids.pos == 0 ? ids.articles.size() - 1 : ids.pos - 1;
          break;
        }
        p += line;
        ++lines;
        ++batch_hits;
        if (!o.expect_file.empty()) ++mine[{s, a}];
      }
      if (lines == 0) {
        done = true;
        break;
      }
      iov[n] = {p.data(), p.size()};
      msgs[n].msg_hdr = {};
      msgs[n].msg_hdr.msg_iov = &iov[n];
      msgs[n].msg_hdr.msg_iovlen = 1;
    }
    std::size_t off = 0;
    while (off < n) {
      int sent = ::sendmmsg(fd, msgs.data() + off, static_cast<unsigned>(n - off), 0);
      if (sent <= 0) {
        r.errors.fetch_add(1);
        break;
      }
      off += static_cast<std::size_t>(sent);
    }
    hits += batch_hits;
    r.sent.fetch_add(batch_hits);
    r.datagrams.fetch_add(n);
    if (done) break;
  }
  ::close(fd);
  std::lock_guard lock(r.expect_mutex);
  for (auto& [k, v] : mine)
    r.expected[k] += v;
}

// One keep-alive connection: send a GET /hit, read the answer, repeat.
void http_connection(const options& o, results& r, const pvc::endpoint& e, unsigned index,
                     clock_type::time_point start) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to = to_sockaddr(e);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    r.errors.fetch_add(1);
    ::close(fd);
    return;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  id_stream ids(o, o.seed + 1000 + index);
  pacer pace(o, r, start, o.connections);
  std::map<std::pair<unsigned, unsigned>, std::uint64_t> mine;
  std::string req, in;
  char buf[4096];
  std::uint64_t hits = 0;
  while (pace.more(hits)) {
    if (o.max_hits && r.sent.fetch_add(1) >= o.max_hits) break;
    if (!o.max_hits) r.sent.fetch_add(1);
    auto [s, a] = ids.next();
    req = "GET /hit?s=" + o.site_prefix + std::to_string(s) + "&a=" + article_name(o, a) +
          " HTTP/1.1\r\nHost: pvcd\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
      r.errors.fetch_add(1);
      break;
    }
    ++hits;
    // Answers from pvcd /hit carry no body (204) or a Content-Length body.
    in.clear();
    bool ok = false, failed = false;
    for (;;) {
      auto head_end = in.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::size_t body = 0;
        auto cl = in.find("Content-Length: ");
        if (cl != std::string::npos && cl < head_end) body = std::stoul(in.substr(cl + 16));
        if (in.size() >= head_end + 4 + body) {
          ok = in.compare(9, 1, "2") == 0;
          break;
        }
      }
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        failed = true;
        break;
      }
      in.append(buf, static_cast<std::size_t>(n));
    }
    if (failed) {
      r.errors.fetch_add(1);
      break;
    }
    if (ok) {
      r.acked.fetch_add(1);
      if (!o.expect_file.empty()) ++mine[{s, a}];
    }
  }
  ::close(fd);
  std::lock_guard lock(r.expect_mutex);
  for (auto& [k, v] : mine)
    r.expected[k] += v;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"pvload - page-view load generator for pvcd (loopback benchmarks and tests)"};
  app.require_subcommand(1);
  auto add_common = [&](CLI::App* c) {
    c->add_option("--target", o.target, "HOST:PORT to send to");
    c->add_option("--sites", o.sites, "number of sites (uniform)")->check(CLI::Range(1u, 100000u));
    c->add_option("--articles", o.articles, "number of articles (Zipf)")
        ->check(CLI::Range(1u, 100000000u));
    c->add_option("--zipf", o.zipf, "Zipf exponent s");
    c->add_option("--rate", o.rate, "hits per second in total (0 = as fast as possible)");
    c->add_option("--seconds", o.seconds, "stop after this long")->check(CLI::Range(0.01, 3600.0));
    c->add_option("--max-hits", o.max_hits, "stop after this many hits (0 = no limit)");
    c->add_option("--seed", o.seed, "random seed");
    c->add_option("--site-prefix", o.site_prefix, "site ids are PREFIX0, PREFIX1, ...");
    c->add_option("--article-format", o.article_format,
                  "article ids: this with {} replaced by the article's number");
    c->add_option("--expect", o.expect_file, "write 'site article count' of what was acknowledged");
    c->add_option("--progress", o.progress_file,
                  "write 'MONOTONIC_NS SENT ACKED' samples taken every 5 ms");
  };
  auto* udp = app.add_subcommand("udp", "UDP lines 'SITE ARTICLE'");
  add_common(udp);
  udp->add_option("--threads", o.threads, "sending threads")->check(CLI::Range(1u, 64u));
  udp->add_option("--lines-per-datagram", o.lines_per_datagram, "lines in each datagram")
      ->check(CLI::Range(1u, 10000u));
  udp->add_flag("--sequential", o.sequential,
                "send articles 0..N-1 of site 0 in order (with --threads 1: each once per round)");
  udp->add_option("--sequential-sites", o.sequential_sites,
                  "with --sequential: deal the N keys round-robin over this many sites")
      ->check(CLI::Range(1u, 100000u));
  udp->add_option("--datagram-bytes", o.datagram_bytes,
                  "fill datagrams up to this size instead (e.g. 1400)")
      ->check(CLI::Range(64u, 65000u));
  auto* http = app.add_subcommand("http", "HTTP/1.1 keep-alive GET /hit");
  add_common(http);
  http->add_option("--connections", o.connections, "keep-alive connections")
      ->check(CLI::Range(1u, 1024u));
  CLI11_PARSE(app, argc, argv);
  o.mode = udp->parsed() ? "udp" : "http";
  auto e = pvc::parse_endpoint(o.target);
  if (!e) {
    std::fprintf(stderr, "pvload: --target: expected IPv4:PORT\n");
    return 2;
  }
  results r;
  struct sigaction sa {};
  sa.sa_handler = [](int) { stop_requested = 1; };
  sa.sa_flags = SA_RESTART;  // a reply being read is still read (and counted as acked)
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  std::vector<std::thread> workers;
  const auto start = clock_type::now();
  // Progress samples, kept in memory and written at the end (bounded: 200 a second).
  struct sample {
    std::int64_t ns;
    std::uint64_t sent, acked;
  };
  std::vector<sample> samples;
  std::atomic<bool> sampling{!o.progress_file.empty()};
  std::thread sampler;
  if (sampling) {
    sampler = std::thread([&] {
      while (sampling.load()) {
        // Read the counters first: every ack counted here arrived before `ns`.
        const std::uint64_t acked = r.acked.load(), sent = r.sent.load();
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            clock_type::now().time_since_epoch())
                            .count();
        samples.push_back({ns, sent, acked});
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  if (o.mode == "udp") {
    for (unsigned i = 0; i < o.threads; ++i)
      workers.emplace_back(udp_sender, std::cref(o), std::ref(r), *e, i, start);
  } else {
    for (unsigned i = 0; i < o.connections; ++i)
      workers.emplace_back(http_connection, std::cref(o), std::ref(r), *e, i, start);
  }
  for (auto& w : workers)
    w.join();
  if (sampler.joinable()) {
    sampling = false;
    sampler.join();
  }
  const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  std::uint64_t sent = r.sent.load();
  if (o.max_hits && sent > o.max_hits) sent = o.max_hits;  // HTTP senders reserve before sending
  const std::uint64_t acked = r.acked.load();
  const std::uint64_t counted = o.mode == "udp" ? sent : acked;
  std::printf(
      "mode=%s sent_hits=%llu acked_hits=%llu datagrams=%llu errors=%llu seconds=%.3f "
      "rate=%.0f\n",
      o.mode.c_str(), static_cast<unsigned long long>(sent), static_cast<unsigned long long>(acked),
      static_cast<unsigned long long>(r.datagrams.load()),
      static_cast<unsigned long long>(r.errors.load()), secs, static_cast<double>(counted) / secs);
  if (!o.progress_file.empty()) {
    std::ofstream out(o.progress_file);
    for (const sample& s : samples)
      out << s.ns << ' ' << s.sent << ' ' << s.acked << '\n';
    // A final sample, after every sender has finished.
    out << std::chrono::duration_cast<std::chrono::nanoseconds>(
               clock_type::now().time_since_epoch())
               .count()
        << ' ' << r.sent.load() << ' ' << r.acked.load() << '\n';
  }
  if (!o.expect_file.empty()) {
    std::ofstream out(o.expect_file);
    for (auto& [k, v] : r.expected) {
      out << o.site_prefix << k.first << ' ' << article_name(o, k.second) << ' ' << v << '\n';
    }
  }
  return r.errors.load() == 0 ? 0 : 1;
}
