#pragma once
// Lowercase hexadecimal text of bytes, two digits a byte: digests in beacon
// tokens, export cursors, JSON \u escapes. The one encoder pvcd has.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace pvc {

void append_hex(std::string& out, std::string_view bytes);
std::string to_hex(std::string_view bytes);
std::string to_hex(std::span<const std::uint8_t> bytes);  // a sha256_digest, say

// 0..15 for a hex digit in either case, -1 for anything else. Inline: the
// hit parser decodes %XX escapes with it on every request.
constexpr int hex_digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The bytes `hex` spells, digits in either case, into `out`. False (and
// `out` unspecified) for an odd length or a character that is not a digit.
bool from_hex(std::string_view hex, std::string& out);

}  // namespace pvc
