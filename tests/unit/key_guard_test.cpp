// Key caps: known keys always pass; new keys only within the budget and the cap.
#include "core/key_guard.hpp"

#include <gtest/gtest.h>

namespace {

using clock_type = std::chrono::steady_clock;

struct fake_clock {
  clock_type::time_point now{};
  pvc::key_guard::clock_fn fn() {
    return [this] { return now; };
  }
};

TEST(KeyGuard, KnownKeysAlwaysPassEvenWithTheBudgetSpent) {
  fake_clock c;
  pvc::key_guard g(1000, 10, c.fn());
  g.preload(42);
  for (std::uint64_t k = 1000; k < 1010; ++k)
    EXPECT_TRUE(g.admit(k));  // spends the 10 tokens
  EXPECT_FALSE(g.admit(5000));
  for (int i = 0; i < 100; ++i)
    EXPECT_TRUE(g.admit(42));
  for (std::uint64_t k = 1000; k < 1010; ++k)
    EXPECT_TRUE(g.admit(k)) << "admitted keys are known";
  EXPECT_EQ(g.known(), 11u);
}

TEST(KeyGuard, BudgetRefillsWithTime) {
  fake_clock c;
  pvc::key_guard g(1'000'000, 100, c.fn());
  std::uint64_t next = 1;
  int admitted = 0;
  for (int i = 0; i < 1000; ++i)
    admitted += g.admit(next++);
  EXPECT_EQ(admitted, 100);
  c.now += std::chrono::milliseconds(500);  // half a second: 50 more
  admitted = 0;
  for (int i = 0; i < 1000; ++i)
    admitted += g.admit(next++);
  EXPECT_EQ(admitted, 50);
  c.now += std::chrono::seconds(10);  // the bucket holds at most one second's worth
  admitted = 0;
  for (int i = 0; i < 1000; ++i)
    admitted += g.admit(next++);
  EXPECT_EQ(admitted, 100);
}

TEST(KeyGuard, CapOnKnownKeys) {
  fake_clock c;
  pvc::key_guard g(1000, 1'000'000, c.fn());
  int admitted = 0;
  for (std::uint64_t k = 1; k <= 5000; ++k)
    admitted += g.admit(k * 0x9e3779b97f4a7c15ULL);
  EXPECT_EQ(admitted, 1000);
  EXPECT_EQ(g.known(), 1000u);
  EXPECT_TRUE(g.admit(1 * 0x9e3779b97f4a7c15ULL)) << "a known key still passes at the cap";
}

TEST(KeyGuard, ManyKeysStayFindableAndMemoryIsBounded) {
  fake_clock c;
  pvc::key_guard g(2'000'000, 10'000'000, c.fn());
  for (std::uint64_t k = 1; k <= 1'000'000; ++k)
    g.preload(k * 0x9e3779b97f4a7c15ULL);
  EXPECT_EQ(g.known(), 1'000'000u);
  for (std::uint64_t k = 1; k <= 1'000'000; k += 997) {
    ASSERT_TRUE(g.admit(k * 0x9e3779b97f4a7c15ULL));
  }
  EXPECT_EQ(g.known(), 1'000'000u) << "re-admitting known keys adds none";
  EXPECT_LE(g.memory_bytes(), 1'000'000u * 32) << "about 16 bytes per key, 32 at worst";
}

TEST(KeyGuard, ZeroFingerprintIsAKeyLikeAnyOther) {
  fake_clock c;
  pvc::key_guard g(10, 10, c.fn());
  EXPECT_TRUE(g.admit(0));
  EXPECT_TRUE(g.admit(0));
  EXPECT_EQ(g.known(), 1u);
}

}  // namespace
