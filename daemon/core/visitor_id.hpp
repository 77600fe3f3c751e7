#pragma once
// Who a visitor is, without keeping who they are: a keyed hash of (client
// address, User-Agent, site) under a secret salt that lives for one period.
//
//   month id = SipHash-2-4(month salt; address 0x00 User-Agent 0x00 site)
//   day id   = SipHash-2-4(day salt; month id, 8 bytes little-endian)
//
// The month id feeds the month's distinct-visitor sketch, "online now" and
// de-duplication (memory only); the day id feeds the day's sketch. Once a
// period's salt is deleted, nothing derived from it can be linked to an
// address again. The address and User-Agent are never stored or logged.
//
// Pure functions; thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/calendar.hpp"

namespace pvc {

struct salt {
  std::uint64_t k0 = 0;
  std::uint64_t k1 = 0;
  bool operator==(const salt&) const = default;
};

// 128 bits from the kernel's random source (getrandom(2)).
salt random_salt();

// 16 bytes, little-endian halves.
std::string encode_salt(const salt& s);
std::optional<salt> decode_salt(std::string_view bytes);

std::uint64_t month_visitor_id(const salt& month_salt, std::string_view address,
                               std::string_view user_agent, std::string_view site) noexcept;
std::uint64_t day_visitor_id(const salt& day_salt, std::uint64_t month_id) noexcept;

}  // namespace pvc
