#include "core/ids.hpp"

#include <gtest/gtest.h>

#include <string>

#include "test_support.hpp"

namespace pvc {
namespace {

using test::printable;

std::string repeat(std::string_view piece, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i)
    out += piece;
  return out;
}

const char* name(id_status s) {
  switch (s) {
    case id_status::ok:
      return "ok";
    case id_status::empty:
      return "empty";
    case id_status::too_long:
      return "too_long";
    case id_status::bad_byte:
      return "bad_byte";
    case id_status::bad_escape:
      return "bad_escape";
  }
  return "?";
}

TEST(IsVisibleAscii, AcceptsOnly0x21To0x7E) {
  struct row {
    std::string input;
    bool visible;
  };
  const row table[] = {
      {"news/a", true},
      {"!", true},   // 0x21, first visible byte
      {"~", true},   // 0x7E, last visible byte
      {" ", false},  // 0x20
      {"a b", false},
      {"\x7F", false},  // DEL
      {"\x80", false},
      {"\xFF", false},
      {"\xC3\xA9", false},  // UTF-8 e-acute
      {std::string("a\0b", 3), false},
      {"\t", false},
      {"\r", false},
      {"\n", false},
      {"\x1F", false},
  };
  for (const row& r : table) {
    SCOPED_TRACE(printable(r.input));
    EXPECT_EQ(is_visible_ascii(r.input), r.visible);
  }
}

TEST(DecodeId, MustAccept) {
  struct row {
    std::string raw;
    std::string decoded;
  };
  const row table[] = {
      {"news/a", "news/a"},
      {"news%2Fa", "news/a"},
      {"news%2fa", "news/a"},  // hex digits in either case
      {"%41%42%43", "ABC"},
      {"%7E", "~"},
      {"%21", "!"},
      {"a%25b", "a%b"},  // an escaped '%' is data, not a new escape
      {"%2B", "+"},      // an escaped '+' stays '+'
      {"x", "x"},
      {repeat("a", 200), repeat("a", 200)},    // exactly the limit
      {repeat("%41", 200), repeat("A", 200)},  // 600 raw bytes, 200 decoded
      {repeat("a", 199) + "%41", repeat("a", 199) + "A"},
  };
  for (const row& r : table) {
    SCOPED_TRACE(printable(r.raw));
    id_buffer scratch;
    const decoded_id d = decode_id(r.raw, scratch);
    EXPECT_EQ(d.status, id_status::ok) << name(d.status);
    EXPECT_EQ(d.value, r.decoded);
  }
}

TEST(DecodeId, MustReject) {
  struct row {
    std::string raw;
    id_status status;
  };
  const row table[] = {
      {"", id_status::empty},
      {"%G1", id_status::bad_escape},
      {"%1G", id_status::bad_escape},
      {"%4", id_status::bad_escape},  // one hex digit, then the end
      {"ab%4", id_status::bad_escape},
      {"ab%", id_status::bad_escape},  // trailing '%'
      {"%", id_status::bad_escape},
      {"%%41", id_status::bad_escape},
      {"a%-1b", id_status::bad_escape},
      {"% 1", id_status::bad_escape},
      {repeat("a", 201), id_status::too_long},
      {repeat("%41", 201), id_status::too_long},  // too long only after decoding
      {repeat("a", 200) + "%41", id_status::too_long},
      {"a b", id_status::bad_byte},
      {"a+b", id_status::bad_byte},  // '+' decodes to a space
      {"+", id_status::bad_byte},
      {"%20", id_status::bad_byte},
      {"a\x01"
       "b",
       id_status::bad_byte},
      {"%01", id_status::bad_byte},
      {std::string("a\0b", 3), id_status::bad_byte},
      {"%00", id_status::bad_byte},
      {"\t", id_status::bad_byte},
      {"%09", id_status::bad_byte},
      {"a\r", id_status::bad_byte},
      {"%0A", id_status::bad_byte},
      {"\x7F", id_status::bad_byte},
      {"%7F", id_status::bad_byte},
      {"\x80", id_status::bad_byte},
      {"%80", id_status::bad_byte},
      {"\xFF", id_status::bad_byte},
      {"%ff", id_status::bad_byte},
      {"caf\xC3\xA9", id_status::bad_byte},
      {"caf%C3%A9", id_status::bad_byte},
  };
  for (const row& r : table) {
    SCOPED_TRACE(printable(r.raw));
    id_buffer scratch;
    const decoded_id d = decode_id(r.raw, scratch);
    EXPECT_EQ(d.status, r.status) << "got " << name(d.status) << ", want " << name(r.status);
  }
}

TEST(DecodeId, SameArticleWhetherEscapedOrNot) {
  // The promise in ids.hpp: "news%2Fa" over UDP and "news/a" over HTTP are one article.
  id_buffer a;
  id_buffer b;
  EXPECT_EQ(decode_id("news%2Fa", a).value, decode_id("news/a", b).value);
}

TEST(DecodeId, PlainIdIsNotCopied) {
  const std::string raw = "news/a";
  id_buffer scratch;
  const decoded_id d = decode_id(raw, scratch);
  ASSERT_EQ(d.status, id_status::ok);
  EXPECT_EQ(d.value.data(), raw.data());
}

}  // namespace
}  // namespace pvc
