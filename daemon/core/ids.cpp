#include "core/ids.hpp"

namespace pvc::detail {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

decoded_id decode_escaped(std::string_view raw, id_buffer& scratch) noexcept {
  std::size_t out = 0;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      if (i + 2 >= raw.size()) return {id_status::bad_escape, {}};  // needs two hex digits
      const int hi = hex_value(raw[i + 1]);
      const int lo = hex_value(raw[i + 2]);
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
  return {check(decoded.size(), scan(decoded).invisible), decoded};
}

}  // namespace pvc::detail
