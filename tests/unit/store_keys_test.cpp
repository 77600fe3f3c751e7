#include "core/store_keys.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "test_support.hpp"

// The key layout is pvcd's on-disk format: a store written by one version
// must be read by the next, so these strings are pinned byte for byte.
namespace pvc {
namespace {

using namespace std::string_literals;

TEST(StoreKeys, Layout) {
  struct row {
    std::string key;
    std::string bytes;
  };
  const row table[] = {
      {keys::site_total("blog"), "Tblog"},
      {keys::article_total("blog", "news/a"), "Tblog\0news/a"s},
      {keys::site_day("20261201", "blog"), "D20261201blog"},
      {keys::article_day("20261201", "blog", "a"), "D20261201blog\0a"s},
      {keys::site_month("202612", "blog"), "M202612blog"},
      {keys::site_marker("blog"), "Sblog"},
      {std::string(keys::flush_seq), "#flush_seq"},
  };
  for (const row& r : table) {
    SCOPED_TRACE(test::printable(r.bytes));
    EXPECT_EQ(r.key, r.bytes);
  }
}

TEST(StoreKeys, SiteAndArticleNeverRunTogether) {
  EXPECT_NE(keys::article_total("ab", "c"), keys::article_total("a", "bc"));
  EXPECT_NE(keys::site_total("blog"), keys::site_total("blog2"));
  EXPECT_NE(keys::article_day("20261201", "ab", "c"), keys::article_day("20261201", "a", "bc"));
}

TEST(StoreKeys, CountsAreEightBytesLittleEndian) {
  struct row {
    std::uint64_t value;
    std::string bytes;
  };
  const row table[] = {
      {0, std::string(8, '\0')},
      {1, "\x01\0\0\0\0\0\0\0"s},
      {0x0102030405060708ull, "\x08\x07\x06\x05\x04\x03\x02\x01"s},
      {std::numeric_limits<std::uint64_t>::max(), std::string(8, '\xff')},
  };
  for (const row& r : table) {
    SCOPED_TRACE(r.value);
    EXPECT_EQ(keys::encode_count(r.value), r.bytes);
    std::uint64_t back = 12345;
    ASSERT_TRUE(keys::decode_count(r.bytes, back));
    EXPECT_EQ(back, r.value);
  }
}

TEST(StoreKeys, DecodeRejectsWrongSizes) {
  for (const std::string& bad : {""s, "\x01"s, std::string(7, '\x01'), std::string(9, '\x01')}) {
    SCOPED_TRACE(bad.size());
    std::uint64_t out = 77;
    EXPECT_FALSE(keys::decode_count(bad, out));
    EXPECT_EQ(out, 77u);
  }
}

}  // namespace
}  // namespace pvc
