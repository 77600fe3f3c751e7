#pragma once
// Signed beacons: the portal, when it renders a page, mints a token that
// pvcd checks, so nobody can inflate a count by replaying or inventing
// beacons past the token's expiry.
//
//     t = EXPIRY "." HEX(HMAC-SHA-256(secret, MESSAGE))
//     MESSAGE = SITE " " ARTICLE " " EXPIRY                  a beacon without a title
//             | SITE " " ARTICLE " " EXPIRY LF TITLE         a beacon carrying title=
//
//   EXPIRY   Unix time in seconds (decimal) after which the token is refused
//   SITE, ARTICLE  the decoded ids, exactly as counted (UTF-8 bytes, not
//                  %-encoded, not normalised); separated by single spaces,
//                  which no id can contain
//   TITLE    the decoded title (core/title_text.hpp), exactly as sent
//   HEX      64 lowercase hex digits
//
// The title form ends the signed fields with a line feed, which neither an
// id, an expiry nor a title can hold: no title-less message equals a titled
// one, so a token minted for a page without a title cannot be replayed with
// a title of the sender's choosing (nor one minted for one title with
// another). Tokens minted before titles existed stay valid for beacons
// without a title.
//
// Pure functions; thread-safe.
#include <cstdint>
#include <string>
#include <string_view>

namespace pvc {

enum class token_status { ok, missing, malformed, expired, forged };

// `title` "" for a beacon without one.
token_status verify_beacon_token(std::string_view secret, std::string_view site,
                                 std::string_view article, std::string_view token,
                                 std::int64_t now_unix_seconds, std::string_view title = {});

// What a portal computes (and the tests use).
std::string mint_beacon_token(std::string_view secret, std::string_view site,
                              std::string_view article, std::int64_t expiry_unix_seconds,
                              std::string_view title = {});

}  // namespace pvc
