#include "core/hex.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>

#include "test_support.hpp"

namespace pvc {
namespace {

TEST(Hex, EncodesEveryByteAsTwoLowercaseDigits) {
  EXPECT_EQ(to_hex(std::string_view{}), "");
  EXPECT_EQ(to_hex(std::string("\x00\x01\x0f\x10\x7f\x80\xab\xff", 8)), "00010f107f80abff");
  EXPECT_EQ(to_hex("pvcd"), "70766364");
  const std::array<std::uint8_t, 3> bytes{0xde, 0xad, 0x01};
  EXPECT_EQ(to_hex(bytes), "dead01");
  std::string out = "x=";
  append_hex(out, "\n");
  EXPECT_EQ(out, "x=0a");
}

TEST(Hex, DecodesWhatItEncodes) {
  std::string all;
  for (int b = 0; b < 256; ++b)
    all += static_cast<char>(b);
  std::string back;
  ASSERT_TRUE(from_hex(to_hex(all), back));
  EXPECT_EQ(back, all);
}

TEST(Hex, DecodesOnlyPairsOfDigits) {
  struct row {
    std::string_view hex;
    bool ok;
    std::string bytes;
  };
  const row table[] = {
      {"", true, ""},
      {"00", true, std::string(1, '\0')},
      {"0aFf", true, "\x0a\xff"},
      {"DEAD", true, "\xde\xad"},
      {"abc", false, ""},  // odd length
      {"0", false, ""},
      {"0g", false, ""},
      {"g0", false, ""},
      {" 0", false, ""},
      {"0x10", false, ""},
      {"/0", false, ""},  // the characters around '0'-'9', 'a'-'f', 'A'-'F'
      {":0", false, ""},
      {"`0", false, ""},
      {"@0", false, ""},
      {"G0", false, ""},
  };
  for (const auto& r : table) {
    SCOPED_TRACE(test::printable(std::string(r.hex)));
    std::string out = "left over";
    EXPECT_EQ(from_hex(r.hex, out), r.ok);
    if (r.ok) {
      EXPECT_EQ(out, r.bytes);
    }
  }
}

}  // namespace
}  // namespace pvc
