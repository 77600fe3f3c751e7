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
    case id_status::bad_utf8:
      return "bad_utf8";
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
      {"caf\xC3\xA9", "caf\xC3\xA9"},        // UTF-8 e-acute, raw
      {"caf%C3%A9", "caf\xC3\xA9"},          // and %-encoded
      {"Gi%E1%BB%9Bi", "Gi\xE1\xBB\x9Bi"},   // "Giới", as encodeURIComponent sends it
      {"/tin-tức/bai-1", "/tin-tức/bai-1"},  // the source is UTF-8, so are its literals
      {"/tin-t%E1%BB%A9c/bai-1", "/tin-tức/bai-1"},
      {repeat("a", 197) + "%E1%BB%9B", repeat("a", 197) + "ớ"},  // 200 bytes once decoded
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
      {"\x80", id_status::bad_utf8},
      {"%80", id_status::bad_utf8},
      {"\xFF", id_status::bad_utf8},
      {"%ff", id_status::bad_utf8},
      {"Gi%E1%BB", id_status::bad_utf8},  // a character cut short by the end
      {"Gi%E1%BB+i", id_status::bad_utf8},
      {"Gi%E1%BB%9B+i", id_status::bad_byte},                 // "Giới i": the space, once decoded
      {"%C2%80", id_status::bad_byte},                        // U+0080, a C1 control
      {repeat("a", 198) + "%E1%BB%9B", id_status::too_long},  // 201 bytes once decoded
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
        // Alone among 'x's, a byte >= 0x80 is never UTF-8: a continuation
        // without a lead, a lead without its continuations, or 0xF5..0xFF.
        id_status want = visible     ? id_status::ok
                         : b >= 0x80 ? id_status::bad_utf8
                                     : id_status::bad_byte;
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

// UTF-8, encoded here the textbook way, independently of the validator.
std::string utf8(char32_t c) {
  std::string out;
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
  return out;
}

TEST(DecodeId, Utf8EdgeCases) {
  struct row {
    std::string raw;
    id_status status;
  };
  const row table[] = {
      // Vietnamese: precomposed letters, and the same letters with combining marks.
      {"Gi\xE1\xBB\x9Bi", id_status::ok},       // "Giới", U+1EDB
      {"Gio\xCC\x9B\xCC\x81i", id_status::ok},  // "Giới", o + U+031B horn + U+0301 acute
      {"\xC4\x91\xC6\xB0\xE1\xBB\x9Dng", id_status::ok},  // "đường"
      {"\xF0\x9F\x98\x80", id_status::ok},                // U+1F600, a 4-byte emoji
      {"a\xF0\x9F\x98\x80z", id_status::ok},
      {"\xC2\xA1", id_status::ok},          // U+00A1, the first after C1 and NBSP
      {"\xDF\xBF", id_status::ok},          // U+07FF, the last 2-byte form
      {"\xE0\xA0\x80", id_status::ok},      // U+0800, the first 3-byte form
      {"\xED\x9F\xBF", id_status::ok},      // U+D7FF, just below the surrogates
      {"\xEE\x80\x80", id_status::ok},      // U+E000, just above them
      {"\xEF\xBF\xBD", id_status::ok},      // U+FFFD
      {"\xF0\x90\x80\x80", id_status::ok},  // U+10000, the first 4-byte form
      {"\xF4\x8F\xBF\xBF", id_status::ok},  // U+10FFFF, the last code point
      // Truncated sequences, at the end and mid-string.
      {"Gi\xE1\xBB", id_status::bad_utf8},
      {"Gi\xE1", id_status::bad_utf8},
      {"Gi\xE1\xBBi", id_status::bad_utf8},
      {"Gi\xE1i", id_status::bad_utf8},
      {"\xF0\x9F\x98", id_status::bad_utf8},
      {"\xF0\x9F\x98z", id_status::bad_utf8},
      {"\xC3", id_status::bad_utf8},
      // Lone continuation bytes.
      {"\x9B", id_status::bad_utf8},
      {"a\xBF"
       "b",
       id_status::bad_utf8},
      {"Gi\xE1\xBB\x9B\x9Bi", id_status::bad_utf8},  // one continuation too many
      // Overlong forms: one character, two spellings.
      {"\xC0\x80", id_status::bad_utf8},
      {"\xC0\xAF", id_status::bad_utf8},  // '/' overlong: must not pass for a slash
      {"\xC1\xBF", id_status::bad_utf8},
      {"\xE0\x80\x80", id_status::bad_utf8},
      {"\xE0\x9F\xBF", id_status::bad_utf8},
      {"\xF0\x80\x80\x80", id_status::bad_utf8},
      {"\xF0\x8F\xBF\xBF", id_status::bad_utf8},
      // Surrogates (UTF-16's halves, never characters).
      {"\xED\xA0\x80", id_status::bad_utf8},
      {"\xED\xBF\xBF", id_status::bad_utf8},
      {"\xED\xA0\xBD\xED\xB8\x80", id_status::bad_utf8},  // a CESU-8 emoji
      // Above U+10FFFF, and bytes UTF-8 never uses.
      {"\xF4\x90\x80\x80", id_status::bad_utf8},
      {"\xF5\x80\x80\x80", id_status::bad_utf8},
      {"\xF8\x88\x80\x80\x80", id_status::bad_utf8},
      {"\xFE", id_status::bad_utf8},
      // Controls and whitespace outside ASCII.
      {"\xC2\x80", id_status::bad_byte},                                 // U+0080, C1
      {"\xC2\x85", id_status::bad_byte},                                 // U+0085, next line
      {"\xC2\x9F", id_status::bad_byte},                                 // U+009F, C1
      {"Gi\xE1\xBB\x9Bi\xC2\xA0thi\xE1\xBB\x87u", id_status::bad_byte},  // NBSP
      {"\xE3\x80\x80", id_status::bad_byte},                      // U+3000, ideographic space
      {"\xE2\x80\xA8", id_status::bad_byte},                      // U+2028, line separator
      {"\xE2\x80\x8A", id_status::bad_byte},                      // U+200A, hair space
      {"Gi\xE1\xBB\x9Bi thi\xE1\xBB\x87u", id_status::bad_byte},  // "Giới thiệu": the space
      {"Gi\xE1\xBB\x9Bi\tthi\xE1\xBB\x87u", id_status::bad_byte},
      // The 200-byte limit is in bytes, wherever it falls in a character.
      {repeat("a", 197) + "\xE1\xBB\x9B", id_status::ok},  // 200 bytes
      {repeat("a", 198) + "\xE1\xBB\x9B", id_status::too_long},
      {repeat("a", 199) + "\xE1\xBB\x9B", id_status::too_long},
      {repeat("\xE1\xBB\x9B", 66) + "aa", id_status::ok},
      {repeat("\xE1\xBB\x9B", 67), id_status::too_long},
      {repeat("\xF0\x9F\x98\x80", 50), id_status::ok},  // 50 emoji
      {repeat("\xF0\x9F\x98\x80", 50) + "a", id_status::too_long},
  };
  for (const row& r : table) {
    SCOPED_TRACE(printable(r.raw));
    id_buffer scratch;
    const decoded_id d = decode_id(r.raw, scratch);
    EXPECT_EQ(d.status, r.status) << "got " << name(d.status) << ", want " << name(r.status);
    EXPECT_EQ(check_id_bytes(r.raw), r.status);
    // %-encoded, every byte: the same verdict on the decoded bytes.
    std::string encoded;
    for (unsigned char c : r.raw) {
      static const char digits[] = "0123456789ABCDEF";
      encoded += '%';
      encoded += digits[c >> 4];
      encoded += digits[c & 15];
    }
    id_buffer scratch2;
    const decoded_id e = decode_id(encoded, scratch2);
    EXPECT_EQ(e.status, r.status) << "encoded: got " << name(e.status);
    if (r.status == id_status::ok) {
      EXPECT_EQ(e.value, r.raw);
    }
  }
}

