#pragma once
// SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), for signed beacons.
// Small and dependency-free; checked against the FIPS and RFC 4231 vectors
// in tests/unit/sha256_test.cpp. Pure functions, thread-safe.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace pvc {

using sha256_digest = std::array<std::uint8_t, 32>;

sha256_digest sha256(std::string_view data);
sha256_digest hmac_sha256(std::string_view key, std::string_view message);

// True when a and b are equal. The time taken depends only on the longer
// length, never on the bytes or where they first differ (tokens and admin
// secrets).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace pvc
