#include "core/config_values.hpp"

#include <gtest/gtest.h>

#include <string>

#include "test_support.hpp"

namespace pvc {
namespace {

using namespace std::chrono_literals;
using test::printable;

TEST(ParseDuration, MustAccept) {
  struct row {
    std::string text;
    std::chrono::milliseconds value;
  };
  const row table[] = {
      {"250ms", 250ms}, {"1s", 1s},   {"5m", 5min},   {"2h", 2h},       {"10ms", 10ms},
      {"60s", 60s},     {"90s", 90s}, {"1000ms", 1s}, {"8784h", 8784h},  // 366 days, the largest
                                                                         // value taken
  };
  for (const row& r : table) {
    SCOPED_TRACE(printable(r.text));
    const auto d = parse_duration(r.text);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, r.value);
  }
}

TEST(ParseDuration, MustReject) {
  const std::string table[] = {
      "1",
      "1.5s",
      "-1s",
      "s",
      "1d",
      "",
      "ms",
      " 1s",
      "1s ",
      "1 s",
      "1S",
      "1sec",
      "+1s",
      "1ms5",
      "1h30m",
      "0x10s",
      "8785h",  // beyond a year: a typo, not a setting
      "99999999999999999999999s",
  };
  for (const std::string& text : table) {
    SCOPED_TRACE(printable(text));
    const auto d = parse_duration(text);
    EXPECT_FALSE(d.has_value()) << "accepted as " << d->count() << "ms";
  }
}

TEST(FormatDuration, UsesTheLargestExactUnitAndRoundTrips) {
  struct row {
    std::chrono::milliseconds value;
    std::string text;
  };
  const row table[] = {
      {250ms, "250ms"}, {1s, "1s"},   {5min, "5m"},       {2h, "2h"},
      {90s, "90s"},     {0ms, "0ms"}, {1500ms, "1500ms"}, {61min, "61m"},
  };
  for (const row& r : table) {
    SCOPED_TRACE(r.text);
    EXPECT_EQ(format_duration(r.value), r.text);
    EXPECT_EQ(parse_duration(format_duration(r.value)), r.value);
  }
}

TEST(ParseEndpoint, MustAccept) {
  struct row {
    std::string text;
    endpoint value;
  };
  const row table[] = {
      {"127.0.0.1:8080", {"127.0.0.1", 8080}},
      {"[::1]:0", {"::1", 0}},  // port 0: the kernel picks
      {"localhost:1", {"127.0.0.1", 1}},
      {"0.0.0.0:65535", {"0.0.0.0", 65535}},
      {"[::]:80", {"::", 80}},
      {"[2001:db8::1]:443", {"2001:db8::1", 443}},
      {"10.1.2.3:0", {"10.1.2.3", 0}},
  };
  for (const row& r : table) {
    SCOPED_TRACE(printable(r.text));
    const auto e = parse_endpoint(r.text);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->host, r.value.host);
    EXPECT_EQ(e->port, r.value.port);
  }
}

TEST(ParseEndpoint, MustReject) {
  const std::string table[] = {
      "127.0.0.1:65536",
      "127.0.0.1:99999",
      "127.0.0.1:123456",
      "127.0.0.1:000080",  // more than five digits
      "127.0.0.1",         // host without port
      "localhost",
      "127.0.0.1:",
      ":80",
      "",
      "example.com:80",  // names other than localhost are not resolved
      "[::1:80",         // missing ']'
      "[::1",
      "::1:80",  // IPv6 needs brackets
      "[]:80",
      "[127.0.0.1]:80",
      "[example.com]:80",
      "256.0.0.1:80",
      "1.2.3:80",
      "127.0.0.1:-1",
      "127.0.0.1:+80",
      "127.0.0.1:80x",
      "127.0.0.1: 80",
      "127.0.0.1 :80",
      "LOCALHOST:80",
  };
  for (const std::string& text : table) {
    SCOPED_TRACE(printable(text));
    const auto e = parse_endpoint(text);
    EXPECT_FALSE(e.has_value()) << "accepted as " << e->host << " port " << e->port;
  }
}

TEST(FormatEndpoint, BracketsIpv6AndRoundTrips) {
  struct row {
    const char* host;
    std::uint16_t port;
    const char* text;
  };
  const row table[] = {
      {"127.0.0.1", 8080, "127.0.0.1:8080"},
      {"::1", 0, "[::1]:0"},
      {"2001:db8::1", 443, "[2001:db8::1]:443"},
  };
  for (const row& r : table) {
    SCOPED_TRACE(r.text);
    const endpoint e{r.host, r.port};
    EXPECT_EQ(format_endpoint(e), r.text);
    EXPECT_EQ(parse_endpoint(format_endpoint(e)), e);
  }
}

TEST(ParseSize, MustAccept) {
  struct row {
    std::string text;
    std::uint64_t value;
  };
  const row table[] = {
      {"65536", 65536},     {"64KiB", 64u << 10}, {"8MiB", 8u << 20},
      {"1GiB", 1u << 30},   {"1KiB", 1024},       {"0", 0},
      {"16384", 16 * 1024},
  };
  for (const row& r : table) {
    SCOPED_TRACE(printable(r.text));
    const auto n = parse_size(r.text);
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(*n, r.value);
  }
}

TEST(ParseSize, MustReject) {
  const std::string table[] = {
      "",
      "KiB",
      "64kib",
      "64KB",
      "64K",
      "64 KiB",
      "-1",
      "1.5MiB",
      "1TiB",
      "64KiBx",
      "+64",
      " 64",
      "64 ",
      "99999999999999999999999",
      "9999999999GiB",  // would overflow 64 bits
  };
  for (const std::string& text : table) {
    SCOPED_TRACE(printable(text));
    const auto n = parse_size(text);
    EXPECT_FALSE(n.has_value()) << "accepted as " << *n;
  }
}

}  // namespace
}  // namespace pvc
