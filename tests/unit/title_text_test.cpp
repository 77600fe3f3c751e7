// The title rule (core/title_text.hpp) and the UTF-8 checks under it
// (core/utf8.hpp): what an editor types is taken, broken or invisible
// bytes are not.
#include "core/title_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using pvc::check_title;

TEST(Utf8, WellFormedAndNot) {
  for (const std::string ok : {"", "Giới thiệu", "Sóc Trăng", "𝄞 4 bytes", "\xEF\xBF\xBD",
                               "\xF4\x8F\xBF\xBF", "Tin xem nhiều"}) {
    EXPECT_TRUE(pvc::is_utf8(ok)) << ok;
  }
  for (const std::string bad :
       {"\xC3", "Gi\xE1\xBB", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80" /* a surrogate */,
        "\xF4\x90\x80\x80", "\xFF", "\x80", "\xF0\x9D\x84"}) {
    EXPECT_FALSE(pvc::is_utf8(bad)) << testing::PrintToString(bad);
  }
}

TEST(Utf8, ControlCharacters) {
  EXPECT_FALSE(pvc::has_control_character("Giới thiệu chung"));
  EXPECT_FALSE(pvc::has_control_character("\xC2\xA0 no-break space, \xC2\xA9"));
  for (const std::string& bad : std::vector<std::string>{std::string("a\0b", 3), "a\nb", "a\tb",
                                                         "a\x7F", "a\xC2\x85", "\xC2\x9F"}) {
    EXPECT_TRUE(pvc::has_control_character(bad)) << testing::PrintToString(bad);
  }
}

TEST(TitleText, TakesWhatEditorsWrite) {
  // Precomposed letters and the same text with combining marks are both
  // valid and kept apart: titles are not normalised.
  const std::string precomposed = "Gi\xE1\xBB\x9Bi thi\xE1\xBB\x87u";          // ớ, ệ
  const std::string combining = "Gio\xCC\x9B\xCC\x81i thie\xCC\x82\xCC\xA3u";  // o + ̛ + ́ ...
  for (const std::string& t : {std::string("Giới thiệu chung về tỉnh Sóc Trăng"), precomposed,
                               combining, std::string("<img src=x onerror=alert(1)>"),
                               std::string("Nói \"không\" với rác thải"), std::string(200, 'a')}) {
    EXPECT_EQ(check_title(t), "") << t;
  }
  EXPECT_NE(precomposed, combining);
}

TEST(TitleText, RefusesEachWithItsReason) {
  EXPECT_EQ(check_title(""), "title is empty");
  EXPECT_EQ(check_title(std::string(201, 'a')), "title is longer than 200 bytes");
  EXPECT_EQ(check_title("Gi\xE1\xBB"), "title is not UTF-8");
  EXPECT_EQ(check_title("line\nbreak"), "title holds a control character");
  EXPECT_EQ(check_title("c1 \xC2\x85"), "title holds a control character");
}

TEST(TitleText, DecodesAFormField) {
  std::string out;
  EXPECT_EQ(pvc::decode_title("Gi%E1%BB%9Bi+thi%E1%BB%87u", out), "");
  EXPECT_EQ(out, "Giới thiệu");
  EXPECT_EQ(pvc::decode_title("a%0Ab", out), "text holds a control character");
  EXPECT_EQ(pvc::decode_title("%C2%85", out), "title holds a control character");
  EXPECT_EQ(pvc::decode_title("%E1%BB", out), "text is not UTF-8");
  EXPECT_EQ(pvc::decode_title("%zz", out), "a % is not followed by two hex digits");
  // 67 three-byte letters: 201 bytes.
  std::string raw;
  for (int i = 0; i < 67; ++i)
    raw += "%E1%BB%87";
  EXPECT_EQ(pvc::decode_title(raw, out), "title is longer than 200 bytes");
}

}  // namespace
