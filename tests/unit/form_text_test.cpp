#include "core/form_text.hpp"

#include <gtest/gtest.h>

#include <string>

#include "test_support.hpp"

namespace pvc {
namespace {

TEST(DecodeFormText, MustAccept) {
  struct row {
    std::string raw, text;
  };
  const row table[] = {
      {"", ""},
      {"bot+spike", "bot spike"},
      {"bot%20spike%2C+5+Nov", "bot spike, 5 Nov"},
      {"%2B5", "+5"},
      {"%2fvar%2Fbackups", "/var/backups"},
      {"l%E1%BB%A3t+truy+c%E1%BA%ADp", "l\xe1\xbb\xa3t truy c\xe1\xba\xadp"},  // "lượt truy cập"
      {"%F0%9F%98%80", "\xf0\x9f\x98\x80"},                                    // 4-byte UTF-8
      {"a=b&c", "a=b&c"},
      {std::string(500, 'x'), std::string(500, 'x')},
  };
  for (const auto& r : table) {
    SCOPED_TRACE(test::printable(r.raw));
    std::string out;
    EXPECT_EQ(decode_form_text(r.raw, 500, out), "");
    EXPECT_EQ(out, r.text);
  }
}

TEST(DecodeFormText, MustReject) {
  struct row {
    std::string raw, reason;
  };
  const row table[] = {
      {"%", "a % is not followed by two hex digits"},
      {"%2", "a % is not followed by two hex digits"},
      {"%zz", "a % is not followed by two hex digits"},
      {"a%0Ab", "text holds a control character"},  // a newline would forge log lines
      {"%00", "text holds a control character"},
      {"%7F", "text holds a control character"},
      {"%1b[31m", "text holds a control character"},
      {std::string("a\tb"), "text holds a control character"},
      {"%C3", "text is not UTF-8"},           // truncated
      {"%C0%AF", "text is not UTF-8"},        // overlong
      {"%ED%A0%80", "text is not UTF-8"},     // surrogate
      {"%F4%90%80%80", "text is not UTF-8"},  // past U+10FFFF
      {"%FF", "text is not UTF-8"},
      {std::string(501, 'x'), "text is too long"},
      {std::string(499, 'x') + "%20%20", "text is too long"},
  };
  for (const auto& r : table) {
    SCOPED_TRACE(test::printable(r.raw));
    std::string out;
    EXPECT_EQ(decode_form_text(r.raw, 500, out), r.reason);
  }
}

}  // namespace
}  // namespace pvc
