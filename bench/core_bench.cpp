// In-process benchmarks of pvcd's hot path and flush path (Google Benchmark).
// Run: build/release/bench/pvc_core_bench  (see bench/RESULTS.md for figures)
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/counter_table.hpp"
#include "core/hit_parser.hpp"
#include "core/json_text.hpp"
#include "core/title_table.hpp"
#include "core/udp_datagram.hpp"
#include "flush/flusher.hpp"
#include "ingest/beacon_titles.hpp"
#include "ingest/visitor_tracker.hpp"
#include "read/embedded_reader.hpp"
#include "read/top_lists.hpp"
#include "serve/routes.hpp"
#include "store/store.hpp"
#include "zipf.hpp"

namespace {

using pvc::bench::zipf_sample;

std::string article_id(std::uint32_t i) {
  std::string id = "/tin-tuc/2026/11/bai-viet-";
  id += std::to_string(i);
  return id;
}

std::string line_for(std::uint32_t i) {
  std::string line = "baochinhphu ";
  line += article_id(i);
  return line;
}

// Lines "site article\n" for ids drawn from Zipf over `n` articles.
std::vector<std::string> zipf_lines(std::uint64_t n, std::size_t count) {
  std::vector<std::string> lines;
  lines.reserve(count);
  for (std::uint32_t id : zipf_sample(n, 1.0, count, 42)) {
    lines.push_back(line_for(id));
  }
  return lines;
}

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    path = std::filesystem::temp_directory_path() /
           ("pvc_bench_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
};

void BM_parse_http_query(benchmark::State& state) {
  const std::string query = "s=baochinhphu&a=%2Ftin-tuc%2F2026%2F11%2Fbai-viet-12345&_=1732700000";
  pvc::hit_scratch scratch;
  for (auto _ : state) {
    auto r = pvc::parse_http_hit(query, {}, scratch);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_parse_http_query);

// What every beacon pays since titles: looking for title= in its query
// (a beacon without one, the usual case).
void BM_beacon_title_lookup(benchmark::State& state) {
  const std::string target =
      "/hit?s=baochinhphu&a=%2Ftin-tuc%2F2026%2F11%2Fbai-viet-12345&_=1732700000";
  const std::string_view query = std::string_view(target).substr(5);
  pvc::http_request_view req;
  req.target = target;
  for (auto _ : state) {
    auto t = pvc::raw_beacon_title(req, query);
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_beacon_title_lookup);

// A titled beacon of an article whose title is already known (every view
// of a page that sends its title): a shared lock and a hash compare.
void BM_title_offer_unchanged(benchmark::State& state) {
  static pvc::title_table titles({1'000'000, 1'000'000, 3600});
  const std::string title = "Giới thiệu chung về tỉnh Sóc Trăng";
  if (state.thread_index() == 0) titles.offer("soctrang.gov.vn", "/gioi-thieu", title, 1);
  for (auto _ : state) {
    auto v = titles.offer("soctrang.gov.vn", "/gioi-thieu", title, 2);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_title_offer_unchanged)->Threads(1)->Threads(2)->UseRealTime();

void BM_parse_udp_line(benchmark::State& state) {
  const std::string line = "baochinhphu /tin-tuc/2026/11/bai-viet-12345 3";
  pvc::hit_scratch scratch;
  for (auto _ : state) {
    auto r = pvc::parse_udp_line(line, scratch);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_parse_udp_line);

// A Vietnamese article id (UTF-8): the ids that leave the SWAR/SSE2 scan for
// the UTF-8 validator.
void BM_parse_http_query_utf8(benchmark::State& state) {
  const std::string query =
      "s=baochinhphu&a=%2Ftin-t%E1%BB%A9c%2F2026%2F11%2Fb%C3%A0i-vi%E1%BA%BFt-12345&_=1732700000";
  pvc::hit_scratch scratch;
  if (!pvc::parse_http_hit(query, {}, scratch).ok) state.SkipWithError("the id is refused");
  for (auto _ : state) {
    auto r = pvc::parse_http_hit(query, {}, scratch);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_parse_http_query_utf8);

void BM_parse_udp_line_utf8(benchmark::State& state) {
  const std::string line = "baochinhphu /tin-tức/2026/11/bài-viết-12345 3";
  pvc::hit_scratch scratch;
  if (!pvc::parse_udp_line(line, scratch).ok) state.SkipWithError("the id is refused");
  for (auto _ : state) {
    auto r = pvc::parse_udp_line(line, scratch);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_parse_udp_line_utf8);

// Each benchmark thread owns one shard, as each I/O thread does in pvcd.
struct shared_table {
  pvc::site_registry sites{1000};
  pvc::counter_table table{2, sites, 20000};
};

// Runs `count(shard, i)` for item i of `items` round and round; each call
// counts `hits_per_item` hits.
template <class Items, class Count>
void count_items(benchmark::State& state, const Items& items, std::size_t hits_per_item,
                 Count&& count) {
  // Thread 0 makes a fresh table before the loop; every thread's loop starts
  // together (Google Benchmark's start barrier), so the others see it inside.
  // Replacing it frees the previous run's table, which no thread uses any more.
  static std::unique_ptr<shared_table> t;
  if (state.thread_index() == 0) t = std::make_unique<shared_table>();
  pvc::counter_shard* shard = nullptr;
  std::size_t i = 0;
  for (auto _ : state) {
    if (!shard) shard = &t->table.shard(static_cast<std::size_t>(state.thread_index()));
    count(*shard, items[i]);
    if (++i == items.size()) i = 0;
  }
  const auto hits = static_cast<double>(state.iterations() * hits_per_item);
  state.SetItemsProcessed(static_cast<std::int64_t>(hits));
  state.counters["hits_per_s"] = benchmark::Counter(hits, benchmark::Counter::kIsRate);
}

// One line per call: the shape of HTTP beacons (one hit per request).
void count_lines(benchmark::State& state, const std::vector<std::string>& lines) {
  pvc::hit_scratch scratch;
  count_items(state, lines, 1, [&](pvc::counter_shard& shard, const std::string& line) {
    auto r = pvc::parse_udp_line(line, scratch);
    shard.record(r.value, pvc::transport::udp);
  });
}

// Whole datagrams of `lines_per_datagram` lines through the UDP listener's
// own code (count_udp_datagram): parse, batch, prefetch, count.
constexpr std::size_t lines_per_datagram = 30;  // ~1,400 bytes of these lines

std::vector<std::string> datagrams_of(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i + lines_per_datagram <= lines.size(); i += lines_per_datagram) {
    std::string d;
    for (std::size_t j = i; j < i + lines_per_datagram; ++j)
      d.append(lines[j]).push_back('\n');
    out.push_back(std::move(d));
  }
  return out;
}

// `warm_input`: the next datagram's bytes are prefetched while one is
// counted. The listener's datagrams are in the CPU cache (recvmmsg has just
// copied them into its buffers); a benchmark cycling through 45 MB of
// pre-built datagrams otherwise also measures reading them from memory
// (perf: a third of the parse time on the first load of each 16 bytes).
void count_datagrams(benchmark::State& state, const std::vector<std::string>& datagrams,
                     bool warm_input = false) {
  auto batch = std::make_unique<pvc::udp_batch>();
  const std::string* end = datagrams.data() + datagrams.size();
  count_items(state, datagrams, lines_per_datagram,
              [&](pvc::counter_shard& shard, const std::string& datagram) {
                if (const std::string* next = &datagram + 1; warm_input && next != end) {
                  for (std::size_t at = 0; at < next->size(); at += 64)
                    __builtin_prefetch(next->data() + at);
                }
                pvc::count_udp_datagram(datagram, shard, *batch);
              });
}

const std::vector<std::string>& zipf_1M_lines() {
  static const auto lines = zipf_lines(1'000'000, 1 << 20);
  return lines;
}

const std::vector<std::string>& uniform_1M_lines() {
  static const auto lines = [] {
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::uint32_t> d(0, 999'999);
    std::vector<std::string> v;
    for (int i = 0; i < (1 << 20); ++i)
      v.push_back(line_for(d(rng)));
    return v;
  }();
  return lines;
}

void BM_count_zipf_1M(benchmark::State& state) {
  count_lines(state, zipf_1M_lines());
}
BENCHMARK(BM_count_zipf_1M)->Threads(1)->Threads(2)->UseRealTime();

void BM_count_zipf_1M_datagrams(benchmark::State& state) {
  static const auto datagrams = datagrams_of(zipf_1M_lines());
  count_datagrams(state, datagrams);
}
BENCHMARK(BM_count_zipf_1M_datagrams)->Threads(1)->Threads(2)->UseRealTime();

void BM_count_zipf_1M_datagrams_warm(benchmark::State& state) {
  static const auto datagrams = datagrams_of(zipf_1M_lines());
  count_datagrams(state, datagrams, true);
}
BENCHMARK(BM_count_zipf_1M_datagrams_warm)->Threads(1)->Threads(2)->UseRealTime();

// One line per datagram, 32 datagrams per call through one udp_counter: the
// UDP listener's work per recvmmsg batch when each beacon is its own datagram.
void BM_count_zipf_1M_one_line_datagrams(benchmark::State& state) {
  constexpr std::size_t per_receive = 32;
  const std::vector<std::string>& lines = zipf_1M_lines();
  static const auto batches = [&] {
    std::vector<std::span<const std::string>> out;
    for (std::size_t i = 0; i + per_receive <= lines.size(); i += per_receive)
      out.emplace_back(lines.data() + i, per_receive);
    return out;
  }();
  auto batch = std::make_unique<pvc::udp_batch>();
  count_items(state, batches, per_receive,
              [&](pvc::counter_shard& shard, std::span<const std::string> datagrams) {
                pvc::udp_counter counter(shard, *batch);
                for (const std::string& d : datagrams)
                  counter.count(d);
                counter.finish();
              });
}
BENCHMARK(BM_count_zipf_1M_one_line_datagrams)->Threads(1)->UseRealTime();

void BM_count_uniform_1M(benchmark::State& state) {
  count_lines(state, uniform_1M_lines());
}
BENCHMARK(BM_count_uniform_1M)->Threads(1)->Threads(2)->UseRealTime();

void BM_count_uniform_1M_datagrams(benchmark::State& state) {
  static const auto datagrams = datagrams_of(uniform_1M_lines());
  count_datagrams(state, datagrams);
}
BENCHMARK(BM_count_uniform_1M_datagrams)->Threads(1)->Threads(2)->UseRealTime();

void BM_count_hot_article(benchmark::State& state) {
  static const std::vector<std::string> lines = {line_for(1)};
  count_lines(state, lines);
}
BENCHMARK(BM_count_hot_article)->Threads(1)->Threads(2)->UseRealTime();

void BM_count_hot_article_datagrams(benchmark::State& state) {
  static const auto datagrams =
      datagrams_of(std::vector<std::string>(lines_per_datagram, line_for(1)));
  count_datagrams(state, datagrams);
}
BENCHMARK(BM_count_hot_article_datagrams)->Threads(1)->Threads(2)->UseRealTime();

// The hand-written counter table against boost::unordered_flat_map (Boost's
// open-addressing map) on the same Zipf lines, one line per call, both
// behind the same parser, one thread: what the table's own layout is worth.
// The map does less than the table (one count per key; no day, transport or
// per-site figures), so its rate is an upper bound for a map-based table.
const std::vector<std::string>& zipf_lines_over(std::int64_t articles) {
  static const auto lines_100k = zipf_lines(100'000, 1 << 20);
  return articles == 100'000 ? lines_100k : zipf_1M_lines();
}

void BM_table_vs_map_counter_table(benchmark::State& state) {
  count_lines(state, zipf_lines_over(state.range(0)));
}
BENCHMARK(BM_table_vs_map_counter_table)->Arg(100'000)->Arg(1'000'000)->UseRealTime();

// Heterogeneous lookup: a hit already counted allocates nothing, as in the table.
struct string_key_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
struct string_key_equal {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
};

// The rates of a loop that counts one hit per iteration, and the keys it saw.
void report_one_hit_per_iteration(benchmark::State& state, std::size_t keys) {
  state.SetItemsProcessed(state.iterations());
  state.counters["hits_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["keys"] = static_cast<double>(keys);
}

void BM_table_vs_map_boost_flat_map(benchmark::State& state) {
  const std::vector<std::string>& lines = zipf_lines_over(state.range(0));
  boost::unordered_flat_map<std::string, std::uint64_t, string_key_hash, string_key_equal> counts;
  pvc::hit_scratch scratch;
  std::string key;
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = pvc::parse_udp_line(lines[i], scratch);
    key.assign(r.value.site).push_back('\0');
    key.append(r.value.article);
    if (auto it = counts.find(std::string_view(key)); it != counts.end())
      it->second += r.value.count;
    else
      counts.emplace(key, r.value.count);
    if (++i == lines.size()) i = 0;
  }
  report_one_hit_per_iteration(state, counts.size());
}
BENCHMARK(BM_table_vs_map_boost_flat_map)->Arg(100'000)->Arg(1'000'000)->UseRealTime();

// The floor under the one-line-per-call rows: the least an exact table can
// do per hit, with every choice made for it by an oracle. Each line is parsed
// as above, then its key's record (a count and the article's bytes, as the
// table keeps them) is compared and counted at a place known in advance: no
// hash, no slot, no probe, and the records packed hottest first, the layout
// that keeps the most hits in the caches. Any table that stores each key once
// and checks it on every hit (exact counting must) does at least this, so
// this rate bounds the counter table's and the map's from above.
void BM_table_vs_map_layout_floor(benchmark::State& state) {
  const std::vector<std::string>& lines = zipf_lines_over(state.range(0));
  pvc::hit_scratch scratch;
  const auto article_of = [&](const std::string& line) {
    return std::string(pvc::parse_udp_line(line, scratch).value.article);
  };
  std::unordered_map<std::string, std::uint32_t> hits_of;
  for (const std::string& line : lines)
    ++hits_of[article_of(line)];
  std::vector<std::pair<std::uint32_t, std::string>> by_heat;
  for (auto& [article, hits] : hits_of)
    by_heat.emplace_back(hits, article);
  std::sort(by_heat.begin(), by_heat.end(), std::greater<>());
  constexpr std::size_t count_bytes = 8;
  std::vector<char> records;
  std::unordered_map<std::string, std::uint32_t> record_of;
  for (const auto& [hits, article] : by_heat) {
    record_of[article] = static_cast<std::uint32_t>(records.size());
    records.insert(records.end(), count_bytes, '\0');
    records.insert(records.end(), article.begin(), article.end());
  }
  std::vector<std::uint32_t> record_of_line;
  for (const std::string& line : lines)
    record_of_line.push_back(record_of[article_of(line)]);

  std::size_t i = 0;
  for (auto _ : state) {
    const pvc::hit h = pvc::parse_udp_line(lines[i], scratch).value;
    char* record = records.data() + record_of_line[i];
    if (!pvc::bytes_equal(record + count_bytes, h.article.data(), h.article.size())) [[unlikely]] {
      state.SkipWithError("a line met another key's record");
      break;
    }
    std::uint64_t count;
    std::memcpy(&count, record, count_bytes);
    count += h.count;
    std::memcpy(record, &count, count_bytes);
    if (++i == lines.size()) i = 0;
  }
  report_one_hit_per_iteration(state, by_heat.size());
}
BENCHMARK(BM_table_vs_map_layout_floor)->Arg(100'000)->Arg(1'000'000)->UseRealTime();

// The latency of one load that misses the caches, for the floor of the
// one-line-per-call rows: a chase through cache lines in one random cycle
// over `bytes` (each load's address comes from the one before, as a probe's
// record address comes from its slot), so no prefetcher and no overlap helps.
// The 1M-id Zipf lines hold ~225k keys: a 4 MiB slot array and ~9 MiB of key
// records, against 1 MiB of L2 per core.
void BM_dependent_load(benchmark::State& state) {
  struct alignas(64) line {
    std::uint32_t next;
  };
  const auto lines = static_cast<std::size_t>(state.range(0)) / sizeof(line);
  std::vector<line> ring(lines);
  // Sattolo's shuffle: one cycle through every line.
  std::vector<std::uint32_t> order(lines);
  for (std::uint32_t i = 0; i < lines; ++i)
    order[i] = i;
  std::mt19937 rng(11);
  for (std::size_t i = lines - 1; i > 0; --i)
    std::swap(order[i], order[std::uniform_int_distribution<std::size_t>(0, i - 1)(rng)]);
  for (std::size_t i = 0; i < lines; ++i)
    ring[order[i]].next = order[(i + 1) % lines];
  std::uint32_t at = order[0];
  for (auto _ : state) {
    at = ring[at].next;
    benchmark::DoNotOptimize(at);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_dependent_load)->Arg(256 << 10)->Arg(4 << 20)->Arg(16 << 20)->Arg(64 << 20);

// Drain 1M dirty keys from a shard and write them to RocksDB in one batch.
void BM_flush_1M_keys(benchmark::State& state) {
  const std::size_t keys = static_cast<std::size_t>(state.range(0));
  temp_dir dir;
  std::string err;
  auto db = pvc::store::open(dir.path.string(), {false}, err);
  pvc::site_registry sites(10);
  pvc::counter_table table(1, sites, 20000);
  pvc::flusher f(
      table, *db, [](std::size_t, std::function<void()> fn) { fn(); },
      [] { return std::chrono::system_clock::time_point{}; });
  double worst_drain_ms = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (std::uint32_t i = 0; i < keys; ++i) {
      const std::string a = article_id(i);
      table.shard(0).record({"baochinhphu", a, 1}, pvc::transport::udp);
    }
    state.ResumeTiming();
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::unique_ptr<pvc::delta_table>> out;
    table.shard(0).drain(out);  // what the I/O thread pays
    worst_drain_ms = std::max(
        worst_drain_ms,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    for (auto& t : out)
      table.shard(0).recycle(std::move(t));
    // Refill what we just took, then time a whole flush as pvcd does it.
    state.PauseTiming();
    for (std::uint32_t i = 0; i < keys; ++i) {
      const std::string a = article_id(i);
      table.shard(0).record({"baochinhphu", a, 1}, pvc::transport::udp);
    }
    state.ResumeTiming();
    auto e = f.flush_once();
    if (!e.empty()) state.SkipWithError(e.c_str());
  }
  state.counters["keys"] = static_cast<double>(keys);
  state.counters["drain_stall_ms"] = worst_drain_ms;
}
BENCHMARK(BM_flush_1M_keys)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_render_views(benchmark::State& state) {
  temp_dir dir;
  std::string err;
  auto db = pvc::store::open(dir.path.string(), {false}, err);
  pvc::site_registry sites(10);
  pvc::counter_table table(1, sites, 20000);
  pvc::flusher f(
      table, *db, [](std::size_t, std::function<void()> fn) { fn(); },
      [] { return std::chrono::system_clock::time_point{}; });
  for (std::uint32_t i = 0; i < 1000; ++i) {
    const std::string a = article_id(i);
    table.shard(0).record({"baochinhphu", a, i + 1}, pvc::transport::udp);
  }
  f.flush_once();
  pvc::visitor_tracker visitors(table, 1, {});
  pvc::top_lists tops(
      *db, [&table] { return table.current_day(); }, std::chrono::seconds(10));
  pvc::embedded_reader reads(*db, table, visitors.visitors(), tops);
  pvc::route_context ctx{reads, table, [] { return std::string(); }};
  pvc::router r(pvc::router::role::public_api, ctx);
  std::string target = "/api/v1/views?s=baochinhphu";
  for (int i = 0; i < state.range(0); ++i)
    target += "&a=" + article_id(static_cast<std::uint32_t>(i * 7));
  pvc::http_response res;
  for (auto _ : state) {
    res.reset();
    r.handle({"GET", target, "", ""}, res, table.shard(0));
    benchmark::DoNotOptimize(res.body.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_render_views)->Arg(1)->Arg(10);

// The /api/v1/widget body alone, written as read_routes.cpp writes it and
// with Boost.JSON: the same bytes (checked), to see what the library costs
// on the route a portal page calls on every load (bench/RESULTS.md).
struct widget_figures {
  std::string site = "baochinhphu", article = "tin-tuc-2026-11-05-000123";
  std::uint64_t online = 1234, today = 987654, yesterday = 1234567, this_month = 23456789,
                total = 3456789012, a_total = 45678, a_today = 321, v_today = 54321,
                v_yesterday = 65432, v_month = 765432;
};

void widget_hand(std::string& out, const widget_figures& w) {
  out.clear();
  out += "{\"site\":";
  pvc::append_json_string(out, w.site);
  fmt::format_to(std::back_inserter(out),
                 ",\"online\":{},\"today\":{},\"yesterday\":{},\"this_month\":{},\"total\":{}",
                 w.online, w.today, w.yesterday, w.this_month, w.total);
  out += ",\"article\":{\"id\":";
  pvc::append_json_string(out, w.article);
  fmt::format_to(std::back_inserter(out), ",\"total\":{},\"today\":{}}}", w.a_total, w.a_today);
  fmt::format_to(std::back_inserter(out),
                 ",\"visitors\":{{\"today\":{},\"yesterday\":{},\"this_month\":{}}}}}", w.v_today,
                 w.v_yesterday, w.v_month);
}

void widget_boost_json(std::string& out, const widget_figures& w) {
  out = boost::json::serialize(boost::json::object{
      {"site", w.site},
      {"online", w.online},
      {"today", w.today},
      {"yesterday", w.yesterday},
      {"this_month", w.this_month},
      {"total", w.total},
      {"article", {{"id", w.article}, {"total", w.a_total}, {"today", w.a_today}}},
      {"visitors",
       {{"today", w.v_today}, {"yesterday", w.v_yesterday}, {"this_month", w.v_month}}}});
}

template <void (*render)(std::string&, const widget_figures&)>
void BM_render_widget(benchmark::State& state) {
  const widget_figures w;
  std::string a, b;
  widget_hand(a, w);
  widget_boost_json(b, w);
  if (a != b) return state.SkipWithError("the two renderings differ");
  std::string out;
  for (auto _ : state) {
    render(out, w);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_render_widget<widget_hand>)->Name("BM_render_widget_hand");
BENCHMARK(BM_render_widget<widget_boost_json>)->Name("BM_render_widget_boost_json");

}  // namespace

BENCHMARK_MAIN();
