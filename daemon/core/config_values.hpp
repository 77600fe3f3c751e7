#pragma once
// Parsers for the value types used in the config file and on the command
// line. Pure functions; each returns an empty optional on bad input.
//
//   duration:  INTEGER UNIT        "250ms", "1s", "5m", "2h"  (no sign, one unit)
//   endpoint:  HOST ":" PORT       "127.0.0.1:8080", "[::1]:0", "localhost:8081"
//              HOST is an IPv4 or bracketed IPv6 literal, or "localhost"
//              (127.0.0.1); PORT 0..65535, 0 = the kernel picks a free port.
//   size:      INTEGER [UNIT]      "65536", "64KiB", "8MiB", "1GiB"
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pvc {

struct endpoint {
  std::string host;  // numeric address, without brackets
  std::uint16_t port = 0;
  bool operator==(const endpoint&) const = default;
};

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
std::optional<endpoint> parse_endpoint(std::string_view text);
std::optional<std::uint64_t> parse_size(std::string_view text);

std::string format_endpoint(const endpoint& e);
std::string format_duration(std::chrono::milliseconds d);

}  // namespace pvc
