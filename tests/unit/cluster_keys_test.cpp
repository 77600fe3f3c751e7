#include "core/cluster_keys.hpp"

#include <gtest/gtest.h>

namespace pvc {
namespace {

TEST(ClusterKeys, EveryKeyOfASiteStartsWithItsTag) {
  const day_number dec7 = 20794;  // 2026-12-07
  EXPECT_EQ(cluster_keys::total("soctrang.gov.vn"), "pvc:{soctrang.gov.vn}:t");
  EXPECT_EQ(cluster_keys::articles("soctrang.gov.vn"), "pvc:{soctrang.gov.vn}:a");
  EXPECT_EQ(cluster_keys::day_total("s", dec7), "pvc:{s}:d:20261207");
  EXPECT_EQ(cluster_keys::day_articles("s", dec7), "pvc:{s}:ad:20261207");
  EXPECT_EQ(cluster_keys::month_total("s", dec7), "pvc:{s}:m:202612");
  EXPECT_EQ(cluster_keys::month_articles("s", dec7), "pvc:{s}:am:202612");
  EXPECT_EQ(cluster_keys::markers("s"), "pvc:{s}:seq");
  EXPECT_EQ(cluster_keys::total("Sở Nội vụ"), "pvc:{Sở Nội vụ}:t");  // UTF-8 as is
}

TEST(ClusterKeys, BracesInASiteCannotMoveTheTag) {
  // Redis hashes what is between the first '{' and the next '}': a site's
  // own braces are escaped, so its tag is the whole (escaped) site.
  EXPECT_EQ(cluster_keys::total("a}b"), "pvc:{a%7Db}:t");
  EXPECT_EQ(cluster_keys::total("{x"), "pvc:{%7Bx}:t");
  EXPECT_EQ(cluster_keys::total("}"), "pvc:{%7D}:t");
  // '%' is escaped too, so a site spelled like an escape is another site.
  EXPECT_EQ(cluster_keys::total("a%7Db"), "pvc:{a%257Db}:t");
  EXPECT_NE(cluster_keys::total("a%7Db"), cluster_keys::total("a}b"));
}

}  // namespace
}  // namespace pvc
