#include "core/ids.hpp"

#include <cstdint>

#include "core/hex.hpp"

namespace pvc {
namespace {

// Whitespace and control characters outside ASCII: C1 (U+0080-U+009F) and
// Unicode's White_Space code points. They look like nothing or like a space,
// so an id holding one could not be told from its neighbour on screen.
bool is_space_or_control(char32_t c) noexcept {
  if (c <= 0x9F) return true;  // called for c >= 0x80 only: C1 controls
  switch (c) {
    case 0x00A0:  // no-break space
    case 0x1680:  // ogham space mark
    case 0x2028:  // line separator
    case 0x2029:  // paragraph separator
    case 0x202F:  // narrow no-break space
    case 0x205F:  // medium mathematical space
    case 0x3000:  // ideographic space
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;  // en quad .. hair space
  }
}

bool is_continuation(unsigned char b) noexcept {
  return (b & 0xC0) == 0x80;
}

}  // namespace

std::string_view id_status_detail(id_field field, id_status status) noexcept {
  const bool site = field == id_field::site;
  switch (status) {
    case id_status::ok:
      return {};
    case id_status::empty:
      return site ? "site is empty" : "article is empty";
    case id_status::too_long:
      return site ? "site is longer than 200 bytes" : "article is longer than 200 bytes";
    case id_status::bad_byte:
      return site ? "site has a space or a control character"
                  : "article has a space or a control character";
    case id_status::bad_utf8:
      return site ? "site is not valid UTF-8" : "article is not valid UTF-8";
    case id_status::bad_escape:
      return site ? "site has a bad %-escape" : "article has a bad %-escape";
  }
  return site ? "site is invalid" : "article is invalid";
}

namespace detail {

// UTF-8 as RFC 3629 defines it: the lead byte gives the length and the
// smallest code point that length may carry (a smaller one is an overlong
// form, which would give one character two spellings and so two ids).
id_status check_non_ascii(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* const end = p + s.size();
  while (p < end) {
    const unsigned char lead = *p;
    if (lead < 0x80) {
      if (lead <= 0x20 || lead == 0x7F) return id_status::bad_byte;
      ++p;
      continue;
    }
    std::size_t length;
    char32_t c, smallest;
    if (lead >= 0xC0 && lead <= 0xDF) {
      length = 2, c = lead & 0x1F, smallest = 0x80;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3, c = lead & 0x0F, smallest = 0x800;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4, c = lead & 0x07, smallest = 0x10000;
    } else {
      return id_status::bad_utf8;  // a continuation byte first, or 0xF5..0xFF
    }
    if (static_cast<std::size_t>(end - p) < length) return id_status::bad_utf8;  // truncated
    for (std::size_t k = 1; k < length; ++k) {
      if (!is_continuation(p[k])) return id_status::bad_utf8;
      c = (c << 6) | (p[k] & 0x3F);
    }
    if (c < smallest || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return id_status::bad_utf8;
    if (is_space_or_control(c)) return id_status::bad_byte;
    p += length;
  }
  return id_status::ok;
}

decoded_id decode_escaped(std::string_view raw, id_buffer& scratch) noexcept {
  std::size_t out = 0;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      if (i + 2 >= raw.size()) return {id_status::bad_escape, {}};  // needs two hex digits
      const int hi = hex_digit_value(raw[i + 1]);
      const int lo = hex_digit_value(raw[i + 2]);
      if (hi < 0 || lo < 0) return {id_status::bad_escape, {}};
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+') {
      c = ' ';
    }
    if (out == scratch.size()) return {id_status::too_long, {}};
    scratch[out++] = c;
  }
  const std::string_view decoded(scratch.data(), out);
  return {check(decoded, scan(decoded).invisible), decoded};
}

}  // namespace detail
}  // namespace pvc
