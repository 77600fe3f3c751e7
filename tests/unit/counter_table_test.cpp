#include "core/counter_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

namespace pvc {
namespace {

constexpr std::int32_t day1 = 20787;  // 2026-11-30
constexpr std::int32_t day2 = 20788;  // 2026-12-01

using tables = std::vector<std::unique_ptr<delta_table>>;
// (day, site, article) -> views, over every drained table.
using counts = std::map<std::tuple<std::int32_t, std::string, std::string>, std::uint64_t>;

counts contents(const tables& ts) {
  counts out;
  for (const auto& t : ts) {
    t->for_each([&](std::string_view s, std::string_view a, std::uint64_t n) {
      out[{t->day(), std::string(s), std::string(a)}] += n;
    });
  }
  return out;
}

std::uint64_t rejected(const counter_shard& s, transport t, reject_reason r) {
  return s.stats().hits_rejected[static_cast<std::size_t>(t)][static_cast<std::size_t>(r)].get();
}
std::uint64_t accepted_hits(const counter_shard& s, transport t) {
  return s.stats().hits_accepted[static_cast<std::size_t>(t)].get();
}
std::uint64_t accepted_views(const counter_shard& s, transport t) {
  return s.stats().views_accepted[static_cast<std::size_t>(t)].get();
}

TEST(CounterShard, RecordCountsViewsAndStats) {
  site_registry sites(10);
  counter_table table(1, sites, day1);
  counter_shard& shard = table.shard(0);
  EXPECT_TRUE(shard.record({"blog", "a", 1}, transport::http));
  EXPECT_TRUE(shard.record({"blog", "a", 1}, transport::http));
  EXPECT_TRUE(shard.record({"blog", "b", 3}, transport::udp));
  EXPECT_TRUE(shard.record({"news", "a", 7}, transport::admin));
  EXPECT_EQ(shard.tracked_keys(), 3u);

  EXPECT_EQ(accepted_hits(shard, transport::http), 2u);
  EXPECT_EQ(accepted_views(shard, transport::http), 2u);
  EXPECT_EQ(accepted_hits(shard, transport::udp), 1u);
  EXPECT_EQ(accepted_views(shard, transport::udp), 3u);
  EXPECT_EQ(accepted_hits(shard, transport::admin), 1u);
  EXPECT_EQ(accepted_views(shard, transport::admin), 7u);

  tables out;
  shard.drain(out);
  EXPECT_EQ(contents(out),
            (counts{{{day1, "blog", "a"}, 2}, {{day1, "blog", "b"}, 3}, {{day1, "news", "a"}, 7}}));
  EXPECT_EQ(shard.tracked_keys(), 0u);
  EXPECT_EQ(sites.list(), (std::vector<std::string>{"blog", "news"}));
}

TEST(CounterShard, RecordBatchLongerThanMaxBatchCountsEveryHit) {
  site_registry sites(1);
  counter_table table(1, sites, day1);
  counter_shard& shard = table.shard(0);
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i)
    ids.push_back("/a" + std::to_string(i % 40));
  std::vector<hit> hits;
  for (int i = 0; i < 100; ++i)
    hits.push_back({i % 10 == 9 ? "third-site" : "blog", ids[static_cast<std::size_t>(i)], 2});
  // 100 hits, 3 batches and a bit; every 10th is refused (a second site
  // over the cap of one).
  EXPECT_EQ(shard.record_batch(hits, transport::udp), 90u);
  EXPECT_EQ(accepted_hits(shard, transport::udp), 90u);
  EXPECT_EQ(accepted_views(shard, transport::udp), 180u);
  EXPECT_EQ(rejected(shard, transport::udp, reject_reason::site_limit), 10u);
  tables out;
  shard.drain(out);
  std::uint64_t sum = 0;
  for (const auto& [k, n] : contents(out))
    sum += n;
  EXPECT_EQ(sum, 180u);
}

TEST(CounterShard, RejectCountsByTransportAndReason) {
  site_registry sites(10);
  counter_table table(1, sites, day1);
  counter_shard& shard = table.shard(0);
  shard.reject(transport::udp, reject_reason::bad_count);
  shard.reject(transport::udp, reject_reason::bad_count);
  shard.reject(transport::http, reject_reason::malformed);
  EXPECT_EQ(rejected(shard, transport::udp, reject_reason::bad_count), 2u);
  EXPECT_EQ(rejected(shard, transport::http, reject_reason::malformed), 1u);
  EXPECT_EQ(rejected(shard, transport::http, reject_reason::bad_count), 0u);
  EXPECT_EQ(accepted_hits(shard, transport::udp), 0u);
}

TEST(CounterShard, SiteLimitRejectsOnlyNewSites) {
  site_registry sites(2);
  counter_table table(2, sites, day1);
  counter_shard& s0 = table.shard(0);
  counter_shard& s1 = table.shard(1);
  EXPECT_TRUE(s0.record({"one", "a", 1}, transport::http));
  EXPECT_TRUE(s1.record({"two", "a", 1}, transport::udp));
  // The registry is full: a third site is refused on every shard.
  EXPECT_FALSE(s0.record({"three", "a", 1}, transport::http));
  EXPECT_FALSE(s1.record({"three", "a", 5}, transport::udp));
  EXPECT_EQ(rejected(s0, transport::http, reject_reason::site_limit), 1u);
  EXPECT_EQ(rejected(s1, transport::udp, reject_reason::site_limit), 1u);
  // Known sites keep counting, also on a shard that has not seen them yet.
  EXPECT_TRUE(s0.record({"one", "a", 1}, transport::http));
  EXPECT_TRUE(s0.record({"two", "b", 1}, transport::http));
  EXPECT_TRUE(s1.record({"one", "c", 1}, transport::udp));
  EXPECT_EQ(sites.size(), 2u);
  EXPECT_FALSE(sites.contains("three"));

  tables out;
  s0.drain(out);
  s1.drain(out);
  EXPECT_EQ(contents(out), (counts{{{day1, "one", "a"}, 2},
                                   {{day1, "one", "c"}, 1},
                                   {{day1, "two", "a"}, 1},
                                   {{day1, "two", "b"}, 1}}));
  EXPECT_EQ(accepted_views(s1, transport::udp), 2u);  // the refused 5 are not counted
}

TEST(CounterShard, SiteLimitHoldsAcrossDrainsAndDays) {
  // Sites are checked once per new key and interval: a fresh table after a
  // drain or a day change must not let a refused site in, nor shut out a known one.
  site_registry sites(1);
  counter_table table(1, sites, day1);
  counter_shard& shard = table.shard(0);
  EXPECT_TRUE(shard.record({"one", "a", 1}, transport::udp));
  EXPECT_FALSE(shard.record({"two", "a", 1}, transport::udp));
  tables out;
  shard.drain(out);
  EXPECT_FALSE(shard.record({"two", "a", 1}, transport::udp));
  EXPECT_TRUE(shard.record({"one", "a", 1}, transport::udp));
  table.set_current_day(day2);
  EXPECT_FALSE(shard.record({"two", "b", 1}, transport::udp));
  EXPECT_TRUE(shard.record({"one", "b", 1}, transport::udp));
  shard.drain(out);
  EXPECT_EQ(contents(out), (counts{{{day1, "one", "a"}, 2}, {{day2, "one", "b"}, 1}}));
  EXPECT_EQ(rejected(shard, transport::udp, reject_reason::site_limit), 3u);
  EXPECT_EQ(sites.list(), std::vector<std::string>{"one"});
}

TEST(CounterShard, PreloadedSitesCountPastTheLimit) {
  site_registry sites(1);
  sites.preload("old1");
  sites.preload("old2");  // preloaded sites ignore the cap
  counter_table table(1, sites, day1);
  counter_shard& shard = table.shard(0);
  EXPECT_TRUE(shard.record({"old2", "a", 1}, transport::http));
  EXPECT_TRUE(shard.record({"old1", "a", 1}, transport::http));
  EXPECT_FALSE(shard.record({"new", "a", 1}, transport::http));
  EXPECT_EQ(rejected(shard, transport::http, reject_reason::site_limit), 1u);
}

TEST(CounterShard, DrainHandsOverOnlyWhatCameSinceTheLastDrain) {
  site_registry sites(10);
  counter_table table(1, sites, day1);
  counter_shard& shard = table.shard(0);
  shard.record({"blog", "a", 4}, transport::udp);

  tables first;
  shard.drain(first);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0]->total(), 4u);

  tables nothing;
  shard.drain(nothing);
  EXPECT_TRUE(nothing.empty()) << "a shard with no new hits hands over no table";

  // Give the table back, as the flusher does, and count again from zero.
  first[0]->reset(0);
  shard.recycle(std::move(first[0]));
  shard.record({"blog", "a", 1}, transport::udp);
  shard.record({"blog", "b", 1}, transport::udp);
  EXPECT_EQ(shard.tracked_keys(), 2u);
  tables second;
  shard.drain(second);
  EXPECT_EQ(contents(second), (counts{{{day1, "blog", "a"}, 1}, {{day1, "blog", "b"}, 1}}));
  EXPECT_EQ(shard.tracked_keys(), 0u);
}

