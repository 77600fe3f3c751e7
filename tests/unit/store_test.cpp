#include "store/store.hpp"
#include "stored_views.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace pvc {
namespace {

const day_number nov30 = from_civil({2026, 11, 30});
const day_number dec1 = from_civil({2026, 12, 1});

struct view_row {
  std::string site;
  std::string article;
  std::uint64_t n;
};

std::unique_ptr<delta_table> make_table(day_number day, std::initializer_list<view_row> rows) {
  auto t = std::make_unique<delta_table>();
  t->reset(day);
  for (const view_row& r : rows)
    t->add(r.site, r.article, r.n);
  return t;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    db_.reset();
    std::string error;
    db_ = store::open(dir_.str(), store_options{.sync = false}, error);
    ASSERT_NE(db_, nullptr) << error;
    ASSERT_EQ(error, "");
  }

  void apply(std::uint64_t seq, std::initializer_list<const delta_table*> tables) {
    const std::vector<const delta_table*> v(tables);
    ASSERT_EQ(db_->apply(v, seq), "");
  }

  views_snapshot read(std::string_view site, std::vector<std::string_view> articles,
                      day_number today) {
    views_snapshot s = test::stored_views(*db_, site, articles, today);
    EXPECT_EQ(s.error, "");
    EXPECT_EQ(s.articles.size(), articles.size());
    return s;
  }

  test::temp_dir dir_;
  std::unique_ptr<store> db_;
};

TEST_F(StoreTest, NewStoreIsEmpty) {
  std::uint64_t seq = 99;
  ASSERT_TRUE(db_->last_flush_seq(seq));
  EXPECT_EQ(seq, 0u);
  EXPECT_TRUE(db_->sites().empty());
  const views_snapshot s = read("blog", {"a"}, dec1);
  EXPECT_EQ(s.site.total, 0u);
  EXPECT_EQ(s.site.today, 0u);
  EXPECT_EQ(s.site.yesterday, 0u);
  EXPECT_EQ(s.site.this_month, 0u);
  EXPECT_EQ(s.articles[0].total, 0u);
  EXPECT_EQ(db_->dir(), dir_.str());
}

TEST_F(StoreTest, ApplyThenReadViews) {
  auto t = make_table(dec1, {{"blog", "a", 3}, {"blog", "b", 2}, {"news", "a", 7}});
  apply(1, {t.get()});

  const views_snapshot blog = read("blog", {"a", "b", "missing"}, dec1);
  EXPECT_EQ(blog.site.total, 5u);
  EXPECT_EQ(blog.site.today, 5u);
  EXPECT_EQ(blog.site.yesterday, 0u);
  EXPECT_EQ(blog.site.this_month, 5u);
  EXPECT_EQ(blog.articles[0].total, 3u);
  EXPECT_EQ(blog.articles[0].today, 3u);
  EXPECT_EQ(blog.articles[1].total, 2u);
  EXPECT_EQ(blog.articles[1].today, 2u);
  EXPECT_EQ(blog.articles[2].total, 0u);
  EXPECT_EQ(blog.articles[2].today, 0u);

  const views_snapshot news = read("news", {"a"}, dec1);
  EXPECT_EQ(news.site.total, 7u);
  EXPECT_EQ(news.articles[0].today, 7u);

  // The next day: totals stay, today starts at zero, the counts become yesterday's.
  const views_snapshot later = read("blog", {"a"}, dec1 + 1);
  EXPECT_EQ(later.site.total, 5u);
  EXPECT_EQ(later.site.today, 0u);
  EXPECT_EQ(later.site.yesterday, 5u);
  EXPECT_EQ(later.site.this_month, 5u);
  EXPECT_EQ(later.articles[0].total, 3u);
  EXPECT_EQ(later.articles[0].today, 0u);
}

