#pragma once
// A fast non-cryptographic 64-bit hash for ids on the hot path. Reads eight
// bytes at a time; quality is enough for open addressing with linear probing
// (ids are short, visible ASCII, and chosen by clients, so the seed is random
// per process to keep collision floods from being precomputed).
#include <cstdint>
#include <cstring>
#include <string_view>

namespace pvc {

namespace detail {
inline std::uint64_t mix64(std::uint64_t x) noexcept {
  // Finaliser with full avalanche (the one from SplitMix64).
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}
}  // namespace detail

inline std::uint64_t hash_bytes(std::string_view s, std::uint64_t seed) noexcept {
  constexpr std::uint64_t k = 0x9e3779b97f4a7c15ULL;
  std::uint64_t h = seed ^ (s.size() * k);
  const char* p = s.data();
  std::size_t n = s.size();
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ detail::mix64(w + k)) * k;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ detail::mix64(w + k + n)) * k;
  }
  return detail::mix64(h);
}

inline std::uint64_t hash_key(std::string_view site, std::string_view article,
                              std::uint64_t seed) noexcept {
  return hash_bytes(article, hash_bytes(site, seed));
}

// The process-wide seed, drawn once from the OS at first use.
std::uint64_t process_hash_seed() noexcept;

}  // namespace pvc
