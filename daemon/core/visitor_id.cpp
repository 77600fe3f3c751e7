#include "core/visitor_id.hpp"

#include <sys/random.h>

#include <random>

#include "core/siphash.hpp"

namespace pvc {

salt random_salt() {
  std::uint64_t words[2] = {0, 0};
  std::size_t got = 0;
  auto* bytes = reinterpret_cast<unsigned char*>(words);
  while (got < sizeof words) {
    const ssize_t n = ::getrandom(bytes + got, sizeof words - got, 0);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got < sizeof words) {
    // getrandom cannot fail on Linux >= 3.17 once the pool is ready; keep a
    // fallback rather than a fixed salt.
    std::random_device rd;
    words[0] = (std::uint64_t{rd()} << 32) ^ rd();
    words[1] = (std::uint64_t{rd()} << 32) ^ rd();
  }
  return {words[0], words[1]};
}

std::string encode_salt(const salt& s) {
  std::string out(16, '\0');
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>((s.k0 >> (8 * i)) & 0xff);
    out[8 + i] = static_cast<char>((s.k1 >> (8 * i)) & 0xff);
  }
  return out;
}

std::optional<salt> decode_salt(std::string_view bytes) {
  if (bytes.size() != 16) return std::nullopt;
  salt s;
  for (int i = 7; i >= 0; --i) {
    s.k0 = (s.k0 << 8) | static_cast<unsigned char>(bytes[i]);
    s.k1 = (s.k1 << 8) | static_cast<unsigned char>(bytes[8 + i]);
  }
  return s;
}

std::uint64_t month_visitor_id(const salt& month_salt, std::string_view address,
                               std::string_view user_agent, std::string_view site) noexcept {
  siphash24 h(month_salt.k0, month_salt.k1);
  static constexpr char sep = '\0';
  // Address and site never contain 0x00; a User-Agent could, so it goes
  // between them and its length is fixed by the separators on both sides.
  h.update(address);
  h.update(&sep, 1);
  h.update(user_agent);
  h.update(&sep, 1);
  h.update(site);
  return h.finish();
}

std::uint64_t day_visitor_id(const salt& day_salt, std::uint64_t month_id) noexcept {
  unsigned char b[8];
  for (int i = 0; i < 8; ++i)
    b[i] = static_cast<unsigned char>(month_id >> (8 * i));
  siphash24 h(day_salt.k0, day_salt.k1);
  h.update(b, sizeof b);
  return h.finish();
}

}  // namespace pvc
