#include "core/outbox_entry.hpp"

#include <gtest/gtest.h>

namespace pvc {
namespace {

TEST(OutboxEntry, RoundTripsEveryRowGroupedBySiteAndDay) {
  delta_table today, yesterday;
  today.reset(20000);
  yesterday.reset(19999);
  today.add("soctrang.gov.vn", "/tin-tức/bài-1", 3);
  today.add("soctrang.gov.vn", "/gioi-thieu", 1);
  today.add("baochinhphu.vn", "home", 7);
  yesterday.add("soctrang.gov.vn", "/tin-tức/bài-1", 2);
  const delta_table* tables[] = {&today, &yesterday};

  std::map<std::string, site_part, std::less<>> parts;
  ASSERT_TRUE(decode_outbox_entry(encode_outbox_entry(tables), parts));
  ASSERT_EQ(parts.size(), 2u);
  const site_part& st = parts.at("soctrang.gov.vn");
  ASSERT_EQ(st.days.size(), 2u);
  EXPECT_EQ(st.days[0].day, 19999);  // by day
  EXPECT_EQ(st.days[0].site_views, 2u);
  EXPECT_EQ(st.days[0].articles.at("/tin-tức/bài-1"), 2u);
  EXPECT_EQ(st.days[1].day, 20000);
  EXPECT_EQ(st.days[1].site_views, 4u);
  EXPECT_EQ(st.days[1].articles.at("/tin-tức/bài-1"), 3u);
  EXPECT_EQ(st.days[1].articles.at("/gioi-thieu"), 1u);
  EXPECT_EQ(parts.at("baochinhphu.vn").days.at(0).site_views, 7u);
}

TEST(OutboxEntry, TheSameKeyInTwoTablesOfOneDayIsSummed) {
  delta_table a, b;  // two I/O threads' tables of one flush
  a.reset(20000);
  b.reset(20000);
  a.add("s", "x", 1);
  b.add("s", "x", (std::uint64_t{1} << 40));
  const delta_table* tables[] = {&a, &b};
  std::map<std::string, site_part, std::less<>> parts;
  ASSERT_TRUE(decode_outbox_entry(encode_outbox_entry(tables), parts));
  ASSERT_EQ(parts.at("s").days.size(), 1u);
  EXPECT_EQ(parts.at("s").days[0].articles.at("x"), (std::uint64_t{1} << 40) + 1);
}

TEST(OutboxEntry, DaysBeforeTheEpochSurvive) {
  delta_table t;
  t.reset(-3);
  t.add("s", "x", 1);
  const delta_table* tables[] = {&t};
  std::map<std::string, site_part, std::less<>> parts;
  ASSERT_TRUE(decode_outbox_entry(encode_outbox_entry(tables), parts));
  EXPECT_EQ(parts.at("s").days.at(0).day, -3);
}

TEST(OutboxEntry, RefusesWhatItDidNotWrite) {
  delta_table t;
  t.reset(20000);
  t.add("site", "article", 300);
  const delta_table* tables[] = {&t};
  const std::string good = encode_outbox_entry(tables);
  std::map<std::string, site_part, std::less<>> parts;
  EXPECT_FALSE(decode_outbox_entry("", parts));
  EXPECT_TRUE(decode_outbox_entry(encode_outbox_entry({}), parts));  // a flush with no rows
  EXPECT_TRUE(parts.empty());
  std::string other_format = good;
  other_format[0] = '\x01';
  EXPECT_FALSE(decode_outbox_entry(other_format, parts));
  for (std::size_t cut = 2; cut < good.size(); ++cut) {  // every truncation of the row
    EXPECT_FALSE(decode_outbox_entry(good.substr(0, cut), parts)) << cut;
  }
  std::string unended = good;
  unended += '\xff';  // a varint that never ends
  EXPECT_FALSE(decode_outbox_entry(unended, parts));
}

TEST(OutboxEntry, CarriesTheFlushsVisitsBySite) {
  delta_table t;
  t.reset(20794);
  t.add("soctrang.gov.vn", "/tin-tức/bài-1", 2);
  const delta_table* tables[] = {&t};
  visits_by_site visits;
  visits["soctrang.gov.vn"] = {{20794, 0xfeedfacecafebeefULL, 1, 29'000'000},
                               {20794, 7, 0x8000000000000000ULL, 29'000'001}};
  visits["quiet.gov.vn"] = {{20793, 3, 4, -1}};  // a site with visits and no rows
  std::map<std::string, site_part, std::less<>> parts;
  ASSERT_TRUE(decode_outbox_entry(encode_outbox_entry(tables, visits), parts));
  EXPECT_EQ(parts.at("soctrang.gov.vn").visits, visits.at("soctrang.gov.vn"));
  EXPECT_EQ(parts.at("soctrang.gov.vn").days.at(0).site_views, 2u);
  EXPECT_EQ(parts.at("quiet.gov.vn").visits, visits.at("quiet.gov.vn"));
  EXPECT_TRUE(parts.at("quiet.gov.vn").days.empty());
}

}  // namespace
}  // namespace pvc
