#include "core/ids.hpp"

#include <cstdint>
#include <cstring>

namespace pvc {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// SWAR tests over eight bytes at once (the classic bit tricks): the hot path
// looks at every byte of every id, and a byte loop costs ~4x more.
constexpr std::uint64_t ones = 0x0101010101010101ULL;
constexpr std::uint64_t highs = 0x8080808080808080ULL;

// Some byte < n (exact as a yes/no for n <= 128).
constexpr std::uint64_t has_less(std::uint64_t x, std::uint8_t n) {
  return (x - ones * n) & ~x & highs;
}
// Some byte > 0x7E: adding 1 carries it into the high bit, or it is already set.
constexpr std::uint64_t has_above_7e(std::uint64_t x) {
  return ((x + ones) | x) & highs;
}
constexpr std::uint64_t has_byte(std::uint64_t x, std::uint8_t c) {
  const std::uint64_t y = x ^ (ones * c);
  return (y - ones) & ~y & highs;
}

struct byte_scan {
  bool invisible = false;  // some byte outside 0x21..0x7E
  bool escaped = false;    // some '%' or '+'
};

byte_scan scan(std::string_view s) noexcept {
  std::uint64_t bad = 0, esc = 0;
  const char* p = s.data();
  std::size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    bad |= has_less(w, 0x21) | has_above_7e(w);
    esc |= has_byte(w, '%') | has_byte(w, '+');
  }
  byte_scan out{bad != 0, esc != 0};
  for (; n > 0; ++p, --n) {
    const auto c = static_cast<unsigned char>(*p);
    out.invisible |= c < 0x21 || c > 0x7E;
    out.escaped |= c == '%' || c == '+';
  }
  return out;
}

id_status check(std::string_view s, bool invisible) noexcept {
  if (s.empty()) return id_status::empty;
  if (s.size() > max_id_bytes) return id_status::too_long;
  if (invisible) return id_status::bad_byte;
  return id_status::ok;
}

}  // namespace

bool is_visible_ascii(std::string_view s) noexcept {
  return !scan(s).invisible;
}

decoded_id decode_id(std::string_view raw, id_buffer& scratch) noexcept {
  // Fast path, one pass: most ids have nothing to decode.
  const byte_scan raw_scan = scan(raw);
  if (!raw_scan.escaped) return {check(raw, raw_scan.invisible), raw};
  std::size_t out = 0;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      if (i + 2 >= raw.size()) return {id_status::bad_escape, {}};  // needs two hex digits
      int hi = hex_value(raw[i + 1]);
      int lo = hex_value(raw[i + 2]);
      if (hi < 0 || lo < 0) return {id_status::bad_escape, {}};
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+') {
      c = ' ';
    }
    if (out == scratch.size()) return {id_status::too_long, {}};
    scratch[out++] = c;
  }
  std::string_view decoded(scratch.data(), out);
  return {check(decoded, scan(decoded).invisible), decoded};
}

}  // namespace pvc
