#pragma once
// Per-thread HTTP request statistics with fixed label sets (route, status
// code, latency bucket), so /metrics can report them without a map lookup or
// a lock per request. Updated by the owning I/O thread, read at scrape time.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pvc {

// Routes are numbered as routers register them at start-up (route 0 is
// "other": 404s and requests too broken to route); the per-thread arrays are
// sized for the most routes pvcd has.
using http_route = std::uint8_t;
inline constexpr std::size_t max_http_routes = 32;
inline constexpr http_route http_route_other = 0;

// Returns the id of a route label, adding it on first use. Called while
// routers are built, before the I/O threads start; thread-safe.
http_route intern_http_route(std::string_view label);
// Labels by id, for /metrics.
std::vector<std::string> http_route_labels();

// The status codes pvcd answers with; anything else is reported as "other".
inline constexpr std::array<unsigned, 14> http_codes = {200, 204, 304, 400, 401, 403, 404,
                                                        405, 413, 429, 431, 500, 503, 0};
inline constexpr std::size_t http_code_count = http_codes.size();

constexpr std::size_t http_code_index(unsigned status) {
  for (std::size_t i = 0; i + 1 < http_code_count; ++i) {
    if (http_codes[i] == status) return i;
  }
  return http_code_count - 1;
}

// Upper bounds in seconds of the latency histogram buckets (+Inf implied).
inline constexpr std::array<double, 10> http_latency_bounds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1.0};
inline constexpr std::size_t http_bucket_count = http_latency_bounds.size() + 1;

constexpr std::size_t http_bucket_index(std::uint64_t nanoseconds) {
  for (std::size_t i = 0; i < http_latency_bounds.size(); ++i) {
    if (static_cast<double>(nanoseconds) <= http_latency_bounds[i] * 1e9) return i;
  }
  return http_bucket_count - 1;
}

}  // namespace pvc
