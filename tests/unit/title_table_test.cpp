// The title table: a beacon's title changes at most once per interval, the
// caps refuse and count, admin changes are not held back, and what the
// flusher collects is what was taken.
#include "core/title_table.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/store_keys.hpp"

namespace pvc {
namespace {

constexpr std::int64_t t0 = 1'800'000'000;
const std::string site = "soctrang.gov.vn";
const std::string intro = "Giới thiệu chung về tỉnh Sóc Trăng";

title_table hourly(std::size_t max_titles = 100, std::size_t per_site = 100) {
  return title_table({max_titles, per_site, 3600});
}

TEST(TitleTable, AFirstTitleIsTakenAtOnceAndAChangeWaitsForTheInterval) {
  title_table t = hourly();
  EXPECT_EQ(t.offer(site, "/gioi-thieu", intro, t0), title_verdict::taken);
  EXPECT_EQ(t.offer(site, "/gioi-thieu", intro, t0 + 1), title_verdict::unchanged);
  EXPECT_EQ(t.offer(site, "/gioi-thieu", "Quảng cáo", t0 + 3599), title_verdict::too_soon);
  EXPECT_EQ(t.refused(title_verdict::too_soon), 1u);
  EXPECT_EQ(t.offer(site, "/gioi-thieu", "Giới thiệu (mới)", t0 + 3600), title_verdict::taken);
  // The interval starts again from that change.
  EXPECT_EQ(t.offer(site, "/gioi-thieu", intro, t0 + 3601), title_verdict::too_soon);
  EXPECT_EQ(t.size(), 1u);
}

TEST(TitleTable, AnAdminChangeIsNotHeldBackAndStartsTheInterval) {
  title_table t = hourly();
  ASSERT_EQ(t.offer(site, "/a", "Bài một", t0), title_verdict::taken);
  EXPECT_EQ(t.room_for(site, "/a"), title_verdict::taken);
  t.noted_set(site, "/a", "Bài một (đã sửa)", t0 + 10);
  // A beacon cannot undo the editor's fix within the interval.
  EXPECT_EQ(t.offer(site, "/a", "Bài một", t0 + 20), title_verdict::too_soon);
  EXPECT_EQ(t.offer(site, "/a", "Bài một (đã sửa)", t0 + 20), title_verdict::unchanged);
  // A removed title leaves no interval behind: the next one is a first title.
  t.noted_clear(site, "/a");
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.offer(site, "/a", "Bài một", t0 + 30), title_verdict::taken);
}

TEST(TitleTable, CapsRefuseNewTitlesAndCountThem) {
  title_table t = hourly(3, 2);
  EXPECT_EQ(t.offer(site, "/1", "Một", t0), title_verdict::taken);
  EXPECT_EQ(t.offer(site, "/2", "Hai", t0), title_verdict::taken);
  EXPECT_EQ(t.offer(site, "/3", "Ba", t0), title_verdict::site_full);
  EXPECT_EQ(t.room_for(site, "/3"), title_verdict::site_full);
  EXPECT_EQ(t.refused(title_verdict::site_full), 2u);
  EXPECT_EQ(t.offer("baochinhphu.vn", "/x", "Tin", t0), title_verdict::taken);
  EXPECT_EQ(t.offer("hanoi.gov.vn", "/y", "Tin", t0), title_verdict::all_full);
  EXPECT_EQ(t.refused(title_verdict::all_full), 1u);
  // A known article may still change its title when full.
  EXPECT_EQ(t.offer(site, "/1", "Một (mới)", t0 + 3600), title_verdict::taken);
  // Removing one makes room.
  t.noted_clear(site, "/2");
  EXPECT_EQ(t.offer(site, "/3", "Ba", t0), title_verdict::taken);
  EXPECT_EQ(t.size(), 3u);
  EXPECT_GE(t.memory_bytes(), 3 * title_table::bytes_per_title);
}

TEST(TitleTable, PreloadKeepsTheStoredTimeAndTheCaps) {
  title_table t = hourly(1, 1);
  EXPECT_TRUE(t.preload(site, "/a", intro, t0));
  EXPECT_FALSE(t.preload(site, "/b", "Khác", t0));
  EXPECT_EQ(t.offer(site, "/a", "Khác", t0 + 60), title_verdict::too_soon);
  EXPECT_EQ(t.offer(site, "/a", "Khác", t0 + 3600), title_verdict::taken);
}

TEST(TitleTable, TheFlusherWritesWhatWasTakenAndRetriesWhatFailed) {
  title_table t = hourly();
  ASSERT_EQ(t.offer(site, "/a", intro, t0), title_verdict::taken);
  key_writes out;
  t.collect(out);
  ASSERT_EQ(out.put.size(), 1u);
  EXPECT_EQ(out.put[0].first, keys::article_title(site, "/a"));
  std::int64_t set_at = 0;
  std::string_view title;
  ASSERT_TRUE(keys::decode_title(out.put[0].second, set_at, title));
  EXPECT_EQ(title, intro);
  EXPECT_EQ(set_at, t0);
  t.written(false);
  out.clear();
  t.collect(out);
  EXPECT_EQ(out.put.size(), 1u) << "a failed write is collected again";
  t.written(true);
  out.clear();
  t.collect(out);
  EXPECT_TRUE(out.put.empty());
}

TEST(TitleTable, AnAdminChangeDropsABeaconTitleNotYetWritten) {
  title_table t = hourly();
  ASSERT_EQ(t.offer(site, "/a", "Từ beacon", t0), title_verdict::taken);
  t.noted_set(site, "/a", "Từ biên tập viên", t0 + 1);
  key_writes out;
  t.collect(out);
  EXPECT_TRUE(out.put.empty());
  // A beacon title already in a flush's batch may land after the admin's
  // write: the admin's change is written again with the next flush.
  ASSERT_EQ(t.offer(site, "/b", "Từ beacon", t0), title_verdict::taken);
  t.collect(out);
  ASSERT_EQ(out.put.size(), 1u);
  t.noted_set(site, "/b", "Từ biên tập viên", t0 + 1);
  t.written(true);
  out.clear();
  t.collect(out);
  ASSERT_EQ(out.put.size(), 1u);
  std::int64_t set_at = 0;
  std::string_view title;
  ASSERT_TRUE(keys::decode_title(out.put[0].second, set_at, title));
  EXPECT_EQ(title, "Từ biên tập viên");
  t.written(true);
  // The same for a removal, and for a batch that failed.
  ASSERT_EQ(t.offer(site, "/c", "Từ beacon", t0), title_verdict::taken);
  out.clear();
  t.collect(out);
  t.written(false);
  t.noted_clear(site, "/c");
  out.clear();
  t.collect(out);
  EXPECT_TRUE(out.put.empty()) << "a removed title must not come back with a retry";
  EXPECT_EQ(out.erase, std::vector<std::string>{keys::article_title(site, "/c")});
}

}  // namespace
}  // namespace pvc
