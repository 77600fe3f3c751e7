#include "core/form_text.hpp"

#include "core/hex.hpp"

namespace pvc {
namespace {

// Well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, up to U+10FFFF).
bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    unsigned lo = 0x80, hi = 0xBF;  // range of the first continuation byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace

std::string_view decode_form_text(std::string_view raw, std::size_t max_bytes, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      const int h = i + 2 < raw.size() ? hex_digit_value(raw[i + 1]) : -1;
      const int l = h >= 0 ? hex_digit_value(raw[i + 2]) : -1;
      if (h < 0 || l < 0) return "a % is not followed by two hex digits";
      c = static_cast<char>(h * 16 + l);
      i += 2;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return "text holds a control character";
    if (out.size() == max_bytes) return "text is too long";
    out += c;
  }
  if (!is_utf8(out)) return "text is not UTF-8";
  return {};
}

}  // namespace pvc
