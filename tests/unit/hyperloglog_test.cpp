#include "core/hyperloglog.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

#include "core/visitor_id.hpp"

namespace pvc {
namespace {

// Uniform 64-bit values: the SplitMix64 finaliser of i.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

double relative_error(double estimate, double truth) {
  return std::abs(estimate - truth) / truth;
}

// Distinct visitors the way pvcd makes them: a keyed hash of an address and
// a User-Agent, here 1M different addresses.
TEST(HyperLogLog, WithinTwoPercentAtOneMillionDistinctVisitors) {
  const salt s{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  hll_sketch sketch;
  for (std::uint32_t i = 0; i < 1'000'000; ++i) {
    char address[32];
    const int n = std::snprintf(address, sizeof address, "10.%u.%u.%u", (i >> 16) & 0xff,
                                (i >> 8) & 0xff, i & 0xff);
    const std::uint64_t id =
        month_visitor_id(s, std::string_view(address, static_cast<std::size_t>(n)),
                         "Mozilla/5.0 (X11; Linux x86_64)", "baochinhphu");
    sketch.add(id);
    sketch.add(id);  // a second view of the same visitor changes nothing
  }
  const double err = relative_error(sketch.estimate(), 1e6);
  std::printf("hll p=14 n=1000000 estimate=%.0f error=%.3f%%\n", sketch.estimate(), err * 100);
  EXPECT_LT(err, 0.02);
  EXPECT_LE(sketch.memory_bytes(), 16u * 1024u);
}

TEST(HyperLogLog, WithinTwoPercentAcrossCardinalities) {
  // Including 20k-80k, where the classic estimator's switch-over bump sits.
  for (std::uint64_t n :
       {1ULL, 10ULL, 100ULL, 1000ULL, 5000ULL, 20000ULL, 40000ULL, 80000ULL, 200000ULL}) {
    for (std::uint64_t seed : {1ULL, 2ULL, 3ULL}) {
      hll_sketch sketch;
      for (std::uint64_t i = 0; i < n; ++i)
        sketch.add(mix(i * 0x9e3779b97f4a7c15ULL + seed * 0x1234567ULL));
      const double err = relative_error(sketch.estimate(), static_cast<double>(n));
      EXPECT_LT(err, 0.02) << "n=" << n << " seed=" << seed << " estimate=" << sketch.estimate();
    }
  }
}

TEST(HyperLogLog, EmptyIsZero) {
  hll_sketch sketch;
  EXPECT_EQ(sketch.count(), 0u);
  EXPECT_TRUE(sketch.empty());
  atomic_hll shared;
  EXPECT_EQ(shared.estimate(), 0.0);
}

TEST(HyperLogLog, MergeIsTheUnion) {
  hll_sketch a, b, both;
  for (std::uint64_t i = 0; i < 30000; ++i) {
    const std::uint64_t h = mix(i + 1);
    (i % 3 == 0 ? a : b).add(h);
    if (i % 2 == 0) a.add(h);  // overlap
    both.add(h);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), both.count());
  EXPECT_LT(relative_error(a.estimate(), 30000), 0.02);
}

TEST(HyperLogLog, SerializedFormRoundTripsAndBadInputIsRefused) {
  hll_sketch s;
  for (std::uint64_t i = 0; i < 5000; ++i)
    s.add(mix(i));
  const std::string bytes = s.serialize();
  EXPECT_EQ(bytes.size(), 3u + 12288u);  // six bits a register: under 16 KiB stored too
  auto back = hll_sketch::parse(bytes);
  ASSERT_TRUE(back);
  EXPECT_TRUE(
      std::equal(back->registers().begin(), back->registers().end(), s.registers().begin()));
  EXPECT_EQ(back->count(), s.count());
  // Every rank value survives the packing, in every position.
  hll_sketch all(4);
  for (std::size_t i = 0; i < all.register_count(); ++i)
    all.registers()[i] = static_cast<std::uint8_t>((i * 7) % 62);
  auto all_back = hll_sketch::parse(all.serialize());
  ASSERT_TRUE(all_back);
  EXPECT_TRUE(std::equal(all_back->registers().begin(), all_back->registers().end(),
                         all.registers().begin()));
  EXPECT_FALSE(hll_sketch::parse(""));
  EXPECT_FALSE(hll_sketch::parse(bytes.substr(0, bytes.size() - 1)));
  std::string wrong_version = bytes;
  wrong_version[1] = 2;
  EXPECT_FALSE(hll_sketch::parse(wrong_version));
  std::string bad_register = bytes;
  bad_register[3] = static_cast<char>(0x3f);  // register 0 = 63, above 64 - 14 + 1
  EXPECT_FALSE(hll_sketch::parse(bad_register));
}

TEST(HyperLogLog, SharedSketchFromManyThreadsEqualsOnePlainSketch) {
  atomic_hll shared;
  hll_sketch plain;
  constexpr std::uint64_t n = 200000;
  for (std::uint64_t i = 0; i < n; ++i)
    plain.add(mix(i));
  std::vector<std::thread> threads;
  for (std::uint64_t t = 0; t < 4; ++t) {
    threads.emplace_back([&shared, t] {
      // Every thread adds every value, in a different order.
      for (std::uint64_t i = 0; i < n; ++i)
        shared.add(mix((i * 7 + t * 13) % n));
    });
  }
  for (auto& t : threads)
    t.join();
  hll_sketch copy;
  shared.merge_into(copy);
  EXPECT_TRUE(
      std::equal(copy.registers().begin(), copy.registers().end(), plain.registers().begin()));
}

TEST(HyperLogLog, AddReportsOnlyRealChanges) {
  atomic_hll s;
  std::size_t changes = 0;
  for (std::uint64_t i = 0; i < 100000; ++i)
    changes += s.add(mix(i)) ? 1 : 0;
  // Registers only grow, and ever more rarely: about m * ln(n/m) changes.
  EXPECT_LT(changes, 60000u);
  for (std::uint64_t i = 0; i < 100000; ++i)
    EXPECT_FALSE(s.add(mix(i)));
}

}  // namespace
}  // namespace pvc
