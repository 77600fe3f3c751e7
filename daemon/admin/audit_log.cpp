#include "admin/audit_log.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>

#include "core/json_text.hpp"

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

std::string format_audit_record(const audit_entry& e, std::int64_t unix_us) {
  std::string out = "{\"time\":";
  append_json_string(out, format_utc_microseconds(unix_us));
  out += ",\"unix_us\":";
  out += std::to_string(unix_us);
  out += ",\"action\":";
  append_json_string(out, e.action);
  out += ",\"by\":";
  append_json_string(out, e.caller.by);
  out += ",\"peer\":";
  append_json_string(out, e.caller.peer);
  out += ",\"auth\":";
  append_json_string(out, e.caller.auth);
  out += ",\"reason\":";
  append_json_string(out, e.reason);
  out += ",\"details\":";
  out += e.details.empty() ? "{}" : e.details;
  out += '}';
  return out;
}

}  // namespace pvc
