#pragma once
// Site and article identifiers: 1-200 bytes of valid UTF-8 after URL-decoding,
// with no space, no other whitespace and no control character (C0, DEL, C1).
// The same rule holds for every transport, so an id sent as "tin-t%E1%BB%A9c"
// over UDP and as "tin-tức" over HTTP is one article.
//
// Why no space: a space separates the fields of a UDP line and of the beacon
// token's signed string (core/beacon_token.cpp); other whitespace (NBSP,
// U+3000...) looks like a space on screen, so it would give two ids that
// editors cannot tell apart. Why byte-exact (no NFC/NFD normalisation): a
// portal's pages send the same bytes for the same page every time, and
// normalising would need Unicode tables we do not ship (no ICU); so "Giới"
// precomposed and "Giới" with combining marks are two ids.
//
// Pure functions, no allocation: decoding writes into a caller's fixed buffer.
// An id of ASCII bytes only is checked by the SWAR/SSE2 scan below; the UTF-8
// validator runs only when a byte >= 0x80 is present.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <optional>
#include <string_view>

namespace pvc {

inline constexpr std::size_t max_id_bytes = 200;

// Scratch space for one decoded id. Lives on the caller's stack.
using id_buffer = std::array<char, max_id_bytes>;

enum class id_status {
  ok,
  empty,
  too_long,
  bad_byte,  // a space, other whitespace or a control character
  bad_utf8,  // an invalid, truncated, overlong or surrogate sequence, or above U+10FFFF
  bad_escape
};

enum class id_field { site, article };

// The one-line reason an id is refused ("article is not valid UTF-8"), a
// string literal; "" for ok.
std::string_view id_status_detail(id_field field, id_status status) noexcept;

struct decoded_id {
  id_status status = id_status::ok;
  std::string_view value;  // valid only when status == ok; may point into the input
};

namespace detail {

// SWAR tests over eight bytes at once (the classic bit tricks): the hot path
// looks at every byte of every id, and a byte loop costs ~4x more.
inline constexpr std::uint64_t ones = 0x0101010101010101ULL;
inline constexpr std::uint64_t highs = 0x8080808080808080ULL;

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
  bool invisible;  // some byte outside 0x21..0x7E: a control byte, a space or UTF-8
  bool escaped;    // some '%' or '+'
};

#if defined(__SSE2__)
// The two byte classes of the id rule, 16 bytes at once (0xFF per byte in
// the class). The UDP fast lane (udp_datagram.cpp) classifies with these too.
// Signed compare: "< 0x21" also catches 0x80..0xFF.
inline __m128i invisible_bytes16(__m128i v) noexcept {
  return _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x21)),
                      _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7F)));
}
inline __m128i escape_bytes16(__m128i v) noexcept {
  return _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('%')), _mm_cmpeq_epi8(v, _mm_set1_epi8('+')));
}
#endif

inline byte_scan scan(std::string_view s) noexcept {
  const char* p = s.data();
  std::size_t n = s.size();
#if defined(__SSE2__)
  // 16 bytes per step.
  if (n >= 16) {
    __m128i bad = _mm_setzero_si128(), esc = _mm_setzero_si128();
    auto step = [&](const char* q) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
      bad = _mm_or_si128(bad, invisible_bytes16(v));
      esc = _mm_or_si128(esc, escape_bytes16(v));
    };
    for (; n >= 16; p += 16, n -= 16)
      step(p);
    if (n > 0) step(p + n - 16);  // the last 16 bytes again, overlapping: still inside s
    return {_mm_movemask_epi8(bad) != 0, _mm_movemask_epi8(esc) != 0};
  }
#endif
  std::uint64_t bad = 0, esc = 0;
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    bad |= has_less(w, 0x21) | has_above_7e(w);
    esc |= has_byte(w, '%') | has_byte(w, '+');
  }
  bool invisible = bad != 0, escaped = esc != 0;
  for (; n > 0; ++p, --n) {
    const auto c = static_cast<unsigned char>(*p);
    invisible |= c < 0x21 || c > 0x7E;
    escaped |= c == '%' || c == '+';
  }
  return {invisible, escaped};
}

// The id rule on bytes that have some byte outside 0x21..0x7E: bad_byte,
// bad_utf8 or ok (UTF-8 text without whitespace or control characters).
id_status check_non_ascii(std::string_view s) noexcept;

inline id_status check(std::string_view s, bool invisible) noexcept {
  if (s.empty()) return id_status::empty;
  if (s.size() > max_id_bytes) return id_status::too_long;
  // [[unlikely]] is layout only: ASCII ids keep the straight path they had
  // before UTF-8 was allowed (measured: bench/RESULTS.md, "Ids in UTF-8").
  if (invisible) [[unlikely]]
    return check_non_ascii(s);
  return id_status::ok;
}

// The slow path of decode_id, for ids with escapes.
decoded_id decode_escaped(std::string_view raw, id_buffer& scratch) noexcept;

}  // namespace detail

// True when every byte is in 0x21..0x7E.
inline bool is_visible_ascii(std::string_view s) noexcept {
  return !detail::scan(s).invisible;
}

// The id rule on bytes as they stand (no %-decoding): ok, empty, too_long,
// bad_byte or bad_utf8. For ids read from a file (core/import_csv).
inline id_status check_id_bytes(std::string_view s) noexcept {
  return detail::check(s, detail::scan(s).invisible);
}

// Decodes %XX escapes and '+' (as a space, form-encoding rules) and checks the
// id rule, writing the id to `out`. When the input has nothing to decode (the
// common case, kept inline), `out` points into `raw` and no byte is copied.
// The hot path's form: a returned struct round-trips through memory and
// stalls the load.
inline id_status decode_id_to(std::string_view raw, id_buffer& scratch,
                              std::string_view& out) noexcept {
  const detail::byte_scan s = detail::scan(raw);
  if (!s.escaped) {
    out = raw;
    return detail::check(raw, s.invisible);
  }
  const decoded_id d = detail::decode_escaped(raw, scratch);
  out = d.value;
  return d.status;
}

// The same, returning status and id together.
inline decoded_id decode_id(std::string_view raw, id_buffer& scratch) noexcept {
  decoded_id d;
  d.status = decode_id_to(raw, scratch, d.value);
  return d;
}

}  // namespace pvc
