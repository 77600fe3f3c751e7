// SHA-256 against FIPS 180-4 examples, HMAC-SHA-256 against RFC 4231.
#include "core/sha256.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/hex.hpp"

namespace {

TEST(Sha256, FipsExamples) {
  EXPECT_EQ(pvc::to_hex(pvc::sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(pvc::to_hex(pvc::sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(pvc::to_hex(pvc::sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(pvc::to_hex(pvc::sha256(std::string(1'000'000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PaddingBoundaries) {
  // 55, 56 and 64 bytes straddle the one-or-two padding blocks decision.
  EXPECT_EQ(pvc::to_hex(pvc::sha256(std::string(55, 'a'))),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(pvc::to_hex(pvc::sha256(std::string(56, 'a'))),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(pvc::to_hex(pvc::sha256(std::string(64, 'a'))),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(HmacSha256, Rfc4231) {
  EXPECT_EQ(pvc::to_hex(pvc::hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(pvc::to_hex(pvc::hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(pvc::to_hex(pvc::hmac_sha256(std::string(131, '\xaa'),
                                         "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256, Rfc4231MoreCases) {
  // Test case 3: key and data made of bytes outside ASCII.
  EXPECT_EQ(pvc::to_hex(pvc::hmac_sha256(std::string(20, '\xaa'), std::string(50, '\xdd'))),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  // Test case 4: a 25-byte key 0x01..0x19.
  std::string key;
  for (int b = 1; b <= 25; ++b)
    key += static_cast<char>(b);
  EXPECT_EQ(pvc::to_hex(pvc::hmac_sha256(key, std::string(50, '\xcd'))),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  // Test case 5: the RFC gives only the first 128 bits.
  EXPECT_EQ(
      pvc::to_hex(pvc::hmac_sha256(std::string(20, '\x0c'), "Test With Truncation")).substr(0, 32),
      "a3b6167473100ee06e0c796c2955552b");
  // Test case 7: key and data both longer than a block.
  EXPECT_EQ(pvc::to_hex(pvc::hmac_sha256(
                std::string(131, '\xaa'),
                "This is a test using a larger than block-size key and a larger than block-size "
                "data. The key needs to be hashed before being used by the HMAC algorithm.")),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(HmacSha256, EmptyKeyAndMessage) {
  // A beacon secret is never empty, but the function must not read through
  // a null key pointer (string_view{} has one).
  EXPECT_EQ(pvc::to_hex(pvc::hmac_sha256(std::string_view{}, std::string_view{})),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  EXPECT_EQ(pvc::hmac_sha256("", ""), pvc::hmac_sha256(std::string_view{}, std::string_view{}));
}

TEST(ConstantTimeEqual, ComparesWholeStrings) {
  EXPECT_TRUE(pvc::constant_time_equal("secret-token", "secret-token"));
  EXPECT_FALSE(pvc::constant_time_equal("secret-token", "secret-tokeN"));
  EXPECT_FALSE(pvc::constant_time_equal("secret-token", "secret-toke"));
  EXPECT_FALSE(pvc::constant_time_equal("", "x"));
  EXPECT_TRUE(pvc::constant_time_equal("", ""));
  EXPECT_TRUE(pvc::constant_time_equal(std::string_view{}, ""));
  // Bytes that are not text, and a 0 byte that must count.
  EXPECT_FALSE(pvc::constant_time_equal(std::string("ab\0", 3), "ab"));
  EXPECT_TRUE(pvc::constant_time_equal(std::string("\xff\0x", 3), std::string("\xff\0x", 3)));
}

}  // namespace
