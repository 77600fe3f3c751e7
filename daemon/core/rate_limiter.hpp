#pragma once
// Per-client rate limit for beacons: a token bucket per client address
// (rate per second, burst deep). One client's connections may land on any
// I/O thread, so the buckets are shared, striped by address hash to keep
// threads apart. Memory is bounded: each stripe keeps at most
// max_clients_per_stripe buckets; a full stripe first forgets buckets that
// have refilled (idle clients), then the least recently seen half.
//
// Thread-safety: allow() from any thread.
#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace pvc {

class rate_limiter {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  static constexpr std::size_t stripe_count = 64;
  static constexpr std::size_t max_clients_per_stripe = 4096;  // 262,144 clients in all

  rate_limiter(double per_second, double burst) : rate_(per_second), burst_(burst) {}

  // True when the client may send one more beacon now.
  bool allow(std::string_view client, time_point now);

  // Buckets kept now, in all and in the fullest stripe: lets a test check the
  // memory bound, which allow() alone cannot show.
  struct occupancy {
    std::size_t clients = 0;
    std::size_t fullest_stripe = 0;
  };
  occupancy tracked();

 private:
  struct bucket {
    double tokens;
    time_point last;
  };
  struct stripe {
    std::mutex mutex;
    std::unordered_map<std::uint64_t, bucket> buckets;
  };
  void make_room(stripe& s, time_point now);

  double rate_;
  double burst_;
  std::array<stripe, stripe_count> stripes_;
};

}  // namespace pvc
