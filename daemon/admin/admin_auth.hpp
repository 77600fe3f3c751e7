#pragma once
// Who may use the mutating admin routes (import, adjust, rename, merge,
// backup):
//   - with an admin token configured (admin_token_file): every caller, even on
//     loopback, sends `Authorization: Bearer TOKEN`; a missing or wrong token
//     is refused (401). Tokens are compared in constant time.
//   - without a token: only peers on loopback (127.0.0.0/8, ::1); others 403.
// Read routes (views, top, stats, export, audit, metrics) need neither.
//
// The token is never logged: errors name the file, not its content.
//
// Pure functions, thread-safe; load_admin_token reads a file.
#include <string>
#include <string_view>

namespace pvc {

// Shortest token accepted: 16 bytes keeps a random token out of reach of
// guessing even without rate limits.
inline constexpr std::size_t min_admin_token_bytes = 16;
inline constexpr std::size_t max_admin_token_bytes = 1024;

// The credentials of an `Authorization: Bearer TOKEN` header (scheme
// case-insensitive, spaces around TOKEN ignored); empty for anything else.
std::string_view bearer_credentials(std::string_view authorization) noexcept;

// True for a numeric loopback address: 127.0.0.0/8, ::1, ::ffff:127.x.y.z.
bool is_loopback_address(std::string_view numeric) noexcept;

enum class admin_access {
  token,          // allowed: the right token
  loopback,       // allowed: no token configured, peer on loopback
  missing_token,  // 401
  wrong_token,    // 401
  not_loopback,   // 403: no token configured, peer elsewhere
};

constexpr bool allowed(admin_access a) {
  return a == admin_access::token || a == admin_access::loopback;
}
std::string_view name_of(admin_access a);

// Decides a mutating request. `configured` is the live token, "" for none.
admin_access check_admin_access(std::string_view configured, std::string_view authorization,
                                std::string_view peer) noexcept;

// Reads the token from `path`: the file's text with surrounding whitespace
// removed, 16..1024 bytes of visible ASCII. Returns "" and sets `token`, or
// an error naming the path (never the content). `warning` is set when the
// file is readable by group or others.
std::string load_admin_token(const std::string& path, std::string& token, std::string& warning);

}  // namespace pvc
