#pragma once
// Site and article identifiers: 1-200 bytes of visible ASCII (0x21-0x7E) after
// URL-decoding. The same rule holds for every transport, so an id sent as
// "news%2Fa" over UDP and as "news/a" over HTTP is one article.
//
// Pure functions, no allocation: decoding writes into a caller's fixed buffer.
#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace pvc {

inline constexpr std::size_t max_id_bytes = 200;

// Scratch space for one decoded id. Lives on the caller's stack.
using id_buffer = std::array<char, max_id_bytes>;

enum class id_status { ok, empty, too_long, bad_byte, bad_escape };

struct decoded_id {
  id_status status = id_status::ok;
  std::string_view value;  // valid only when status == ok; may point into the input
};

// True when every byte is in 0x21..0x7E.
bool is_visible_ascii(std::string_view s) noexcept;

// Decodes %XX escapes and '+' (as a space, form-encoding rules) and checks the
// id rule. When the input has nothing to decode, the result points into `raw`
// and no byte is copied.
decoded_id decode_id(std::string_view raw, id_buffer& scratch) noexcept;

}  // namespace pvc
