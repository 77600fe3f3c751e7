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
  using limiter = pvc::rate_limiter;
  limiter r(1, 1);
  const auto client = [](int i) {
    return "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
  };
  const auto seen_at = [](int i) { return t0 + std::chrono::microseconds(i); };
  // Far more clients than the table keeps, none idle long enough to refill
  // (0.4 s at 1/s), so only the least-recently-seen eviction makes room.
  // Every new client is served, and no stripe ever holds more than its share:
  // checked after each insert, since an overfull stripe is emptied again by
  // its next insert.
  constexpr int clients = 400'000;
  for (int i = 0; i < clients; ++i) {
    ASSERT_TRUE(r.allow(client(i), seen_at(i)));
    ASSERT_LE(r.tracked().fullest_stripe, limiter::max_clients_per_stripe) << i;
  }
  EXPECT_LE(r.tracked().clients, limiter::stripe_count * limiter::max_clients_per_stripe);
  // The bound must not cost the rate bound of active clients: a stripe always
  // keeps its newest half (2048), and the last 65,536 clients are ~1024 a
  // stripe, so each of them is still known and has no token back yet.
  const auto now = seen_at(clients);
  for (int i = clients - 65'536; i < clients; ++i)
    ASSERT_FALSE(r.allow(client(i), now)) << client(i) << " was forgotten while active";
  // The oldest client was forgotten: it is treated as new and gets its burst.
  EXPECT_TRUE(r.allow(client(0), now));
}

}  // namespace
