#pragma once
// Local calendar days in the configured IANA time zone. Counts are kept per
// local day; "today", "yesterday" and "this month" follow local midnight.
//
// Days are numbered as days since 1970-01-01 in the local calendar (a civil
// day number), so yesterday is `day - 1` and the month is derived from the
// number alone.
//
// The zone rules come from the C library (tzdata in /usr/share/zoneinfo):
// `calendar::use_zone` sets TZ for the whole process and must run before any
// other thread starts. After that every member is thread-safe.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pvc {

using day_number = std::int32_t;

struct civil_date {
  int year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

civil_date to_civil(day_number d) noexcept;
day_number from_civil(civil_date c) noexcept;

// "YYYYMMDD" and "YYYYMM", the forms used in store keys and the API.
std::string day_key(day_number d);
std::string month_key(day_number d);
// First day of the month that `d` is in.
day_number first_of_month(day_number d) noexcept;

// Months numbered like days: year * 12 + (month - 1), so the next month is + 1.
using month_number = std::int32_t;
month_number month_of(day_number d) noexcept;
std::string month_number_key(month_number m);  // "YYYYMM"

// The one reader of "YYYYMMDD" and "YYYYMM" (API parameters, import files,
// store keys): exactly 8 / 6 digits naming a real date from 1970 on, so
// 20260230 and 202613 are refused rather than rolled into the next month.
std::optional<day_number> parse_day_key(std::string_view text);
std::optional<month_number> parse_month_key(std::string_view text);

class calendar {
 public:
  // Checks that `zone` names a readable tzdata file and makes it the
  // process's zone. Returns an error message, or "" on success.
  static std::string use_zone(std::string_view zone);

  using time_point = std::chrono::system_clock::time_point;

  // The local day that instant t falls on.
  static day_number day_of(time_point t) noexcept;
  // The instant the local day after the one containing t begins.
  static time_point next_midnight(time_point t) noexcept;
};

// Steady time in whole seconds: "online now", de-duplication windows and
// cache ages, which must not jump with the wall clock.
inline std::int64_t steady_seconds() noexcept {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace pvc
