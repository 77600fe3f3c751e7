#pragma once
// SHA-256 and HMAC-SHA-256, for signed beacons and secret comparisons, from
// OpenSSL's libcrypto; checked against the FIPS 180-4 and RFC 4231 vectors
// in tests/unit/sha256_test.cpp. Pure functions, thread-safe.
#include <array>
#include <cstdint>
#include <string_view>

namespace pvc {

using sha256_digest = std::array<std::uint8_t, 32>;

// Both throw std::bad_alloc when libcrypto cannot allocate (its only
// failure with these fixed algorithms).
sha256_digest sha256(std::string_view data);
sha256_digest hmac_sha256(std::string_view key, std::string_view message);

// True when a and b are equal. The time taken depends only on the lengths,
// never on the bytes or where they first differ: it compares the SHA-256 of
// each with CRYPTO_memcmp, so strings of different lengths (an admin token
// and a guess) take no early exit that would give the token's length away.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace pvc
