#include "admin/admin_auth.hpp"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/ids.hpp"
#include "core/sha256.hpp"

namespace pvc {

std::string_view bearer_credentials(std::string_view h) noexcept {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
      s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
      s.remove_suffix(1);
    return s;
  };
  h = trim(h);
  constexpr std::string_view scheme = "bearer";
  if (h.size() <= scheme.size() || (h[scheme.size()] != ' ' && h[scheme.size()] != '\t')) {
    return {};
  }
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    const char c = h[i] >= 'A' && h[i] <= 'Z' ? static_cast<char>(h[i] + 32) : h[i];
    if (c != scheme[i]) return {};
  }
  return trim(h.substr(scheme.size()));
}

bool is_loopback_address(std::string_view numeric) noexcept {
  char text[INET6_ADDRSTRLEN + 1];
  if (numeric.empty() || numeric.size() >= sizeof text) return false;
  std::memcpy(text, numeric.data(), numeric.size());
  text[numeric.size()] = '\0';
  in_addr v4{};
  if (::inet_pton(AF_INET, text, &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text, &v6) != 1) return false;
  static constexpr unsigned char loopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (std::memcmp(v6.s6_addr, loopback6, 16) == 0) return true;
  // An IPv4 client on a dual-stack socket: ::ffff:127.x.y.z.
  static constexpr unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(v6.s6_addr, mapped, 12) == 0 && v6.s6_addr[12] == 127;
}

std::string_view name_of(admin_access a) {
  switch (a) {
    case admin_access::token:
      return "token";
    case admin_access::loopback:
      return "loopback";
    case admin_access::missing_token:
      return "missing_token";
    case admin_access::wrong_token:
      return "wrong_token";
    case admin_access::not_loopback:
      return "not_loopback";
  }
  return "unknown";
}

admin_access check_admin_access(std::string_view configured, std::string_view authorization,
                                std::string_view peer) noexcept {
  if (configured.empty()) {
    return is_loopback_address(peer) ? admin_access::loopback : admin_access::not_loopback;
  }
  const std::string_view offered = bearer_credentials(authorization);
  if (offered.empty()) return admin_access::missing_token;
  return constant_time_equal(offered, configured) ? admin_access::token : admin_access::wrong_token;
}

std::string load_admin_token(const std::string& path, std::string& token, std::string& warning) {
  const std::string where = "admin_token_file: " + path + ": ";
  std::ifstream in(path, std::ios::binary);
  if (!in) return where + "cannot read: " + std::strerror(errno);
  // Read a little past the limit to tell "too long" from "just right".
  std::string text(max_admin_token_bytes + 64, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (in.bad()) return where + "cannot read";
  std::string_view t = text;
  while (!t.empty() &&
         (t.front() == ' ' || t.front() == '\t' || t.front() == '\r' || t.front() == '\n'))
    t.remove_prefix(1);
  while (!t.empty() &&
         (t.back() == ' ' || t.back() == '\t' || t.back() == '\r' || t.back() == '\n'))
    t.remove_suffix(1);
  if (t.empty()) return where + "the file is empty";
  if (t.size() > max_admin_token_bytes) return where + "the token is longer than 1024 bytes";
  if (t.size() < min_admin_token_bytes) return where + "the token is shorter than 16 bytes";
  if (!is_visible_ascii(t)) {
    return where + "the token must be one line of visible ASCII (no spaces)";
  }
  token.assign(t);
  warning.clear();
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    warning = "the file is readable by group or others; chmod 600 it";
  }
  return {};
}

}  // namespace pvc