TEST(DecodeId, PrecomposedAndCombiningAreTwoIds) {
  // Ids are byte-exact, not normalised (ids.hpp says why).
  id_buffer a, b;
  const decoded_id precomposed = decode_id("Gi%E1%BB%9Bi", a);
  const decoded_id combining = decode_id("Gio%CC%9B%CC%81i", b);
  ASSERT_EQ(precomposed.status, id_status::ok);
  ASSERT_EQ(combining.status, id_status::ok);
  EXPECT_NE(precomposed.value, combining.value);
}

// Every code point, as UTF-8, at the start, middle and end of an id long
// enough for the 16-byte scan: valid unless it is a control, whitespace or a
// surrogate.
TEST(DecodeId, EveryCodePoint) {
  const std::u32string whitespace = {0x20,   0x85,   0xA0,   0x1680, 0x2000, 0x2001, 0x2002,
                                     0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009,
                                     0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000};
  std::size_t failures = 0;
  for (char32_t c = 0; c <= 0x10FFFF; ++c) {
    id_status want = id_status::ok;
    if (c >= 0xD800 && c <= 0xDFFF) {
      want = id_status::bad_utf8;
    } else if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) ||
               whitespace.find(c) != std::u32string::npos) {
      want = id_status::bad_byte;
    } else if (c == '%') {
      want = id_status::bad_escape;
    } else if (c == '+') {
      want = id_status::bad_byte;  // a space once decoded
    }
    const std::string ch = utf8(c);
    for (const std::string& s : {ch, "tin-tuc-" + ch + "-bai-1", "/tin-tuc/bai-viet-" + ch}) {
      id_buffer scratch;
      const decoded_id d = decode_id(s, scratch);
      if (d.status != want && ++failures <= 20) {
        ADD_FAILURE() << "U+" << std::hex << static_cast<std::uint32_t>(c) << std::dec << " in "
                      << printable(s) << ": got " << name(d.status) << ", want " << name(want);
      }
    }
  }
  EXPECT_EQ(failures, 0u);
}

TEST(IdStatusDetail, OneLinePerStatus) {
  EXPECT_EQ(id_status_detail(id_field::article, id_status::bad_utf8), "article is not valid UTF-8");
  EXPECT_EQ(id_status_detail(id_field::site, id_status::bad_byte),
            "site has a space or a control character");
  EXPECT_EQ(id_status_detail(id_field::site, id_status::too_long), "site is longer than 200 bytes");
  EXPECT_EQ(id_status_detail(id_field::article, id_status::ok), "");
}

}  // namespace
}  // namespace pvc
