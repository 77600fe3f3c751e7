#pragma once
// A fast non-cryptographic 64-bit hash for ids on the hot path. Reads eight
// bytes at a time; quality is enough for open addressing with linear probing
// (ids are short, mostly ASCII, and chosen by clients, so the seed is random
// per process to keep collision floods from being precomputed).
#include <cstdint>
#include <cstring>
#include <string_view>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace pvc {

namespace detail {

// A 64-bit finaliser with full avalanche (SplitMix64's), for integers.
inline std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

__extension__ using u128 = unsigned __int128;  // GCC/Clang extension; fine on x86-64 and arm64

// Multiply to 128 bits and fold: one multiplication mixes 128 input bits.
inline std::uint64_t fold_mul(std::uint64_t a, std::uint64_t b) noexcept {
  const u128 r = static_cast<u128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

inline std::uint64_t load8(const char* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

inline std::uint64_t load4(const char* p) noexcept {
  std::uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

inline constexpr std::uint64_t k0 = 0xa0761d6478bd642fULL;
inline constexpr std::uint64_t k1 = 0xe7037ed1a0b428dbULL;
inline constexpr std::uint64_t k2 = 0x8ebc6af09c88c6e3ULL;

}  // namespace detail

// 16 bytes per multiplication (the folded-multiply construction of wyhash and
// rapidhash, written here from the idea): ids are 10-60 bytes, so a key
// costs a handful of multiplications.
inline std::uint64_t hash_bytes(std::string_view s, std::uint64_t seed) noexcept {
  using namespace detail;
  const char* p = s.data();
  std::size_t n = s.size();
  std::uint64_t h = seed ^ fold_mul(seed ^ k0, n ^ k1);
  for (; n > 16; p += 16, n -= 16)
    h = fold_mul(load8(p) ^ k1 ^ h, load8(p + 8) ^ k2);
  // The last 1..16 bytes, read with overlapping fixed-size loads (never past
  // the end, and no variable-length copy, which would stall the CPU's store
  // forwarding); the length, mixed in last, tells overlaps apart.
  std::uint64_t a = 0, b = 0;
  if (n > 8) {
    a = load8(p);
    b = load8(p + n - 8);
  } else if (n >= 4) {
    a = (load4(p) << 32) | load4(p + n - 4);
  } else if (n > 0) {
    a = (std::uint64_t{static_cast<unsigned char>(p[0])} << 16) |
        (std::uint64_t{static_cast<unsigned char>(p[n >> 1])} << 8) |
        static_cast<unsigned char>(p[n - 1]);
  }
  return fold_mul(fold_mul(a ^ k1 ^ h, b ^ k2) ^ k0, s.size() ^ k1);
}

inline std::uint64_t hash_key(std::string_view site, std::string_view article,
                              std::uint64_t seed) noexcept {
  return hash_bytes(article, hash_bytes(site, seed));
}

// a[0..n) == b[0..n), for the short keys a hash table compares after a hash
// match: 16 (or 8) bytes per step and an overlapping last load, inlined,
// where memcmp is a call through the PLT that costs more than the compare.
inline bool bytes_equal(const char* a, const char* b, std::size_t n) noexcept {
  using namespace detail;
#if defined(__SSE2__)
  if (n >= 16) {
    auto same16 = [](const char* x, const char* y) {
      const __m128i vx = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x));
      const __m128i vy = _mm_loadu_si128(reinterpret_cast<const __m128i*>(y));
      return _mm_movemask_epi8(_mm_cmpeq_epi8(vx, vy)) == 0xFFFF;
    };
    for (std::size_t i = 0; i + 16 < n; i += 16)
      if (!same16(a + i, b + i)) return false;
    return same16(a + n - 16, b + n - 16);
  }
#endif
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8)
      if (load8(a + i) != load8(b + i)) return false;
    return load8(a + n - 8) == load8(b + n - 8);
  }
  if (n >= 4) return ((load4(a) ^ load4(b)) | (load4(a + n - 4) ^ load4(b + n - 4))) == 0;
  for (std::size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// a == b with bytes_equal: for loops that compare many short ids.
inline bool same_id(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && bytes_equal(a.data(), b.data(), a.size());
}

// The process-wide seed, drawn once from the OS at first use.
std::uint64_t process_hash_seed() noexcept;

// The hasher for hash maps keyed by ids that clients choose (site names):
// hash_bytes with the process seed. Transparent, so a map of std::string
// looks up a string_view without a copy.
struct seeded_string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return hash_bytes(s, process_hash_seed());
  }
};

}  // namespace pvc
