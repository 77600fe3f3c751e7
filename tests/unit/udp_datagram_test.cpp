#include "core/udp_datagram.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>

namespace pvc {
namespace {

constexpr std::int32_t day1 = 20787;

// Everything a shard shows after counting: drained counts, tracked keys, and
// the UDP stats (accepted hits and views, refusals by reason).
struct outcome {
  std::map<std::tuple<std::int32_t, std::string, std::string>, std::uint64_t> counts;
  std::size_t tracked_keys = 0;
  std::uint64_t hits = 0;
  std::uint64_t views = 0;
  std::array<std::uint64_t, reject_reason_count> rejected{};

  bool operator==(const outcome&) const = default;
};

outcome observe(counter_shard& shard) {
  outcome o;
  const auto udp = static_cast<std::size_t>(transport::udp);
  o.tracked_keys = shard.tracked_keys();
  o.hits = shard.stats().hits_accepted[udp].get();
  o.views = shard.stats().views_accepted[udp].get();
  for (std::size_t r = 0; r < reject_reason_count; ++r)
    o.rejected[r] = shard.stats().hits_rejected[udp][r].get();
  std::vector<std::unique_ptr<delta_table>> tables;
  shard.drain(tables);
  for (const auto& t : tables) {
    t->for_each([&](std::string_view s, std::string_view a, std::uint64_t n) {
      o.counts[{t->day(), std::string(s), std::string(a)}] += n;
    });
  }
  return o;
}

std::string describe(const outcome& o) {
  std::string s = "hits " + std::to_string(o.hits) + ", views " + std::to_string(o.views) +
                  ", keys " + std::to_string(o.tracked_keys) + ", rejected";
  for (auto n : o.rejected)
    s.append(" ").append(std::to_string(n));
  for (const auto& [k, n] : o.counts)
    s.append("\n  ")
        .append(std::get<1>(k))
        .append(" ")
        .append(std::get<2>(k))
        .append(" = ")
        .append(std::to_string(n));
  return s;
}

// Two shards with the same limits (at most 3 sites, so site_limit refusals
// happen): one counts through count_udp_datagram, the other through the
// format's definition, line by line.
struct both_lanes {
  site_registry fast_sites{3};
  site_registry slow_sites{3};
  counter_table fast_table{1, fast_sites, day1};
  counter_table slow_table{1, slow_sites, day1};
  std::unique_ptr<udp_batch> batch = std::make_unique<udp_batch>();
  byte_classifier classifier = best_byte_classifier();

  void count(std::string_view datagram) {
    // An exact-size copy, so a read past the end is a sanitizer report.
    std::unique_ptr<char[]> exact(new char[datagram.size()]);
    std::copy(datagram.begin(), datagram.end(), exact.get());
    udp_counter counter(fast_table.shard(0), *batch, classifier);
    counter.count({exact.get(), datagram.size()});
    counter.finish();
    count_by_lines(datagram);
  }

  // Several datagrams through one udp_counter, as the listener counts one
  // recvmmsg batch: lines wait across datagrams.
  void count_together(const std::vector<std::string>& datagrams) {
    std::vector<std::unique_ptr<char[]>> exact;
    udp_counter counter(fast_table.shard(0), *batch);
    for (const std::string& d : datagrams) {
      exact.emplace_back(new char[d.size()]);
      std::copy(d.begin(), d.end(), exact.back().get());
      counter.count({exact.back().get(), d.size()});
    }
    counter.finish();
    for (const std::string& d : datagrams)
      count_by_lines(d);
  }

  void count_by_lines(std::string_view datagram) {
    counter_shard& slow = slow_table.shard(0);
    if (datagram.empty()) {
      slow.reject(transport::udp, reject_reason::malformed);
      return;
    }
    for_each_udp_line(datagram, [&](std::string_view line) {
      hit_scratch scratch;
      const hit_result r = parse_udp_line(line, scratch);
      if (r.ok) {
        slow.record(r.value, transport::udp);
      } else {
        slow.reject(transport::udp, r.reason);
      }
    });
  }

