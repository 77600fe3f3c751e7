// libFuzzer target: the hot-path id hash (pvc::hash_bytes, pvc::hash_key in
// daemon/core/hash.hpp), which reads ids with overlapping fixed-size loads.
//
// Each input is copied into a heap block of exactly its size (and once more at
// an odd offset), so AddressSanitizer reports any read past the end or before
// the start. Checks: the same bytes hash the same wherever they lie, under the
// same seed; hash_key is hash_bytes of the article seeded by the site's hash;
// bytes_equal (the table's key compare) agrees with memcmp, sees a change in
// any byte, and reads only the bytes it is given.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "core/hash.hpp"
#include "fuzz_check.hpp"

using namespace pvc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::uint64_t seed = 0x9e3779b97f4a7c15ULL;
  if (size >= 8) std::memcpy(&seed, data, 8);
  const std::size_t n = size;
  std::unique_ptr<char[]> exact(new char[n]);
  std::memcpy(exact.get(), data, n);
  std::unique_ptr<char[]> shifted(new char[n + 3]);
  std::memcpy(shifted.get() + 3, data, n);
  const std::string_view a(exact.get(), n), b(shifted.get() + 3, n);
  FUZZ_CHECK(hash_bytes(a, seed) == hash_bytes(b, seed));
  // Every prefix: the short-input paths (0..3, 4..8, 9..16 bytes) at the end of a block.
  for (std::size_t k = 0; k <= n && k <= 40; ++k) {
    std::unique_ptr<char[]> part(new char[k]);
    std::memcpy(part.get(), data, k);
    FUZZ_CHECK(hash_bytes({part.get(), k}, seed) == hash_bytes(a.substr(0, k), seed));
  }
  FUZZ_CHECK(bytes_equal(exact.get(), shifted.get() + 3, n));
  for (std::size_t i = 0; i < n && i < 64; ++i) {
    shifted[3 + i] = static_cast<char>(shifted[3 + i] ^ 0x20);
    FUZZ_CHECK(!bytes_equal(exact.get(), shifted.get() + 3, n));
    shifted[3 + i] = static_cast<char>(shifted[3 + i] ^ 0x20);
  }
  const std::size_t cut = n / 2;
  FUZZ_CHECK(bytes_equal(exact.get(), exact.get() + cut, cut) ==
             (std::memcmp(exact.get(), exact.get() + cut, cut) == 0));
  FUZZ_CHECK(hash_key(a.substr(0, cut), a.substr(cut), seed) ==
             hash_bytes(a.substr(cut), hash_bytes(a.substr(0, cut), seed)));
  return 0;
}
