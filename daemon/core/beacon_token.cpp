#include "core/beacon_token.hpp"

#include <openssl/crypto.h>

#include <charconv>

#include "core/hex.hpp"
#include "core/sha256.hpp"

namespace pvc {
namespace {

std::string signed_text(std::string_view site, std::string_view article, std::string_view expiry,
                        std::string_view title) {
  std::string m;
  m.reserve(site.size() + article.size() + expiry.size() + title.size() + 3);
  // A space cannot occur in an id (core/ids.hpp refuses it), so the three
  // fields are unambiguous; '|' could, and would let (a, b|c) sign (a|b, c).
  m.append(site).append(" ").append(article).append(" ").append(expiry);
  if (!title.empty()) m.append("\n").append(title);  // LF: see beacon_token.hpp
  return m;
}

}  // namespace

token_status verify_beacon_token(std::string_view secret, std::string_view site,
                                 std::string_view article, std::string_view token,
                                 std::int64_t now_unix_seconds, std::string_view title) {
  if (token.empty()) return token_status::missing;
  const std::size_t dot = token.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 12) return token_status::malformed;
  const std::string_view expiry_text = token.substr(0, dot);
  const std::string_view mac = token.substr(dot + 1);
  std::int64_t expiry = 0;
  auto [end, ec] =
      std::from_chars(expiry_text.data(), expiry_text.data() + expiry_text.size(), expiry);
  if (ec != std::errc{} || end != expiry_text.data() + expiry_text.size() || expiry < 0) {
    return token_status::malformed;
  }
  if (mac.size() != 64) return token_status::malformed;
  // Check the MAC before the expiry, so a forged token is reported as such.
  const std::string expected =
      to_hex(hmac_sha256(secret, signed_text(site, article, expiry_text, title)));
  // Both are 64 characters (checked above), so CRYPTO_memcmp, which takes
  // the same time wherever they differ, can compare them directly.
  if (CRYPTO_memcmp(expected.data(), mac.data(), expected.size()) != 0) {
    return token_status::forged;
  }
  if (expiry < now_unix_seconds) return token_status::expired;
  return token_status::ok;
}

std::string mint_beacon_token(std::string_view secret, std::string_view site,
                              std::string_view article, std::int64_t expiry_unix_seconds,
                              std::string_view title) {
  const std::string expiry = std::to_string(expiry_unix_seconds);
  return expiry + "." + to_hex(hmac_sha256(secret, signed_text(site, article, expiry, title)));
}

}  // namespace pvc