  void expect_same(std::string_view what) {
    const outcome fast = observe(fast_table.shard(0));
    const outcome slow = observe(slow_table.shard(0));
    EXPECT_EQ(fast, slow) << what << "\nfast: " << describe(fast) << "\nslow: " << describe(slow);
  }
};

TEST(UdpDatagram, CountsLinesAsTheFormatSays) {
  site_registry sites(10);
  counter_table table(1, sites, day1);
  auto batch = std::make_unique<udp_batch>();
  count_udp_datagram("news /a\nnews /a 3\r\nblog %2Fb\nbad\n\nnews /c 0\nnews /a", table.shard(0),
                     *batch);
  const outcome o = observe(table.shard(0));
  EXPECT_EQ(o.hits, 4u);
  EXPECT_EQ(o.views, 6u);
  EXPECT_EQ(o.rejected[static_cast<std::size_t>(reject_reason::malformed)], 2u);  // "bad", ""
  EXPECT_EQ(o.rejected[static_cast<std::size_t>(reject_reason::bad_count)], 1u);
  using key = std::tuple<std::int32_t, std::string, std::string>;
  EXPECT_EQ(o.counts,
            (std::map<key, std::uint64_t>{{{day1, "news", "/a"}, 5}, {{day1, "blog", "/b"}, 1}}));
}

TEST(UdpDatagram, CountsVietnameseIdsRawOrEncodedAsOneArticle) {
  // A line with UTF-8 leaves the fast lane for the line parser, which
  // validates it; raw and %-encoded spellings are one article.
  site_registry sites(10);
  counter_table table(1, sites, day1);
  auto batch = std::make_unique<udp_batch>();
  count_udp_datagram(
      "soctrang.gov.vn /tin-tức/bai-1 1\n"
      "soctrang.gov.vn /tin-t%E1%BB%A9c/bai-1 2\n"
      "soctrang.gov.vn /tin-tuc/bai-2\n"
      "soctrang.gov.vn /tin-t\xe1\xbb 5\n",  // cut short: not UTF-8
      table.shard(0), *batch);
  const outcome o = observe(table.shard(0));
  EXPECT_EQ(o.hits, 3u);
  EXPECT_EQ(o.views, 4u);
  EXPECT_EQ(o.rejected[static_cast<std::size_t>(reject_reason::bad_article)], 1u);
  using key = std::tuple<std::int32_t, std::string, std::string>;
  EXPECT_EQ(o.counts,
            (std::map<key, std::uint64_t>{{{day1, "soctrang.gov.vn", "/tin-tức/bai-1"}, 3},
                                          {{day1, "soctrang.gov.vn", "/tin-tuc/bai-2"}, 1}}));
}

TEST(UdpDatagram, EdgeCasesMatchTheLineParser) {
  const std::string id200(200, 'a'), id201(201, 'a');
  const char* cases[] = {
      "",
      "\n",
      "\n\n",
      "\r\n",
      "a b",
      "a b\n",
      "a b\r",
      "a b\r\r\n",
      "a\rb c",
      "a b\rc",
      " a b",
      "a  b",
      "a b ",
      "a b  1",
      "a b 1 ",
      "a b 1 2",
      "a b 01",
      "a b 1000000",
      "a b 1000001",
      "a b 0",
      "a b -1",
      "a b +1",
      "a b 1x",
      "a b 99999999999",
      "a+b c",
      "a b+c",
      "a%41 b",
      "a b%zz",
      "a b%",
      "a\x7f b",
      "a b\x01",
      "a \xc3\xa9",
      "a \xc3",
      "a \xc3 2",
      "soctrang.gov.vn /tin-tức/bai-1 1",
      "soctrang.gov.vn /tin-tức/bai-1\nsoctrang.gov.vn /tin-tuc/bai-2 2\n",
      "sóc-trăng Giới-thiệu\r\nsóc-trăng Gi\xe1\xbb 2",
      "a \xf0\x9f\x98\x80 3",
      "a \xed\xa0\x80",
      "a \xc2\x80",
      "a\tb c",
      "a b\n\na c",
      "x y\nx y 2\nx y 3\n",
  };
  for (const char* c : cases) {
    both_lanes lanes;
    lanes.count(c);
    lanes.expect_same(std::string("datagram: ") + c);
  }
  for (const std::string& d : {"s " + id200, "s " + id201, id200 + " a", id201 + " a",
                               id200 + " " + id200 + " 7\n" + id201 + " b"}) {
    both_lanes lanes;
    lanes.count(d);
    lanes.expect_same("long ids, datagram of " + std::to_string(d.size()) + " bytes");
  }
}

TEST(UdpDatagram, EveryByteValueInEveryFieldMatchesTheLineParser) {
  // The fast lane's byte classes (separators, bytes needing a closer look)
  // restate ids.hpp's rule; every byte value in each field holds them together.
  for (int c = 0; c < 256; ++c) {
    const std::string b(1, static_cast<char>(c));
    for (const std::string& d : {"s" + b + "t art\n", "site a" + b + "b\n", "site art 2" + b + "\n",
                                 b + " art\n", "site " + b + "\n", "site art " + b}) {
      both_lanes lanes;
      lanes.count(d);
      lanes.expect_same("byte " + std::to_string(c));
    }
    if (HasFailure()) break;
  }
}

TEST(UdpDatagram, LargestClassifiedDatagramsMatchTheLineParser) {
  // 65,535 and 65,536 bytes (the classifier's limit), a line in the first
  // mask word that must take the slow lane, and plain lines up to the end.
  for (std::size_t size : {max_classified_datagram - 1, max_classified_datagram}) {
    std::string d = "a%41 b\nq\x01 r\n";
    while (d.size() < size)
      d += "news /" + std::to_string(d.size() % 977) + "\n";
    d.resize(size);
    both_lanes lanes;
    lanes.count(d);
    lanes.expect_same("datagram of " + std::to_string(size) + " bytes");
  }
}

TEST(UdpDatagram, ManyLinesAcrossBatchesAndMaskWords) {
  // 500 lines: many batches of max_batch, and lines that straddle the
  // classifier's 16- and 64-byte steps at every offset.
  both_lanes lanes;
  std::string d;
  for (int i = 0; i < 500; ++i)
    d += "site" + std::to_string(i % 4) + " /article-" + std::string(i % 37, 'x') + " " +
         std::to_string(i % 5 + 1) + "\n";
  lanes.count(d);
  lanes.expect_same("500 lines");
}

TEST(UdpDatagram, LongerThanTheClassifierTakesTheLinePath) {
  both_lanes lanes;
  std::string d;
  while (d.size() <= max_classified_datagram)
    d += "news /article-" + std::to_string(d.size() % 1000) + "\n";
  lanes.count(d);
  lanes.expect_same("oversized datagram");
}

// Lines assembled from pieces that exercise every branch of both lanes.
struct random_lines {
  const std::vector<std::string> sites = {"a",   "news", "blog",      "shop", "x%2Fy",
                                          "n+s", "\x01", "sóc-trăng", "s\xc3"};
  const std::vector<std::string> articles = {"/",
                                             "/a",
                                             "/tin-tuc/2026/11/bai-viet-1",
                                             "%2Fa",
                                             "/a%2",
                                             "/a+b",
                                             "/\x7f",
                                             "/\xff",
                                             "/tin-tức/bài-1",
                                             "/tin-t%E1%BB%A9c",
                                             "/Gi\xe1\xbb",
                                             "/\xed\xa0\x80",
                                             std::string(200, 'z'),
                                             std::string(201, 'z'),
                                             "/a\r",
                                             ""};
  const std::vector<std::string> counts = {"",   " 1", " 2",   " 1000000", " 1000001",
                                           " 0", " x", " 1 2", "  3",      " "};
  const std::vector<std::string> ends = {"\n", "\r\n", "\n\n", "\r\r\n", ""};
  std::mt19937 rng{20261127};

