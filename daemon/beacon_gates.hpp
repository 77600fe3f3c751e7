#pragma once
// Checks a beacon passes before it counts (see hit_gate in routes.hpp):
//   signature_gate   signed beacons (t=), when beacon_secret_file is set
//   rate_limit_gate  per-client token bucket, when rate_limit > 0
// Both are off by default. Thread-safety: admit() from any I/O thread.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/rate_limiter.hpp"
#include "routes.hpp"

namespace pvc {

class signature_gate final : public hit_gate {
 public:
  using clock_fn = std::function<std::chrono::system_clock::time_point()>;
  signature_gate(std::string secret, clock_fn now)
      : secret_(std::move(secret)), now_(std::move(now)) {}

  std::optional<reject_reason> admit(const hit& h, const http_request_view& req,
                                     const client_info& client, std::size_t shard) override;

  // Reads the secret (first line, surrounding whitespace trimmed); "" or an error naming the file.
  static std::string load_secret(const std::string& path, std::string& secret);

 private:
  std::string secret_;
  clock_fn now_;
};

class rate_limit_gate final : public hit_gate {
 public:
  rate_limit_gate(double per_second, double burst) : limiter_(per_second, burst) {}

  std::optional<reject_reason> admit(const hit& h, const http_request_view& req,
                                     const client_info& client, std::size_t shard) override;

 private:
  rate_limiter limiter_;
};

}  // namespace pvc
