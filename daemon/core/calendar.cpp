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
