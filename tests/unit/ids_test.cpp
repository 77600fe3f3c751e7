#include "core/ids.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

TEST(DecodeId, EscapeCutShortByTheEndOfTheView) {
  // Ids are views into a bigger buffer (a query, a datagram): bytes after
  // the view's end must never complete an escape.
  const std::string buffer = "ab%41cd";
  struct row {
    std::size_t length;
    id_status status;
  };
  const row table[] = {
      {3, id_status::bad_escape},  // "ab%"
      {4, id_status::bad_escape},  // "ab%4"
      {5, id_status::ok},          // "ab%41"
  };
  for (const row& r : table) {
    const std::string_view view(buffer.data(), r.length);
    SCOPED_TRACE(printable(view));
    id_buffer scratch;
    const decoded_id d = decode_id(view, scratch);
    EXPECT_EQ(d.status, r.status) << name(d.status);
    if (r.status == id_status::ok) {
      EXPECT_EQ(d.value, "abA");
    }
  }
}

// Every byte value at every position of ids of many lengths: the byte scan
// works on 8- and 16-byte blocks with tails, so a position or length can
// hide a byte from it.
TEST(DecodeId, EveryByteValueAtEveryPosition) {
  std::vector<std::size_t> lengths;
  for (std::size_t n = 1; n <= 64; ++n)
    lengths.push_back(n);
  lengths.push_back(199);
  lengths.push_back(200);
  std::size_t failures = 0;
  for (std::size_t len : lengths) {
    for (std::size_t pos = 0; pos < len; ++pos) {
      for (int b = 0; b < 256; ++b) {
        std::string s(len, 'x');
        s[pos] = static_cast<char>(b);
        const bool visible = b >= 0x21 && b <= 0x7E;
        id_status want = visible ? id_status::ok : id_status::bad_byte;
        if (b == '%') want = id_status::bad_escape;  // followed by 'x' or nothing
        if (b == '+') want = id_status::bad_byte;    // a space once decoded
        id_buffer scratch;
        const decoded_id d = decode_id(s, scratch);
        const bool ok = d.status == want && is_visible_ascii(s) == visible &&
                        (want != id_status::ok || d.value == s);
        if (!ok && ++failures <= 20) {
          ADD_FAILURE() << "length " << len << " byte 0x" << std::hex << b << std::dec << " at "
                        << pos << ": got " << name(d.status) << ", want " << name(want);
        }
      }
    }
  }
  EXPECT_EQ(failures, 0u);
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
