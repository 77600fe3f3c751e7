// Per-client token buckets: burst, refill, clients apart, bounded memory.
#include "core/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace std::chrono_literals;
const auto t0 = std::chrono::steady_clock::time_point{} + 1h;

TEST(RateLimiter, BurstThenRate) {
  pvc::rate_limiter r(10, 5);
  int allowed = 0;
  for (int i = 0; i < 20; ++i)
    allowed += r.allow("192.0.2.1", t0);
  EXPECT_EQ(allowed, 5);
  allowed = 0;
  for (int i = 0; i < 20; ++i)
    allowed += r.allow("192.0.2.1", t0 + 300ms);  // 3 tokens back
  EXPECT_EQ(allowed, 3);
}

TEST(RateLimiter, ClientsHaveTheirOwnBuckets) {
  pvc::rate_limiter r(1, 2);
  EXPECT_TRUE(r.allow("192.0.2.1", t0));
  EXPECT_TRUE(r.allow("192.0.2.1", t0));
  EXPECT_FALSE(r.allow("192.0.2.1", t0));
  EXPECT_TRUE(r.allow("192.0.2.2", t0));
  EXPECT_TRUE(r.allow("2001:db8::1", t0));
}

TEST(RateLimiter, ManyClientsStayWithinTheBound) {
  pvc::rate_limiter r(1, 1);
  // Far more clients than the table keeps: every new client is still served,
  // and an old one forgotten is treated as new (it gets its burst back).
  for (int i = 0; i < 400'000; ++i) {
    ASSERT_TRUE(r.allow("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256),
                        t0 + std::chrono::microseconds(i)));
  }
}

}  // namespace
