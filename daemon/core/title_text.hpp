#pragma once
// An article's title: what a "Tin xem nhiều" box shows beside the count.
//
//   1-200 bytes of well-formed UTF-8 with no control character (C0, DEL,
//   C1), stored and returned exactly as given: a title is shown, never
//   compared, so it is not normalised.
//
// Titles arrive form-encoded (title= on /hit, pvctl's admin route) and in
// import files (raw). Pure functions; thread-safe.
#include <cstddef>
#include <string>
#include <string_view>

#include "core/form_text.hpp"
#include "core/utf8.hpp"

namespace pvc {

inline constexpr std::size_t max_title_bytes = 200;

// "" when `t` is a valid title, else why not (a string literal).
inline std::string_view check_title(std::string_view t) noexcept {
  if (t.empty()) return "title is empty";
  if (t.size() > max_title_bytes) return "title is longer than 200 bytes";
  if (!is_utf8(t)) return "title is not UTF-8";
  if (has_control_character(t)) return "title holds a control character";
  return {};
}

// Decodes a form-encoded title (%XX, '+' for space) into `out` and checks it.
inline std::string_view decode_title(std::string_view raw, std::string& out) {
  if (auto why = decode_form_text(raw, max_title_bytes, out); !why.empty()) {
    return why == "text is too long" ? "title is longer than 200 bytes" : why;
  }
  return check_title(out);
}

}  // namespace pvc
