// libFuzzer target: signed beacons (pvc::verify_beacon_token,
// pvc::mint_beacon_token in daemon/core/beacon_token.cpp).
//
// Input: LF-separated fields SECRET, SITE, ARTICLE, SITE2, ARTICLE2, TOKEN.
// Checks, besides "no crash, no sanitizer report":
//   - a token minted for (SITE, ARTICLE) verifies for them before its expiry,
//     and is `expired` after it;
//   - the same token never verifies for a different pair (SITE2, ARTICLE2) of
//     valid ids (UTF-8 ones included): one page's token must not count views
//     for another;
//   - changing any one character of a minted token makes it fail;
//   - an arbitrary TOKEN never verifies unless it carries the minted MAC.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/beacon_token.hpp"
#include "core/ids.hpp"
#include "fuzz_check.hpp"

using namespace pvc;

using fuzz::valid_id;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> f;
  while (f.size() < 5) {
    const std::size_t lf = in.find('\n');
    if (lf == std::string_view::npos) return 0;
    f.push_back(in.substr(0, lf));
    in.remove_prefix(lf + 1);
  }
  const std::string_view secret = f[0], site = f[1], article = f[2], site2 = f[3], article2 = f[4],
                         token = in;
  if (!valid_id(site) || !valid_id(article)) return 0;  // pvcd verifies decoded, valid ids only

  constexpr std::int64_t now = 1'700'000'000, expiry = 1'700'000'600;
  const std::string minted = mint_beacon_token(secret, site, article, expiry);
  FUZZ_CHECK(verify_beacon_token(secret, site, article, minted, now) == token_status::ok);
  FUZZ_CHECK(verify_beacon_token(secret, site, article, minted, expiry + 1) ==
             token_status::expired);

  if (valid_id(site2) && valid_id(article2) && (site2 != site || article2 != article)) {
    FUZZ_CHECK(verify_beacon_token(secret, site2, article2, minted, now) != token_status::ok);
  }

  const std::size_t at = token.size() % minted.size();
  std::string changed = minted;
  changed[at] = changed[at] == 'a' ? 'b' : 'a';
  FUZZ_CHECK(verify_beacon_token(secret, site, article, changed, now) != token_status::ok);

  // Arbitrary text as a token: any answer but a crash; `ok` would need a forged MAC.
  const token_status any = verify_beacon_token(secret, site, article, token, now);
  FUZZ_CHECK(any != token_status::ok || token == minted ||
             token.substr(token.find('.') + 1) ==
                 std::string_view(minted).substr(minted.find('.') + 1));
  return 0;
}
