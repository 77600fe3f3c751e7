#pragma once
// pvcd's read side as the tests see it: /api/v1/views decoded from JSON,
// samples picked out of the /metrics text, and a bounded poll for "the next
// flush has landed".
//
// Thread-safety: free functions, no shared state.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvc::test {

struct article_counts {
  std::uint64_t total = 0;
  std::uint64_t today = 0;
  bool operator==(const article_counts&) const = default;
};

struct views_reply {
  std::string error;  // transport, status or JSON problem; empty when the rest is valid
  std::string site;
  std::uint64_t total = 0;
  std::uint64_t today = 0;
  std::uint64_t yesterday = 0;
  std::uint64_t this_month = 0;
  std::map<std::string, article_counts> articles;
};

// GET /api/v1/views?s=SITE&a=ID... (ids URL-encoded; at most 100 per call).
views_reply fetch_views(std::uint16_t port, std::string_view site,
                        const std::vector<std::string>& articles = {});

// Per-article counts for any number of ids, batched 100 per request.
// Sets `error` and stops at the first failed batch.
std::map<std::string, article_counts> fetch_article_counts(std::uint16_t port,
                                                           std::string_view site,
                                                           const std::vector<std::string>& ids,
                                                           std::string& error);

// GET /metrics on the admin port; "" when it fails.
std::string fetch_metrics(std::uint16_t admin_port);

// The value of one sample, `series` written as exposed, e.g.
// `pvcd_hits_rejected_total{reason="malformed",transport="udp"}`.
std::optional<double> metric_value(const std::string& metrics_text, std::string_view series);

// Scrapes and reads one sample; empty when either step fails.
std::optional<double> scrape(std::uint16_t admin_port, std::string_view series);

// Calls `done` until it returns true or `timeout` passes (polling every
// `every`); returns the last result. Bounded by time, never spins.
bool wait_until(const std::function<bool()>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(10),
                std::chrono::milliseconds every = std::chrono::milliseconds(20));

}  // namespace pvc::test