TEST_F(StoreTest, SitesDoNotShareCounts) {
  // "blog" is a prefix of "blog2": their keys must not run together.
  auto t = make_table(dec1, {{"blog", "a", 1}, {"blog2", "a", 10}, {"b", "loga", 100}});
  apply(1, {t.get()});
  EXPECT_EQ(read("blog", {"a"}, dec1).site.total, 1u);
  EXPECT_EQ(read("blog", {"a"}, dec1).articles[0].total, 1u);
  EXPECT_EQ(read("blog2", {"a"}, dec1).site.today, 10u);
  EXPECT_EQ(read("b", {"loga"}, dec1).site.this_month, 100u);
  EXPECT_EQ(read("blo", {}, dec1).site.total, 0u);
}

TEST_F(StoreTest, ApplyAddsToWhatIsThere) {
  auto shard0 = make_table(dec1, {{"blog", "a", 3}});
  auto shard1 = make_table(dec1, {{"blog", "a", 4}, {"blog", "b", 1}});
  apply(1, {shard0.get(), shard1.get()});  // one key from two shards
  auto more = make_table(dec1, {{"blog", "a", 10}});
  apply(2, {more.get()});
  const views_snapshot s = read("blog", {"a", "b"}, dec1);
  EXPECT_EQ(s.site.total, 18u);
  EXPECT_EQ(s.site.today, 18u);
  EXPECT_EQ(s.articles[0].total, 17u);
  EXPECT_EQ(s.articles[1].today, 1u);
}

TEST_F(StoreTest, YesterdayComesFromThePreviousDaysTable) {
  auto today = make_table(dec1, {{"blog", "a", 3}, {"blog", "b", 2}});
  auto yesterday = make_table(nov30, {{"blog", "a", 4}});
  auto older = make_table(nov30 - 1, {{"blog", "a", 1000}});
  apply(1, {today.get(), yesterday.get()});
  apply(2, {older.get()});
  const views_snapshot s = read("blog", {"a", "b"}, dec1);
  EXPECT_EQ(s.site.today, 5u);
  EXPECT_EQ(s.site.yesterday, 4u);
  EXPECT_EQ(s.site.this_month, 5u);  // Nov 30 is another month
  EXPECT_EQ(s.site.total, 1009u);
  EXPECT_EQ(s.articles[0].total, 1007u);
  EXPECT_EQ(s.articles[0].today, 3u);

  const views_snapshot on_nov30 = read("blog", {"a"}, nov30);
  EXPECT_EQ(on_nov30.site.today, 4u);
  EXPECT_EQ(on_nov30.site.yesterday, 1000u);
  EXPECT_EQ(on_nov30.site.this_month, 1004u);
}

TEST_F(StoreTest, MonthSumsTheDaysOfThatMonthOnly) {
  struct row {
    civil_date day;
    std::uint64_t views;
  };
  const row days[] = {
      {{2026, 11, 30}, 10000}, {{2026, 12, 1}, 1},   {{2026, 12, 15}, 10},
      {{2026, 12, 31}, 100},   {{2027, 1, 1}, 1000}, {{2025, 12, 31}, 100000},  // a year earlier
  };
  std::vector<std::unique_ptr<delta_table>> tables;
  std::vector<const delta_table*> ptrs;
  for (const row& r : days) {
    tables.push_back(make_table(from_civil(r.day), {{"blog", "a", r.views}}));
    ptrs.push_back(tables.back().get());
  }
  ASSERT_EQ(db_->apply(ptrs, 1), "");

  struct expect_row {
    civil_date today;
    std::uint64_t today_views;
    std::uint64_t yesterday;
    std::uint64_t month;
  };
  const expect_row table[] = {
      {{2026, 12, 31}, 100, 0, 111},       {{2027, 1, 1}, 1000, 100, 1000},  // year change
      {{2026, 12, 16}, 0, 10, 111},        {{2026, 11, 30}, 10000, 0, 10000},
      {{2025, 12, 31}, 100000, 0, 100000},
  };
  for (const expect_row& e : table) {
    SCOPED_TRACE(day_key(from_civil(e.today)));
    const views_snapshot s = read("blog", {"a"}, from_civil(e.today));
    EXPECT_EQ(s.site.today, e.today_views);
    EXPECT_EQ(s.articles[0].today, e.today_views);
    EXPECT_EQ(s.site.yesterday, e.yesterday);
    EXPECT_EQ(s.site.this_month, e.month);
    EXPECT_EQ(s.site.total, 111111u);
  }
}