TEST(CounterShard, DayChangeSealsTheOldDaysTable) {
  site_registry sites(10);
  counter_table table(1, sites, day1);
  counter_shard& shard = table.shard(0);
  shard.record({"blog", "a", 2}, transport::udp);
  shard.record({"blog", "b", 1}, transport::udp);
  table.set_current_day(day2);
  EXPECT_EQ(table.current_day(), day2);
  shard.record({"blog", "a", 3}, transport::udp);
  EXPECT_EQ(shard.tracked_keys(), 3u);  // the sealed table's keys are still held

  tables out;
  shard.drain(out);
  ASSERT_EQ(out.size(), 2u);
  std::vector<std::int32_t> days;
  for (const auto& t : out)
    days.push_back(t->day());
  std::sort(days.begin(), days.end());
  EXPECT_EQ(days, (std::vector<std::int32_t>{day1, day2}));
  EXPECT_EQ(contents(out),
            (counts{{{day1, "blog", "a"}, 2}, {{day1, "blog", "b"}, 1}, {{day2, "blog", "a"}, 3}}));
  EXPECT_EQ(shard.tracked_keys(), 0u);
}

TEST(CounterShard, DayChangeWithoutNewHitsKeepsTheOldDay) {
  site_registry sites(10);
  counter_table table(1, sites, day1);
  counter_shard& shard = table.shard(0);
  shard.record({"blog", "a", 2}, transport::udp);
  table.set_current_day(day2);

  tables out;
  shard.drain(out);
  EXPECT_EQ(contents(out), (counts{{{day1, "blog", "a"}, 2}}));

  shard.record({"blog", "a", 1}, transport::udp);
  tables next;
  shard.drain(next);
  EXPECT_EQ(contents(next), (counts{{{day2, "blog", "a"}, 1}}));
}

