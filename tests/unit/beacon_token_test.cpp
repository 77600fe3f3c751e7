// Signed beacon tokens: what a portal mints verifies; anything else is refused
// with the right status.
#include "core/beacon_token.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/sha256.hpp"

namespace {

using pvc::token_status;
constexpr std::string_view secret = "0123456789abcdef-secret";
constexpr std::int64_t now = 1'800'000'000;

TEST(BeaconToken, MintedTokenVerifiesUntilItExpires) {
  const std::string t = pvc::mint_beacon_token(secret, "news", "/2026/a", now + 60);
  EXPECT_EQ(pvc::verify_beacon_token(secret, "news", "/2026/a", t, now), token_status::ok);
  EXPECT_EQ(pvc::verify_beacon_token(secret, "news", "/2026/a", t, now + 60), token_status::ok);
  EXPECT_EQ(pvc::verify_beacon_token(secret, "news", "/2026/a", t, now + 61),
            token_status::expired);
}

TEST(BeaconToken, MatchesTheDocumentedFormula) {
  // The README's PHP: hash_hmac('sha256', "$site $article $exp", $secret), lowercase hex.
  // The expected value is OpenSSL's: printf 'news a1 1800000060' | openssl dgst -sha256 -hmac
  // '0123456789abcdef-secret'
  EXPECT_EQ(pvc::mint_beacon_token(secret, "news", "a1", 1800000060),
            "1800000060.8dbe366b9d2fddec5fb7f8fbf63cd97fe9fde20b327af12b0c51186c6b331bf9");
}

TEST(BeaconToken, RefusesWhatWasNotMintedForThisHit) {
  const std::string t = pvc::mint_beacon_token(secret, "news", "a1", now + 60);
  EXPECT_EQ(pvc::verify_beacon_token(secret, "news", "a2", t, now), token_status::forged);
  EXPECT_EQ(pvc::verify_beacon_token(secret, "other", "a1", t, now), token_status::forged);
  EXPECT_EQ(pvc::verify_beacon_token("another-secret-1234", "news", "a1", t, now),
            token_status::forged);
  // Moving the expiry forward breaks the MAC.
  std::string later = t;
  later[later.find('.') - 1] = '9';
  EXPECT_EQ(pvc::verify_beacon_token(secret, "news", "a1", later, now), token_status::forged);
}

TEST(BeaconToken, FieldsCannotBeShiftedBetweenSiteAndArticle) {
  const std::string t = pvc::mint_beacon_token(secret, "a", "b|c", now + 60);
  EXPECT_EQ(pvc::verify_beacon_token(secret, "a|b", "c", t, now), token_status::forged);
  const std::string u = pvc::mint_beacon_token(secret, "a", "b/c", now + 60);
  EXPECT_EQ(pvc::verify_beacon_token(secret, "a/b", "c", u, now), token_status::forged);
}

TEST(BeaconToken, SignsTheDecodedUtf8BytesOfTheIds) {
  // The same formula over the ids' UTF-8 bytes. The expected value is OpenSSL's:
  // printf 'soctrang.gov.vn /tin-tức/bài-1 1800000060' | openssl dgst -sha256 -hmac
  // '0123456789abcdef-secret'
  const std::string t =
      pvc::mint_beacon_token(secret, "soctrang.gov.vn", "/tin-tức/bài-1", 1800000060);
  EXPECT_EQ(t, "1800000060.2cf67dcdd8742ea74a88ac027f86b1d47cec423e5c80cbd7476df7c3745fcba3");
  EXPECT_EQ(pvc::verify_beacon_token(secret, "soctrang.gov.vn", "/tin-tức/bài-1", t, now),
            token_status::ok);
  // Not the %-encoded spelling, and not the same letters with combining marks.
  EXPECT_EQ(
      pvc::verify_beacon_token(secret, "soctrang.gov.vn", "/tin-t%E1%BB%A9c/b%C3%A0i-1", t, now),
      token_status::forged);
  EXPECT_EQ(pvc::verify_beacon_token(secret, "soctrang.gov.vn",
                                     "/tin-tu\xCC\x9B\xCC\x81"
                                     "c/ba\xCC\x80i-1",
                                     t, now),
            token_status::forged);
}

TEST(BeaconToken, MalformedTokens) {
  const std::string mac(64, 'a');
  for (const std::string& bad :
       std::vector<std::string>{"nodot", "." + mac, "x1." + mac, "-5." + mac, "1800000060.short",
                                "1800000060." + mac + "a", "99999999999999." + mac}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(pvc::verify_beacon_token(secret, "news", "a1", bad, now), token_status::malformed);
  }
  EXPECT_EQ(pvc::verify_beacon_token(secret, "news", "a1", "", now), token_status::missing);
}

TEST(BeaconToken, ATitledTokenSignsTheTitleAfterALineFeed) {
  // printf 'news a1 1800000060\nGiới thiệu' | openssl dgst -sha256 -hmac
  // '0123456789abcdef-secret'
  EXPECT_EQ(pvc::mint_beacon_token(secret, "news", "a1", 1800000060, "Giới thiệu"),
            "1800000060.f2517ffa0718a2998565515c50efbf7bc108ea880511e2191893ef5ebe0c913c");
}

TEST(BeaconToken, ATitleVerifiesOnlyWithTheTokenMintedForIt) {
  const std::string title = "Giới thiệu chung về tỉnh Sóc Trăng";
  const std::string titled =
      pvc::mint_beacon_token(secret, "soctrang", "/gioi-thieu", now + 60, title);
  EXPECT_EQ(pvc::verify_beacon_token(secret, "soctrang", "/gioi-thieu", titled, now, title),
            token_status::ok);
  // Another title, or none, is not what was signed.
  EXPECT_EQ(pvc::verify_beacon_token(secret, "soctrang", "/gioi-thieu", titled, now, "Quảng cáo"),
            token_status::forged);
  EXPECT_EQ(pvc::verify_beacon_token(secret, "soctrang", "/gioi-thieu", titled, now),
            token_status::forged);
  // A token minted without a title (every token before titles) still
  // verifies a title-less beacon, and covers no title.
  const std::string plain = pvc::mint_beacon_token(secret, "soctrang", "/gioi-thieu", now + 60);
  EXPECT_EQ(pvc::verify_beacon_token(secret, "soctrang", "/gioi-thieu", plain, now),
            token_status::ok);
  EXPECT_EQ(pvc::verify_beacon_token(secret, "soctrang", "/gioi-thieu", plain, now, title),
            token_status::forged);
}

TEST(BeaconToken, ATitleCannotBeMadeFromTheSignedIds) {
  // Were the title joined with a space, (article "a 123", expiry 456, no
  // title) would sign the same text as (article "a", expiry 123, title
  // "456"). The line feed keeps them apart.
  const std::string t = pvc::mint_beacon_token(secret, "s", "a", 123, "456");
  EXPECT_NE(t.substr(t.find('.')),
            pvc::mint_beacon_token(secret, "s", "a 123", 456).substr(t.find('.')));
}

}  // namespace
