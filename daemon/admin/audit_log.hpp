#pragma once
// The admin journal: every change made through the admin API (import,
// adjust, rename, merge) and every restore is recorded, append-only, with
// its time, the caller and the reason.
//
// Records live in the store itself, under their own keys, and each one is
// written in the same atomic write as the change it describes: the journal
// never shows a change that did not happen, nor misses one that did, and a
// backup carries the journal as of its counts.
//
//   #audit/<16 hex digits: microseconds since 1970, UTC>  ->  one JSON object
//
//   {"time":"2026-11-05T10:00:00.123456Z","unix_us":1793872800123456,
//    "action":"adjust","by":"alice@portal-1","peer":"127.0.0.1","auth":"token",
//    "reason":"bot spike","details":{...what changed...}}
//
// Pure functions, thread-safe.
#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace pvc {

struct audit_caller {
  std::string by;    // who the caller says they are (pvctl sends USER@HOST); may be empty
  std::string peer;  // the connection's numeric address; "local" for pvctl restore
  std::string auth;  // how the change was allowed: "token", "loopback" or "local"
};

struct audit_entry {
  std::string action;  // import, adjust, rename, merge, restore
  audit_caller caller;
  std::string reason;
  std::string details;  // a JSON object (one line) saying what changed; "" = {}
};

inline constexpr std::string_view audit_key_prefix = "#audit/";

// The record's key; keys sort by time.
std::string audit_key(std::int64_t unix_us);
// False when `key` is not an audit key.
bool parse_audit_key(std::string_view key, std::int64_t& unix_us);

// The stored JSON text of an entry written at `unix_us` (one line, no LF).
std::string format_audit_record(const audit_entry& e, std::int64_t unix_us);

// A details text (a JSON object, "" = {}) as a value. Text that is not a
// JSON object is kept as a JSON string: the record must stay valid JSON and
// still show what the store said.
boost::json::value details_value(std::string_view details);

// "2026-11-05T10:00:00.123456Z".
std::string format_utc_microseconds(std::int64_t unix_us);

// The wall clock in microseconds since the epoch (audit records, job times).
std::int64_t unix_us_now();

}  // namespace pvc