TEST(CounterShard, TwoDayChangesBetweenDrains) {
  site_registry sites(10);
  counter_table table(1, sites, day1);
  counter_shard& shard = table.shard(0);
  shard.record({"blog", "a", 1}, transport::udp);
  table.set_current_day(day2);
  shard.record({"blog", "a", 10}, transport::udp);
  table.set_current_day(day2 + 1);
  shard.record({"blog", "a", 100}, transport::udp);

  tables out;
  shard.drain(out);
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(contents(out), (counts{{{day1, "blog", "a"}, 1},
                                   {{day2, "blog", "a"}, 10},
                                   {{day2 + 1, "blog", "a"}, 100}}));
}

TEST(CounterTable, ShardsCountIndependently) {
  site_registry sites(10);
  counter_table table(3, sites, day1);
  ASSERT_EQ(table.shard_count(), 3u);
  table.shard(0).record({"blog", "a", 1}, transport::http);
  table.shard(2).record({"blog", "a", 5}, transport::http);
  EXPECT_EQ(accepted_views(table.shard(0), transport::http), 1u);
  EXPECT_EQ(accepted_views(table.shard(1), transport::http), 0u);
  EXPECT_EQ(accepted_views(table.shard(2), transport::http), 5u);

  tables out;
  for (std::size_t i = 0; i < table.shard_count(); ++i)
    table.shard(i).drain(out);
  EXPECT_EQ(out.size(), 2u);  // shard 1 had nothing
  EXPECT_EQ(contents(out), (counts{{{day1, "blog", "a"}, 6}}));
}

TEST(SiteRegistry, AdmitUpToTheCap) {
  site_registry sites(2);
  EXPECT_TRUE(sites.admit("a"));
  EXPECT_TRUE(sites.admit("a"));  // known: no new slot used
  EXPECT_TRUE(sites.admit("b"));
  EXPECT_FALSE(sites.admit("c"));
  EXPECT_TRUE(sites.admit("b"));
  EXPECT_EQ(sites.size(), 2u);
  EXPECT_EQ(sites.max_sites(), 2u);
  EXPECT_EQ(sites.list(), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace pvc
