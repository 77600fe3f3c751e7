#pragma once
// UTF-8 checks shared by every text pvcd accepts from outside (admin free
// text, article titles): RFC 3629 well-formedness and control characters.
//
// Pure functions, no allocation; thread-safe.
#include <cstddef>
#include <string_view>

namespace pvc {

// Well-formed UTF-8: no overlong forms, no surrogates (U+D800..U+DFFF), no
// code point past U+10FFFF, no truncated sequence.
inline bool is_utf8(std::string_view s) noexcept {
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
      if (c == 0xE0) lo = 0xA0;  // below: overlong
      if (c == 0xED) hi = 0x9F;  // above: surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0) lo = 0x90;  // below: overlong
      if (c == 0xF4) hi = 0x8F;  // above: past U+10FFFF
    } else {
      return false;  // a continuation byte first, C0/C1 (overlong) or F5..FF
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

// Some C0 control (U+0000..U+001F), DEL (U+007F) or C1 control
// (U+0080..U+009F, encoded C2 80..C2 9F). For well-formed UTF-8 input.
inline bool has_control_character(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return true;
  }
  return false;
}

}  // namespace pvc
