#pragma once
// Checks a beacon passes before it counts (see hit_gate in routes.hpp), in
// the order main.cpp runs them:
//   bot_gate         User-Agents on the bot list (reason `bot`), always on
//   signature_gate   signed beacons (t=), when beacon_secret_file is set
//   rate_limit_gate  per-client token bucket, when rate_limit > 0
// and, last, the visitor gate (ingest/visitor_tracker.hpp).
// Thread-safety: admit() from any I/O thread.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/bot_list.hpp"
#include "core/rate_limiter.hpp"
#include "serve/routes.hpp"

namespace pvc {

// Reads the bot list from `path`, or the built-in one (data/bots.txt) when
// `path` is "". Returns "" or an error naming the path.
std::string load_bot_list(const std::string& path, bot_list& out);

// Refuses beacons whose User-Agent is on the bot list. The list of thread
// `shard` comes from `lists` (a per_thread<bot_list>, which SIGHUP replaces).
class bot_gate final : public hit_gate {
 public:
  using list_fn = std::function<const bot_list&(std::size_t shard)>;
  explicit bot_gate(list_fn lists) : lists_(std::move(lists)) {}
  std::optional<reject_reason> admit(const hit& h, const http_request_view& req,
                                     const client_info& client, std::size_t shard) override;

 private:
  list_fn lists_;
};

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