TEST_F(StoreTest, LastFlushSeqIsTheOneWritten) {
  auto t = make_table(dec1, {{"blog", "a", 1}});
  apply(7, {t.get()});
  std::uint64_t seq = 0;
  ASSERT_TRUE(db_->last_flush_seq(seq));
  EXPECT_EQ(seq, 7u);
  apply(8, {});  // a batch with no tables still records its number
  ASSERT_TRUE(db_->last_flush_seq(seq));
  EXPECT_EQ(seq, 8u);
  EXPECT_EQ(read("blog", {}, dec1).site.total, 1u);
}

TEST_F(StoreTest, SitesListsEverySiteWithCounts) {
  auto t1 = make_table(dec1, {{"news", "a", 1}, {"blog", "a", 1}});
  auto t2 = make_table(nov30, {{"Shop", "x", 1}, {"blog", "b", 1}});
  apply(1, {t1.get(), t2.get()});
  std::vector<std::string> sites = db_->sites();
  std::sort(sites.begin(), sites.end());
  EXPECT_EQ(sites, (std::vector<std::string>{"Shop", "blog", "news"}));
}

TEST_F(StoreTest, ReopenKeepsEverything) {
  auto t = make_table(dec1, {{"blog", "a", 3}, {"news", "x", 2}});
  auto y = make_table(nov30, {{"blog", "a", 4}});
  apply(41, {t.get(), y.get()});
  reopen();
  std::uint64_t seq = 0;
  ASSERT_TRUE(db_->last_flush_seq(seq));
  EXPECT_EQ(seq, 41u);
  std::vector<std::string> sites = db_->sites();
  std::sort(sites.begin(), sites.end());
  EXPECT_EQ(sites, (std::vector<std::string>{"blog", "news"}));
  const views_snapshot s = read("blog", {"a"}, dec1);
  EXPECT_EQ(s.site.total, 7u);
  EXPECT_EQ(s.site.today, 3u);
  EXPECT_EQ(s.site.yesterday, 4u);
  EXPECT_EQ(s.articles[0].total, 7u);

  // Counts written after the reopen add to the old ones.
  auto more = make_table(dec1, {{"blog", "a", 1}});
  apply(42, {more.get()});
  reopen();
  EXPECT_EQ(read("blog", {"a"}, dec1).articles[0].today, 4u);
}

TEST_F(StoreTest, LongestIdsRoundTrip) {
  const std::string site(200, 's');
  const std::string article(200, '~');
  auto t = make_table(dec1, {{site, article, 5}});
  apply(1, {t.get()});
  const views_snapshot s = read(site, {article}, dec1);
  EXPECT_EQ(s.site.total, 5u);
  EXPECT_EQ(s.articles[0].total, 5u);
  EXPECT_EQ(db_->sites(), (std::vector<std::string>{site}));
}

TEST(StoreOpen, FailsWithAMessageNamingThePath) {
  test::temp_dir dir;
  const std::string file = (dir.path() / "not-a-dir").string();
  std::ofstream(file) << "x";
  std::string error;
  auto db = store::open(file, store_options{}, error);
  EXPECT_EQ(db, nullptr);
  EXPECT_NE(error.find(file), std::string::npos) << error;

  error.clear();
  auto below = store::open(file + "/sub", store_options{}, error);
  EXPECT_EQ(below, nullptr);
  EXPECT_NE(error.find(file + "/sub"), std::string::npos) << error;
}

