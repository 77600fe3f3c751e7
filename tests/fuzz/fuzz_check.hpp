#pragma once
// Shared by the fuzz targets: a check that aborts with a message (so
// libFuzzer saves the input as a crash), and the id rule written the slow,
// obvious way, as an oracle for the fast SWAR/SSE2 scan and the UTF-8
// validator in core/ids.hpp: here UTF-8 is checked against the table of
// well-formed byte sequences (Unicode, chapter 3, table 3-7), there by
// decoding code points.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/ids.hpp"

#define FUZZ_CHECK(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

namespace pvc::fuzz {

// Well-formed UTF-8 sequences: each row is a lead byte range and the ranges
// of the bytes after it.
struct utf8_form {
  unsigned char lead_lo, lead_hi;
  int tail;
  unsigned char second_lo, second_hi;  // the second byte's range; later ones are 80..BF
};
inline constexpr utf8_form utf8_forms[] = {
    {0xC2, 0xDF, 1, 0x80, 0xBF}, {0xE0, 0xE0, 2, 0xA0, 0xBF}, {0xE1, 0xEC, 2, 0x80, 0xBF},
    {0xED, 0xED, 2, 0x80, 0x9F}, {0xEE, 0xEF, 2, 0x80, 0xBF}, {0xF0, 0xF0, 3, 0x90, 0xBF},
    {0xF1, 0xF3, 3, 0x80, 0xBF}, {0xF4, 0xF4, 3, 0x80, 0x8F},
};

// Characters no id may hold: C0, space, DEL, C1, and Unicode's other White_Space.
inline bool forbidden_char(char32_t c) {
  static constexpr char32_t spaces[] = {0xA0,   0x1680, 0x2000, 0x2001, 0x2002, 0x2003,
                                        0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009,
                                        0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000};
  if (c <= 0x20 || (c >= 0x7F && c <= 0x9F)) return true;
  for (char32_t w : spaces)
    if (c == w) return true;
  return false;
}

// The id rule's text part, left to right, the first problem deciding:
// ok, bad_utf8 (not well-formed) or bad_byte (a forbidden character).
inline id_status id_text_status(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    char32_t c = lead;
    int tail = 0;
    if (lead >= 0x80) {
      const utf8_form* form = nullptr;
      for (const utf8_form& f : utf8_forms)
        if (lead >= f.lead_lo && lead <= f.lead_hi) form = &f;
      // No such lead, or the string ends before its tail does.
      if (form == nullptr || s.size() - i <= static_cast<std::size_t>(form->tail)) {
        return id_status::bad_utf8;
      }
      tail = form->tail;
      c = lead & (0x7F >> (tail + 1));
      for (int k = 1; k <= tail; ++k) {
        const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
        const unsigned char lo = k == 1 ? form->second_lo : 0x80;
        const unsigned char hi = k == 1 ? form->second_hi : 0xBF;
        if (b < lo || b > hi) return id_status::bad_utf8;
        c = (c << 6) | (b & 0x3F);
      }
    }
    if (forbidden_char(c)) return id_status::bad_byte;
    i += 1 + static_cast<std::size_t>(tail);
  }
  return id_status::ok;
}

inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// decode_id, byte by byte: %XX and '+' decoded left to right; the first
// problem met (a bad escape, or a 201st output byte) decides the status.
inline decoded_id reference_decode(std::string_view raw, std::string& out) {
  out.clear();
  bool escaped = false;
  for (char c : raw)
    escaped |= c == '%' || c == '+';
  auto check = [](std::string_view v) {
    if (v.empty()) return id_status::empty;
    if (v.size() > max_id_bytes) return id_status::too_long;
    return id_text_status(v);
  };
  if (!escaped) return {check(raw), raw};
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      if (i + 2 >= raw.size()) return {id_status::bad_escape, {}};
      const int hi = hex_digit(raw[i + 1]), lo = hex_digit(raw[i + 2]);
      if (hi < 0 || lo < 0) return {id_status::bad_escape, {}};
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+') {
      c = ' ';
    }
    if (out.size() == max_id_bytes) return {id_status::too_long, {}};
    out += c;
  }
  return {check(out), out};
}

// Every byte as %XX: decodes back to `id` under any of pvcd's id rules.
inline std::string encode_all(std::string_view id) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : id) {
    out += '%';
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// Whether `id` is a valid id as stored: 1..200 bytes of well-formed UTF-8
// without space, whitespace or control characters (so no 0x00 either, the
// store keys' separator).
inline bool valid_id(std::string_view id) {
  return !id.empty() && id.size() <= max_id_bytes && id_text_status(id) == id_status::ok;
}

// Every accepted id must be one.
inline void check_valid_id(std::string_view id) {
  FUZZ_CHECK(!id.empty());
  FUZZ_CHECK(id.size() <= max_id_bytes);
  FUZZ_CHECK(id_text_status(id) == id_status::ok);
  FUZZ_CHECK(id.find('\0') == std::string_view::npos);
}

}  // namespace pvc::fuzz
