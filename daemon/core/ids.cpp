#include "core/ids.hpp"

#include "core/hex.hpp"

namespace pvc::detail {

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
  return {check(decoded.size(), scan(decoded).invisible), decoded};
}

}  // namespace pvc::detail
