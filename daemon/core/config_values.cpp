#include "core/config_values.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>

namespace pvc {
namespace {

// Leading decimal digits of `text` as a number; `rest` gets what follows.
std::optional<std::uint64_t> leading_number(std::string_view text, std::string_view& rest) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end == text.data()) return std::nullopt;
  rest = text.substr(static_cast<std::size_t>(end - text.data()));
  return value;
}

bool is_ip_literal(const std::string& host, bool v6) {
  // inet_pton reads a C string: "127.0.0.1\0junk" would pass as 127.0.0.1.
  if (host.find('\0') != std::string::npos) return false;
  unsigned char buf[16];
  return ::inet_pton(v6 ? AF_INET6 : AF_INET, host.c_str(), buf) == 1;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::string_view unit;
  auto n = leading_number(text, unit);
  if (!n) return std::nullopt;
  std::uint64_t ms_per_unit = 0;
  if (unit == "ms")
    ms_per_unit = 1;
  else if (unit == "s")
    ms_per_unit = 1000;
  else if (unit == "m")
    ms_per_unit = 60'000;
  else if (unit == "h")
    ms_per_unit = 3'600'000;
  else
    return std::nullopt;
  // Anything beyond a year is a typo, and keeps the multiplication far from overflow.
  if (*n > 366ull * 24 * 3'600'000 / ms_per_unit) return std::nullopt;
  return std::chrono::milliseconds(*n * ms_per_unit);
}

std::optional<endpoint> parse_endpoint(std::string_view text) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  std::string_view rest;
  auto port = leading_number(port_text, rest);
  if (!port || !rest.empty() || *port > 65535 || port_text.size() > 5) return std::nullopt;
  endpoint e;
  e.port = static_cast<std::uint16_t>(*port);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    e.host = std::string(host.substr(1, host.size() - 2));
    if (!is_ip_literal(e.host, true)) return std::nullopt;
  } else if (host == "localhost") {
    e.host = "127.0.0.1";
  } else {
    e.host = std::string(host);
    if (!is_ip_literal(e.host, false)) return std::nullopt;
  }
  return e;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::string_view unit;
  auto n = leading_number(text, unit);
  if (!n) return std::nullopt;
  int shift = 0;
  if (unit.empty())
    shift = 0;
  else if (unit == "KiB")
    shift = 10;
  else if (unit == "MiB")
    shift = 20;
  else if (unit == "GiB")
    shift = 30;
  else
    return std::nullopt;
  if (*n > (std::uint64_t{1} << (62 - shift))) return std::nullopt;
  return *n << shift;
}

std::string format_endpoint(const endpoint& e) {
  if (e.host.find(':') != std::string::npos) return fmt::format("[{}]:{}", e.host, e.port);
  return fmt::format("{}:{}", e.host, e.port);
}

std::string format_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms % 3'600'000 == 0 && ms != 0) return fmt::format("{}h", ms / 3'600'000);
  if (ms % 60'000 == 0 && ms != 0) return fmt::format("{}m", ms / 60'000);
  if (ms % 1000 == 0 && ms != 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

}  // namespace pvc
