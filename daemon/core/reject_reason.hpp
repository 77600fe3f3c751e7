#pragma once
// Why a hit was not counted. The set is fixed so that metrics and dashboards
// see a stable label set; every value has a stable snake_case name.
#include <array>
#include <cstdint>
#include <string_view>

namespace pvc {

enum class reject_reason : std::uint8_t {
  malformed,    // the request or line does not follow the wire format
  bad_site,     // SITE is empty, too long, not UTF-8, or has a space or control character
  bad_article,  // same for ARTICLE
  bad_count,    // COUNT is not an integer in 1..1000000
  site_limit,   // a new site past the configured max_sites
  bot,          // the User-Agent is on the bot list
  rate_limit,   // the client sent more than its per-client rate allows
  cardinality,  // a new article past the tracked-key caps (a flood of random ids)
  signature,    // signed beacons are required and the token is missing, forged or expired
  duplicate,    // the same visitor's repeated view of the article within dedupe_window
};

inline constexpr std::size_t reject_reason_count = 10;

inline constexpr std::array<std::string_view, reject_reason_count> reject_reason_names = {
    "malformed", "bad_site",   "bad_article", "bad_count", "site_limit",
    "bot",       "rate_limit", "cardinality", "signature", "duplicate"};

constexpr std::string_view name_of(reject_reason r) {
  return reject_reason_names[static_cast<std::size_t>(r)];
}

// Where a hit came in; a label on the accepted/rejected metrics.
enum class transport : std::uint8_t { http, udp, admin };
inline constexpr std::size_t transport_count = 3;
inline constexpr std::array<std::string_view, transport_count> transport_names = {"http", "udp",
                                                                                  "admin"};
constexpr std::string_view name_of(transport t) {
  return transport_names[static_cast<std::size_t>(t)];
}

}  // namespace pvc
