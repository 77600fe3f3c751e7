#include "core/calendar.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <ctime>
#include <fstream>

namespace pvc {

civil_date to_civil(day_number d) noexcept {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{d}}};
  return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day())};
}

day_number from_civil(civil_date c) noexcept {
  const std::chrono::sys_days days{std::chrono::year{c.year} / std::chrono::month{c.month} /
                                   std::chrono::day{c.day}};
  return static_cast<day_number>(days.time_since_epoch().count());
}

std::string day_key(day_number d) {
  const civil_date c = to_civil(d);
  return fmt::format("{:04}{:02}{:02}", c.year, c.month, c.day);
}

std::string month_key(day_number d) {
  const civil_date c = to_civil(d);
  return fmt::format("{:04}{:02}", c.year, c.month);
}

day_number first_of_month(day_number d) noexcept {
  civil_date c = to_civil(d);
  c.day = 1;
  return from_civil(c);
}

month_number month_of(day_number d) noexcept {
  const civil_date c = to_civil(d);
  return c.year * 12 + static_cast<month_number>(c.month) - 1;
}

std::string month_number_key(month_number m) {
  return fmt::format("{:04}{:02}", m / 12, m % 12 + 1);
}

namespace {

// `text` as a number when it is all digits (and not empty).
std::optional<unsigned> digits_of(std::string_view text) {
  unsigned v = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (text.empty()) return std::nullopt;
  return v;
}

// Year and month of "YYYYMM...", checked; the day digits are the caller's.
std::optional<std::chrono::year_month> year_month_of(std::string_view text) {
  const auto y = digits_of(text.substr(0, 4)), m = digits_of(text.substr(4, 2));
  if (!y || !m || *y < 1970) return std::nullopt;
  const std::chrono::year_month ym{std::chrono::year{static_cast<int>(*y)}, std::chrono::month{*m}};
  if (!ym.ok()) return std::nullopt;
  return ym;
}

}  // namespace

std::optional<day_number> parse_day_key(std::string_view text) {
  if (text.size() != 8) return std::nullopt;
  const auto ym = year_month_of(text);
  const auto d = digits_of(text.substr(6, 2));
  if (!ym || !d) return std::nullopt;
  const std::chrono::year_month_day ymd = *ym / std::chrono::day{*d};
  if (!ymd.ok()) return std::nullopt;  // day 0, 20260230, 20250229
  return static_cast<day_number>(std::chrono::sys_days{ymd}.time_since_epoch().count());
}

std::optional<month_number> parse_month_key(std::string_view text) {
  if (text.size() != 6) return std::nullopt;
  const auto ym = year_month_of(text);
  if (!ym) return std::nullopt;
  return static_cast<int>(ym->year()) * 12 + static_cast<month_number>(unsigned(ym->month())) - 1;
}

std::string calendar::use_zone(std::string_view zone) {
  // Reject names that could escape the zoneinfo tree, then check the file is
  // a real TZif file: glibc silently falls back to UTC on an unknown name.
  if (zone.empty() || zone.front() == '/' || zone.find("..") != std::string_view::npos) {
    return fmt::format("timezone: '{}' is not an IANA zone name", zone);
  }
  const std::string path = fmt::format("/usr/share/zoneinfo/{}", zone);
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  if (!in.read(magic, 4) || std::string_view(magic, 4) != "TZif") {
    return fmt::format("timezone: '{}' is not a known zone ({} is missing or not a tzdata file)",
                       zone, path);
  }
  ::setenv("TZ", std::string(zone).c_str(), 1);
  ::tzset();
  return {};
}

day_number calendar::day_of(time_point t) noexcept {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::localtime_r(&tt, &tm);
  return from_civil(
      {tm.tm_year + 1900, static_cast<unsigned>(tm.tm_mon + 1), static_cast<unsigned>(tm.tm_mday)});
}

calendar::time_point calendar::next_midnight(time_point t) noexcept {
  const civil_date next = to_civil(day_of(t) + 1);
  std::tm tm{};
  tm.tm_year = next.year - 1900;
  tm.tm_mon = static_cast<int>(next.month) - 1;
  tm.tm_mday = static_cast<int>(next.day);
  tm.tm_isdst = -1;  // let the zone rules decide
  return std::chrono::system_clock::from_time_t(::mktime(&tm));
}

}  // namespace pvc
