#include "core/dedupe.hpp"

#include <gtest/gtest.h>

#include "core/hash.hpp"

namespace pvc {
namespace {

using namespace std::chrono_literals;

std::uint64_t key(std::uint64_t visitor, std::string_view article) {
  return hash_bytes(article, visitor);
}

TEST(Dedupe, ARepeatWithinTheWindowCountsOnce) {
  dedupe_table t(30min, 10);
  const std::int64_t t0 = 1000;
  EXPECT_TRUE(t.admit(key(1, "/a"), t0));
  EXPECT_FALSE(t.admit(key(1, "/a"), t0 + 1));
  EXPECT_FALSE(t.admit(key(1, "/a"), t0 + 29 * 60 + 59));
  // The window runs from the view that counted, not from the repeats.
  EXPECT_TRUE(t.admit(key(1, "/a"), t0 + 30 * 60));
  EXPECT_FALSE(t.admit(key(1, "/a"), t0 + 30 * 60 + 5));
}

TEST(Dedupe, OtherArticlesAndOtherVisitorsAreNotRepeats) {
  dedupe_table t(30min, 10);
  EXPECT_TRUE(t.admit(key(1, "/a"), 10));
  EXPECT_TRUE(t.admit(key(1, "/b"), 10));
  EXPECT_TRUE(t.admit(key(2, "/a"), 10));
  EXPECT_FALSE(t.admit(key(2, "/a"), 11));
  EXPECT_FALSE(t.admit(key(1, "/b"), 12));
}

TEST(Dedupe, MemoryIsFixedAndAFullTableNeverRefusesAFirstView) {
  dedupe_table t(1h, 4);  // 16 buckets x 4 entries = 64 entries
  EXPECT_EQ(t.memory_bytes(), 64u * 8u);
  // Ten times more pairs than entries, all within the window: every first
  // view counts (old entries give way).
  for (std::uint64_t v = 0; v < 640; ++v)
    ASSERT_TRUE(t.admit(key(v, "/a"), 100 + static_cast<std::int64_t>(v))) << v;
  // The oldest give way: the most recent pairs are still remembered.
  int remembered = 0;
  for (std::uint64_t v = 630; v < 640; ++v)
    remembered += t.admit(key(v, "/a"), 800) ? 0 : 1;
  EXPECT_GE(remembered, 8);
  dedupe_table big(30min);
  EXPECT_EQ(big.memory_bytes(), 16u << 20);
}

TEST(Dedupe, TimesAreRelativeSoAnyClockOriginWorks) {
  dedupe_table t(10s, 8);
  const std::int64_t big = 9'000'000'000;  // far past 32 bits of seconds
  EXPECT_TRUE(t.admit(key(7, "/x"), big));
  EXPECT_FALSE(t.admit(key(7, "/x"), big + 9));
  EXPECT_TRUE(t.admit(key(7, "/x"), big + 10));
}

}  // namespace
}  // namespace pvc
