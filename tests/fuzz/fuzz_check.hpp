#pragma once
// Shared by the fuzz targets: a check that aborts with a message (so
// libFuzzer saves the input as a crash), and the id rule written the slow,
// obvious way, as an oracle for the fast SWAR/SSE2 code in core/ids.hpp.
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

inline bool visible(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x21 || c > 0x7E) return false;
  return true;
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
    if (!visible(v)) return id_status::bad_byte;
    return id_status::ok;
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

// A valid hit: both ids 1..200 visible ASCII bytes.
inline void check_valid_id(std::string_view id) {
  FUZZ_CHECK(!id.empty());
  FUZZ_CHECK(id.size() <= max_id_bytes);
  FUZZ_CHECK(visible(id));
}

}  // namespace pvc::fuzz
