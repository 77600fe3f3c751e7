#pragma once
// Free text in a form-encoded field (an admin reason, a caller's name, a
// path): %XX escapes and '+' for space decoded, then checked to be UTF-8
// without control characters, so it can be journaled and logged as is.
//
//   reason=bot+spike%20on%20home  ->  "bot spike on home"
//
// Pure function; writes only to `out`.
#include <cstddef>
#include <string>
#include <string_view>

namespace pvc {

// Decodes `raw` into `out` (replacing it). Returns "" or why the text is
// refused (a string literal): a bad escape, a control character, bytes that
// are not UTF-8, or more than `max_bytes` once decoded.
std::string_view decode_form_text(std::string_view raw, std::size_t max_bytes, std::string& out);

}  // namespace pvc
