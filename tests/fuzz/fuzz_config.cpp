// libFuzzer target: pvcd's configuration as a TOML file (the --config path,
// pvc::apply_config_text) and one key as a flag would set it
// (pvc::set_config_key), plus the value parsers under them.
//
// Input: the whole input is a TOML document; its first line is also tried as
// a key name with the rest of the input as that key's value.
// Checks, besides "no crash, no sanitizer report, no uncaught exception":
//   - an accepted configuration has every value within its documented bounds;
//   - an error names something (is not empty);
//   - durations, sizes and endpoints that parse, formatted and parsed again,
//     are the same value.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "app/config.hpp"
#include "core/config_values.hpp"
#include "fuzz_check.hpp"

using namespace pvc;
using namespace std::chrono_literals;

namespace {

void check_bounds(const config& c) {
  FUZZ_CHECK(c.flush_interval >= 10ms && c.flush_interval <= 60s);
  FUZZ_CHECK(c.threads <= 64);  // 0 = "one per core", resolved by load_config
  FUZZ_CHECK(c.max_sites >= 1 && c.max_sites <= 1'000'000);
  FUZZ_CHECK(c.http_idle_timeout >= 100ms && c.http_idle_timeout <= 1h);
  FUZZ_CHECK(c.http_max_body >= 64 && c.http_max_body <= (1u << 20));
  FUZZ_CHECK(c.udp_receive_buffer >= (64u << 10) && c.udp_receive_buffer <= (1u << 30));
  FUZZ_CHECK(!c.data_dir.empty());
  FUZZ_CHECK(std::isfinite(c.rate_limit) && c.rate_limit >= 0 && c.rate_limit <= 100000);
  FUZZ_CHECK(c.online_window >= 1min && c.online_window <= 1h);
  FUZZ_CHECK(c.dedupe_window >= 0ms && c.dedupe_window <= 24h);
  FUZZ_CHECK(c.max_tracked_keys >= 1000 && c.max_tracked_keys <= 100'000'000);
  for (const endpoint* e : {&c.http, &c.udp, &c.admin}) {
    const auto again = parse_endpoint(format_endpoint(*e));
    FUZZ_CHECK(again && *again == *e);
  }
}

void check_values(std::string_view text) {
  if (auto d = parse_duration(text)) {
    const auto again = parse_duration(format_duration(*d));
    FUZZ_CHECK(again && *again == *d);
  }
  if (auto e = parse_endpoint(text)) {
    const auto again = parse_endpoint(format_endpoint(*e));
    FUZZ_CHECK(again && *again == *e);
  }
  (void)parse_size(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  config whole;
  const std::string err = apply_config_text(whole, in, "fuzz.toml");
  if (err.empty()) check_bounds(whole);

  const std::size_t lf = in.find('\n');
  if (lf != std::string_view::npos) {
    config one;
    const std::string key(in.substr(0, lf));
    const std::string value(in.substr(lf + 1));
    const std::string e = set_config_key(one, key, value);
    if (e.empty()) check_bounds(one);
    check_values(value);
  } else {
    check_values(in);
  }
  return 0;
}
