#pragma once
// Signed beacons: the portal, when it renders a page, mints a token that
// pvcd checks, so nobody can inflate a count by replaying or inventing
// beacons past the token's expiry.
//
//     t = EXPIRY "." HEX(HMAC-SHA-256(secret, SITE " " ARTICLE " " EXPIRY))
//
//   EXPIRY   Unix time in seconds (decimal) after which the token is refused
//   SITE, ARTICLE  the decoded ids, exactly as counted (UTF-8 bytes, not
//                  %-encoded, not normalised); separated by single spaces,
//                  which no id can contain
//   HEX      64 lowercase hex digits
//
// Pure functions; thread-safe.
#include <cstdint>
#include <string>
#include <string_view>

namespace pvc {

enum class token_status { ok, missing, malformed, expired, forged };

token_status verify_beacon_token(std::string_view secret, std::string_view site,
                                 std::string_view article, std::string_view token,
                                 std::int64_t now_unix_seconds);

// What a portal computes (and the tests use).
std::string mint_beacon_token(std::string_view secret, std::string_view site,
                              std::string_view article, std::int64_t expiry_unix_seconds);

}  // namespace pvc
