#include "core/ids.hpp"

#include <cstring>

namespace pvc {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

id_status check(std::string_view s) noexcept {
  if (s.empty()) return id_status::empty;
  if (s.size() > max_id_bytes) return id_status::too_long;
  if (!is_visible_ascii(s)) return id_status::bad_byte;
  return id_status::ok;
}

}  // namespace

bool is_visible_ascii(std::string_view s) noexcept {
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

decoded_id decode_id(std::string_view raw, id_buffer& scratch) noexcept {
  if (raw.find_first_of("%+") == std::string_view::npos) {
    return {check(raw), raw};
  }
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
  return {check(decoded), decoded};
}

}  // namespace pvc
