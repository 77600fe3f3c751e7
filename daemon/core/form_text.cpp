#include "core/form_text.hpp"

#include "core/hex.hpp"
#include "core/utf8.hpp"

namespace pvc {
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
