#include "admin/audit_log.hpp"

#include <fmt/format.h>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <ctime>

namespace pvc {

std::string audit_key(std::int64_t unix_us) {
  return fmt::format("{}{:016x}", audit_key_prefix, static_cast<std::uint64_t>(unix_us));
}

bool parse_audit_key(std::string_view key, std::int64_t& unix_us) {
  if (key.size() != audit_key_prefix.size() + 16 || !key.starts_with(audit_key_prefix)) {
    return false;
  }
  std::uint64_t v = 0;
  for (char c : key.substr(audit_key_prefix.size())) {
    unsigned d = 0;
    if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<unsigned>(c - 'a' + 10);
    } else {
      return false;
    }
    v = v << 4 | d;
  }
  unix_us = static_cast<std::int64_t>(v);
  return true;
}

std::int64_t unix_us_now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string format_utc_microseconds(std::int64_t unix_us) {
  const std::time_t secs = static_cast<std::time_t>(unix_us / 1'000'000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, unix_us % 1'000'000);
}

boost::json::value details_value(std::string_view details) {
  if (details.empty()) return boost::json::object{};
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(details, ec);
  if (ec || !v.is_object()) return boost::json::string(details);
  return v;
}

std::string format_audit_record(const audit_entry& e, std::int64_t unix_us) {
  // boost::json::object keeps insertion order: readers see the documented order.
  return boost::json::serialize(boost::json::object{
      {"time", format_utc_microseconds(unix_us)},
      {"unix_us", unix_us},
      {"action", e.action},
      {"by", e.caller.by},
      {"peer", e.caller.peer},
      {"auth", e.caller.auth},
      {"reason", e.reason},
      {"details", details_value(e.details)},
  });
}

}  // namespace pvc
