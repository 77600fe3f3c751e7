#pragma once
// Minimal JSON text output for the read API: ids are UTF-8 without control
// characters (core/ids.hpp), so their bytes go out as they are (JSON text is
// UTF-8) and only '"' and '\\' ever need escaping; every control byte is
// handled anyway.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/hex.hpp"

namespace pvc {

inline void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      append_hex(out, std::string_view(&c, 1));
    } else {
      out += c;
    }
  }
  out += '"';
}

inline void append_json_number(std::string& out, std::uint64_t v) {
  out += std::to_string(v);
}

}  // namespace pvc