TEST(StoreOpen, SecondOpenOfTheSameDirIsRefused) {
  // RocksDB locks the directory: two pvcd processes must not share one store.
  test::temp_dir dir;
  std::string error;
  auto first = store::open(dir.str(), store_options{}, error);
  ASSERT_NE(first, nullptr) << error;
  auto second = store::open(dir.str(), store_options{}, error);
  EXPECT_EQ(second, nullptr);
  EXPECT_NE(error.find(dir.str()), std::string::npos) << error;
}

// Every key and value in a fresh store after applying `flushes` in order,
// each as one flush; flushes of bulk_min keys or more go in as an SST file.
using store_contents = std::vector<std::pair<std::string, std::string>>;
store_contents contents_after(const std::vector<std::vector<const delta_table*>>& flushes,
                              std::size_t bulk_min, const key_writes* first_extra = nullptr) {
  test::temp_dir dir;
  std::string error;
  auto db =
      store::open(dir.str(), store_options{.sync = false, .bulk_flush_min_keys = bulk_min}, error);
  EXPECT_NE(db, nullptr) << error;
  if (!db) return {};
  std::uint64_t seq = 0;
  for (const auto& tables : flushes) {
    ++seq;
    EXPECT_EQ(db->apply(tables, seq, seq == 1 ? first_extra : nullptr), "");
  }
  store_contents out;
  EXPECT_EQ(
      db->scan_prefix("", [&](std::string_view k, std::string_view v) { out.emplace_back(k, v); }),
      "");
  // No flush file is left behind.
  for (const auto& e : std::filesystem::directory_iterator(dir.str()))
    EXPECT_FALSE(e.path().filename().string().starts_with("pvcd-flush-")) << e.path();
  return out;
}

// A large flush goes in as an SST file (store_bulk.cpp); it must leave the
// store exactly as the WriteBatch path does, key for key.
TEST(StoreBulkFlush, LeavesTheSameKeysAsABatch) {
  auto shard0 = make_table(nov30, {{"blog", "a", 3}, {"blog2", "a", 10}, {"b", "loga", 100}});
  auto shard1 = make_table(nov30, {{"blog", "a", 4}, {"blog", "b", 1}, {"news", "z", 2}});
  auto next_day = make_table(dec1, {{"blog", "a", 5}, {"news", "y", 6}, {"blog", "", 1}});
  auto later = make_table(dec1, {{"blog", "a", 1}, {"zz", "/x?y=1", 9}});
  key_writes widget;
  // Widget keys on both sides of the two files' boundary at "T", and on it.
  widget.put = {{"v/sketch/blog", "abc"},
                {"0first", "x"},
                {"zlast", "y"},
                {"v/gone", "z"},
                {"T", "t"},
                {"Szz", "s"},
                {"T\x01", "u"}};
  widget.erase = {"v/gone", "v/never-there"};
  const std::vector<std::vector<const delta_table*>> flushes = {
      {shard0.get(), shard1.get(), next_day.get()}, {later.get()}};  // the second adds on top
  const auto batch = contents_after(flushes, 1'000'000, &widget);
  const auto file = contents_after(flushes, 1, &widget);
  ASSERT_FALSE(batch.empty());
  EXPECT_EQ(file, batch);
}

// The file's sort compares 8 bytes after the articles' common prefix first
// and the rest only on a tie: random articles over a two-letter alphabet
// share long prefixes and tie often, across sites, days and shards.
TEST(StoreBulkFlush, RandomFlushesLeaveTheSameKeysAsABatch) {
  std::mt19937 rng(11);
  auto random_table = [&](day_number day, std::size_t keys) {
    auto t = std::make_unique<delta_table>();
    t->reset(day);
    const std::vector<std::string> sites = {"a", "ab", "b", "blog", "blog2"};
    for (std::size_t i = 0; i < keys; ++i) {
      std::string article = "/p/";
      const std::size_t len = rng() % 24;
      for (std::size_t k = 0; k < len; ++k)
        article.push_back(rng() % 2 ? 'x' : 'y');
      t->add(sites[rng() % sites.size()], article, rng() % 5 + 1);
    }
    return t;
  };
  for (int round = 0; round < 5; ++round) {
    auto a = random_table(nov30, 400), b = random_table(nov30, 400), c = random_table(dec1, 400);
    auto d = random_table(dec1, 400);
    auto before_1970 = random_table(from_civil({1969, 12, 31}), 100);  // a negative day number
    const std::vector<std::vector<const delta_table*>> flushes = {
        {a.get(), b.get(), c.get(), before_1970.get()}, {d.get()}};
    const auto batch = contents_after(flushes, 1'000'000);
    ASSERT_FALSE(batch.empty());
    EXPECT_EQ(contents_after(flushes, 1), batch) << "round " << round;
  }
}

