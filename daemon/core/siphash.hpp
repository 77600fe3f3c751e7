#pragma once
// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
// 2012), written from the paper: a keyed 64-bit hash, so a visitor id cannot
// be recomputed, or tested against a guessed address, without the secret key.
//
//   state v0..v3 from the 128-bit key (k0, k1 little-endian halves)
//   each 8-byte little-endian word m:  v3 ^= m; 2 x SipRound; v0 ^= m
//   last word: the 0..7 tail bytes with (length mod 256) in the top byte
//   finish: v2 ^= 0xff; 4 x SipRound; v0 ^ v1 ^ v2 ^ v3
//
// Streaming, so the parts of a visitor (address, User-Agent, site) are hashed
// in place without being copied into one buffer. No allocation.
//
// Not thread-safe (a value type); use one per computation.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace pvc {

class siphash24 {
 public:
  siphash24(std::uint64_t k0, std::uint64_t k1) noexcept
      : v0_(k0 ^ 0x736f6d6570736575ULL),
        v1_(k1 ^ 0x646f72616e646f6dULL),
        v2_(k0 ^ 0x6c7967656e657261ULL),
        v3_(k1 ^ 0x7465646279746573ULL) {}

  void update(const void* data, std::size_t n) noexcept {
    const auto* p = static_cast<const unsigned char*>(data);
    total_ += n;
    // Fill a pending partial word first.
    while (ntail_ != 0 && n != 0) {
      tail_ |= std::uint64_t{*p++} << (8 * ntail_);
      --n;
      if (++ntail_ == 8) {
        compress(tail_);
        tail_ = 0;
        ntail_ = 0;
      }
    }
    for (; n >= 8; p += 8, n -= 8)
      compress(load_le(p));
    for (; n != 0; --n)
      tail_ |= std::uint64_t{*p++} << (8 * ntail_++);
  }
  void update(std::string_view s) noexcept { update(s.data(), s.size()); }

  std::uint64_t finish() noexcept {
    const std::uint64_t b = (total_ << 56) | tail_;
    compress(b);
    v2_ ^= 0xff;
    for (int i = 0; i < 4; ++i)
      round();
    return v0_ ^ v1_ ^ v2_ ^ v3_;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int b) noexcept { return (x << b) | (x >> (64 - b)); }
  static std::uint64_t load_le(const unsigned char* p) noexcept {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
      v = (v << 8) | p[i];
    return v;
  }
  void round() noexcept {
    v0_ += v1_;
    v1_ = rotl(v1_, 13);
    v1_ ^= v0_;
    v0_ = rotl(v0_, 32);
    v2_ += v3_;
    v3_ = rotl(v3_, 16);
    v3_ ^= v2_;
    v0_ += v3_;
    v3_ = rotl(v3_, 21);
    v3_ ^= v0_;
    v2_ += v1_;
    v1_ = rotl(v1_, 17);
    v1_ ^= v2_;
    v2_ = rotl(v2_, 32);
  }
  void compress(std::uint64_t m) noexcept {
    v3_ ^= m;
    round();
    round();
    v0_ ^= m;
  }

  std::uint64_t v0_, v1_, v2_, v3_;
  std::uint64_t tail_ = 0;  // pending bytes, little-endian
  std::size_t ntail_ = 0;
  std::uint64_t total_ = 0;  // bytes so far; only the low 8 bits enter the hash
};

// One-shot SipHash-2-4 of `data` under the key (k0, k1).
inline std::uint64_t siphash(std::uint64_t k0, std::uint64_t k1, std::string_view data) noexcept {
  siphash24 h(k0, k1);
  h.update(data);
  return h.finish();
}

}  // namespace pvc