  int between(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
  const std::string& pick(const std::vector<std::string>& v) {
    return v[static_cast<std::size_t>(between(0, static_cast<int>(v.size()) - 1))];
  }
  std::string datagram(int max_lines) {
    std::string d;
    for (int i = between(1, max_lines); i > 0; --i)
      d += pick(sites) + " " + pick(articles) + pick(counts) + pick(ends);
    return d;
  }
};

TEST(UdpDatagram, RandomDatagramsMatchTheLineParser) {
  random_lines gen;
  for (int round = 0; round < 2000; ++round) {
    both_lanes lanes;
    lanes.count(gen.datagram(80));
    lanes.expect_same("round " + std::to_string(round));
    if (HasFailure()) break;  // one report is enough to debug
  }
}

TEST(UdpDatagram, RandomDatagramsMatchTheLineParserWithEachClassifier) {
  // The other tests use the CPU's best classifier; this one runs the SSE2
  // classifier too where AVX2 is the best, and none (every line through the
  // line parser, as on CPUs without SSE2) everywhere (udp_classify_test
  // holds the masks themselves to the definition).
  for (byte_classifier c : {byte_classifier::none, byte_classifier::sse2, byte_classifier::avx2}) {
    if (!cpu_runs(c)) continue;
    random_lines gen;
    for (int round = 0; round < 500; ++round) {
      both_lanes lanes;
      lanes.classifier = c;
      lanes.count(gen.datagram(80));
      lanes.expect_same("round " + std::to_string(round));
      if (HasFailure()) return;
    }
  }
}

TEST(UdpDatagram, RandomPlainByteDatagramsMatchTheLineParser) {
  // Only id bytes, spaces and LFs: the classifier finds no unusual byte, so
  // no line's own mask check runs, and the line shapes alone (ids over 200
  // bytes, bad COUNTs, extra or missing fields, empty lines) must decide.
  random_lines gen;
  const std::vector<std::string> sites = {"a", "news", "blog", std::string(201, 's')};
  const std::vector<std::string> articles = {
      "/", "/a", "/tin-tuc/2026/11/bai-viet-1", std::string(200, 'z'), std::string(201, 'z'), ""};
  const std::vector<std::string> counts = {"",   " 1",   " 1000000", " 1000001", " 0",
                                           " x", " 1 2", "  3",      " ",        " 01"};
  const std::vector<std::string> ends = {"\n", "\n\n", ""};
  for (int round = 0; round < 1000; ++round) {
    std::string d;
    for (int i = gen.between(1, 60); i > 0; --i)
      d += gen.pick(sites) + " " + gen.pick(articles) + gen.pick(counts) + gen.pick(ends);
    both_lanes lanes;
    lanes.count(d);
    lanes.expect_same("round " + std::to_string(round));
    if (HasFailure()) break;
  }
}

TEST(UdpDatagram, RandomDatagramsThroughOneCounterMatchTheLineParser) {
  // Hits wait in the batch across datagrams, decoded ids in its scratch:
  // many short datagrams per counter fill batches across their boundaries.
  random_lines gen;
  for (int round = 0; round < 500; ++round) {
    both_lanes lanes;
    std::vector<std::string> datagrams;
    for (int i = gen.between(1, 40); i > 0; --i)
      datagrams.push_back(gen.datagram(4));
    lanes.count_together(datagrams);
    lanes.expect_same("round " + std::to_string(round));
    if (HasFailure()) break;
  }
}

}  // namespace
}  // namespace pvc