TEST(StoreBulkFlush, AFailedFileLeavesNothingAndTheRetryLands) {
  // The all-time file cannot be created (a directory holds its name): the
  // day file, written fine, must not be ingested alone, and a retry of the
  // same flush must land whole, as the flusher's exactly-once rule assumes.
  auto today = make_table(dec1, {{"blog", "a", 3}, {"news", "b", 4}});
  const std::vector<const delta_table*> tables = {today.get()};
  test::temp_dir dir;
  std::string error;
  auto db = store::open(dir.str(), store_options{.sync = false, .bulk_flush_min_keys = 1}, error);
  ASSERT_NE(db, nullptr) << error;
  std::filesystem::create_directory(dir.path() / "pvcd-flush-1-t.sst");
  EXPECT_NE(db->apply(tables, 1), "");
  std::uint64_t seq = 99;
  ASSERT_TRUE(db->last_flush_seq(seq));
  EXPECT_EQ(seq, 0u);  // nothing of the flush landed
  store_contents after_failure;
  ASSERT_EQ(db->scan_prefix("", [&](std::string_view k,
                                    std::string_view v) { after_failure.emplace_back(k, v); }),
            "");
  EXPECT_TRUE(after_failure.empty());
  for (const auto& e : std::filesystem::directory_iterator(dir.str()))
    EXPECT_FALSE(e.path().filename().string().starts_with("pvcd-flush-")) << e.path();

  ASSERT_EQ(db->apply(tables, 1), "");  // the (empty) directory went with the cleanup
  store_contents retried;
  ASSERT_EQ(db->scan_prefix(
                "", [&](std::string_view k, std::string_view v) { retried.emplace_back(k, v); }),
            "");
  EXPECT_EQ(retried, contents_after({tables}, 1'000'000));
}

TEST(StoreBulkFlush, CountsMatchThroughTheReadApi) {
  test::temp_dir dir;
  std::string error;
  auto db = store::open(dir.str(), store_options{.sync = false, .bulk_flush_min_keys = 2}, error);
  ASSERT_NE(db, nullptr) << error;
  auto t = std::make_unique<delta_table>();
  t->reset(dec1);
  for (int i = 0; i < 1000; ++i)
    t->add("blog", "/post/" + std::to_string(i), static_cast<std::uint64_t>(i % 7 + 1));
  const std::vector<const delta_table*> v = {t.get()};
  ASSERT_EQ(db->apply(v, 1), "");
  ASSERT_EQ(db->apply(v, 2), "");  // twice: merges on top of an ingested file
  std::uint64_t seq = 0;
  ASSERT_TRUE(db->last_flush_seq(seq));
  EXPECT_EQ(seq, 2u);
  std::vector<std::string_view> articles = {"/post/0", "/post/6", "/post/999"};
  const views_snapshot s = test::stored_views(*db, "blog", articles, dec1);
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.site.total, 2 * t->total());
  EXPECT_EQ(s.site.today, 2 * t->total());
  EXPECT_EQ(s.site.this_month, 2 * t->total());
  EXPECT_EQ(s.articles[0].total, 2u);
  EXPECT_EQ(s.articles[1].today, 14u);
  EXPECT_EQ(s.articles[2].total, 2u * (999 % 7 + 1));
}

}  // namespace
}  // namespace pvc
