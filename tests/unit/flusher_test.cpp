#include "flush/flusher.hpp"
#include "stored_views.hpp"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "test_support.hpp"

// Failure injection is not covered here: the store cannot be made to fail
// from a unit test (tests run as root, so a read-only data dir still accepts
// writes, and store has no seam for a fake). The retry path is covered only
// through a new flusher reading last_flush_seq from the store.

namespace pvc {
namespace {

using namespace std::chrono_literals;
using test::utc;
using time_point = std::chrono::system_clock::time_point;

// Ho Chi Minh City is UTC+7: local midnight of Dec 1 2026 is 2026-11-30T17:00Z.
const day_number nov30 = from_civil({2026, 11, 30});
const day_number dec1 = from_civil({2026, 12, 1});

class FlusherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(calendar::use_zone("Asia/Ho_Chi_Minh"), "");
    now_ = utc(2026, 12, 1, 5, 0, 0);  // noon local
    table_ = std::make_unique<counter_table>(2, sites_, calendar::day_of(now_));
    open_store();
  }

  void open_store() {
    db_.reset();
    std::string error;
    db_ = store::open(dir_.str(), store_options{.sync = false}, error);
    ASSERT_NE(db_, nullptr) << error;
  }

  std::unique_ptr<flusher> make_flusher() {
    return std::make_unique<flusher>(
        *table_, *db_, [](std::size_t, std::function<void()> task) { task(); },
        [this] { return now_; });
  }

  void hit(std::size_t shard, std::string_view site, std::string_view article,
           std::uint32_t n = 1) {
    ASSERT_TRUE(table_->shard(shard).record({site, article, n}, transport::udp));
  }

  views_snapshot read(std::string_view article, day_number today) {
    const std::string_view articles[] = {article};
    views_snapshot s = test::stored_views(*db_, "blog", articles, today);
    EXPECT_EQ(s.error, "");
    return s;
  }

  std::uint64_t seq() {
    std::uint64_t s = 0;
    EXPECT_TRUE(db_->last_flush_seq(s));
    return s;
  }

  test::temp_dir dir_;
  time_point now_;
  site_registry sites_{100};
  std::unique_ptr<counter_table> table_;
  std::unique_ptr<store> db_;
};

TEST_F(FlusherTest, FlushOnceWritesTheCountsOfEveryShard) {
  auto f = make_flusher();
  hit(0, "blog", "a", 3);
  hit(1, "blog", "a", 2);
  hit(1, "blog", "b", 4);
  hit(1, "news", "x");
  ASSERT_EQ(f->flush_once(), "");

  const views_snapshot s = read("a", dec1);
  EXPECT_EQ(s.site.total, 9u);
  EXPECT_EQ(s.site.today, 9u);
  EXPECT_EQ(s.site.this_month, 9u);
  EXPECT_EQ(s.articles[0].total, 5u);
  EXPECT_EQ(read("b", dec1).articles[0].today, 4u);
  EXPECT_EQ(seq(), 1u);
  EXPECT_EQ(f->stats().flushes.load(), 1u);
  EXPECT_EQ(f->stats().views.load(), 10u);
  EXPECT_EQ(f->stats().keys.load(), 4u);  // (blog,a) once per shard, (blog,b), (news,x)
  EXPECT_EQ(f->stats().errors.load(), 0u);
  EXPECT_EQ(f->stats().last_success_unix.load(),
            std::chrono::duration<double>(now_.time_since_epoch()).count());
  EXPECT_FALSE(f->has_pending());
  EXPECT_EQ(table_->shard(0).tracked_keys(), 0u);
  EXPECT_EQ(table_->shard(1).tracked_keys(), 0u);
}

TEST_F(FlusherTest, ViewsPerSiteAreSummedOverFlushes) {
  auto f = make_flusher();
  using per_site = std::map<std::string, std::uint64_t, std::less<>>;
  EXPECT_TRUE(f->stats().site_views().empty());
  hit(0, "blog", "a", 3);
  hit(1, "blog", "b", 4);
  hit(1, "news", "x");
  ASSERT_EQ(f->flush_once(), "");
  EXPECT_EQ(f->stats().site_views(), (per_site{{"blog", 7}, {"news", 1}}));
  ASSERT_EQ(f->flush_once(), "");  // nothing new
  hit(0, "news", "y", 2);
  ASSERT_EQ(f->flush_once(), "");
  EXPECT_EQ(f->stats().site_views(), (per_site{{"blog", 7}, {"news", 3}}));
}

TEST_F(FlusherTest, FlushWithNoNewHitsWritesNothing) {
  auto f = make_flusher();
  hit(0, "blog", "a", 3);
  ASSERT_EQ(f->flush_once(), "");
  ASSERT_EQ(f->flush_once(), "");
  ASSERT_EQ(f->flush_once(), "");
  EXPECT_EQ(read("a", dec1).site.total, 3u);
  EXPECT_EQ(seq(), 1u);
  EXPECT_EQ(f->stats().flushes.load(), 1u);
}

TEST_F(FlusherTest, EachFlushWritesOnlyTheNewHits) {
  auto f = make_flusher();
  for (int round = 1; round <= 5; ++round) {
    hit(round % 2, "blog", "a", 2);
    ASSERT_EQ(f->flush_once(), "");
    SCOPED_TRACE(round);
    EXPECT_EQ(read("a", dec1).articles[0].total, 2u * static_cast<unsigned>(round));
    EXPECT_EQ(seq(), static_cast<std::uint64_t>(round));
  }
}

TEST_F(FlusherTest, ObserverSeesEveryWrite) {
  auto f = make_flusher();
  std::vector<std::pair<std::size_t, bool>> seen;
  f->set_observer([&](double seconds, std::size_t keys, bool ok) {
    EXPECT_GE(seconds, 0.0);
    seen.emplace_back(keys, ok);
  });
  hit(0, "blog", "a");
  hit(0, "blog", "b");
  ASSERT_EQ(f->flush_once(), "");
  ASSERT_EQ(f->flush_once(), "");  // nothing to write: no attempt
  EXPECT_EQ(seen, (std::vector<std::pair<std::size_t, bool>>{{2, true}}));
}

TEST_F(FlusherTest, ANewFlusherContinuesTheSequenceAndDoesNotDoubleCount) {
  {
    auto first = make_flusher();
    hit(0, "blog", "a", 3);
    ASSERT_EQ(first->flush_once(), "");
    hit(1, "blog", "a", 1);
    ASSERT_EQ(first->flush_once(), "");
  }
  ASSERT_EQ(seq(), 2u);
  ASSERT_EQ(read("a", dec1).articles[0].total, 4u);

  // A restart: the store is reopened and a new flusher reads last_flush_seq.
  open_store();
  auto second = make_flusher();
  ASSERT_EQ(second->flush_once(), "");  // nothing new: nothing written again
  EXPECT_EQ(read("a", dec1).articles[0].total, 4u);
  EXPECT_EQ(seq(), 2u);

  hit(0, "blog", "a", 10);
  ASSERT_EQ(second->flush_once(), "");
  EXPECT_EQ(seq(), 3u);
  EXPECT_EQ(read("a", dec1).articles[0].total, 14u);
  EXPECT_EQ(read("a", dec1).site.today, 14u);
}

TEST_F(FlusherTest, HitsBeforeAndAfterLocalMidnightLandInTheirDays) {
  now_ = utc(2026, 11, 30, 16, 59, 59);  // 23:59:59 local, Nov 30
  table_->set_current_day(calendar::day_of(now_));
  auto f = make_flusher();
  hit(0, "blog", "a", 2);
  hit(1, "blog", "a", 1);

  now_ = utc(2026, 11, 30, 17, 0, 0);  // 00:00:00 local, Dec 1
  f->update_day();
  EXPECT_EQ(table_->current_day(), dec1);
  hit(0, "blog", "a", 5);
  hit(1, "blog", "b", 7);
  ASSERT_EQ(f->flush_once(), "");

  const views_snapshot s = read("a", dec1);
  EXPECT_EQ(s.site.today, 12u);
  EXPECT_EQ(s.site.yesterday, 3u);
  EXPECT_EQ(s.site.this_month, 12u);  // Nov 30 is in another month
  EXPECT_EQ(s.site.total, 15u);
  EXPECT_EQ(s.articles[0].today, 5u);
  EXPECT_EQ(s.articles[0].total, 8u);

  const views_snapshot before = read("a", nov30);
  EXPECT_EQ(before.site.today, 3u);
  EXPECT_EQ(before.site.this_month, 3u);
}

TEST_F(FlusherTest, FlushAfterMidnightPutsEarlierHitsInThePreviousDay) {
  now_ = utc(2026, 11, 30, 16, 59, 58);
  table_->set_current_day(calendar::day_of(now_));
  auto f = make_flusher();
  hit(0, "blog", "a", 2);
  ASSERT_EQ(f->flush_once(), "");
  hit(1, "blog", "a", 3);  // 23:59:59 local, not yet flushed

  now_ = utc(2026, 11, 30, 17, 0, 0) + 1ms;  // the flusher wakes just after midnight
  ASSERT_EQ(f->flush_once(), "");
  EXPECT_EQ(table_->current_day(), dec1);
  EXPECT_EQ(read("a", nov30).site.today, 5u);
  EXPECT_EQ(read("a", dec1).site.today, 0u);
  EXPECT_EQ(read("a", dec1).site.yesterday, 5u);

  hit(0, "blog", "a", 4);  // counted after the rollover: Dec 1
  ASSERT_EQ(f->flush_once(), "");
  const views_snapshot s = read("a", dec1);
  EXPECT_EQ(s.site.today, 4u);
  EXPECT_EQ(s.site.yesterday, 5u);
  EXPECT_EQ(s.site.total, 9u);
}

TEST_F(FlusherTest, YearRolloverStartsANewMonth) {
  now_ = utc(2026, 12, 31, 12, 0, 0);  // Dec 31, 19:00 local
  table_->set_current_day(calendar::day_of(now_));
  auto f = make_flusher();
  hit(0, "blog", "a", 6);
  now_ = utc(2026, 12, 31, 17, 0, 0);  // Jan 1 2027, 00:00 local
  f->update_day();
  hit(0, "blog", "a", 1);
  ASSERT_EQ(f->flush_once(), "");
  const day_number jan1 = from_civil({2027, 1, 1});
  EXPECT_EQ(table_->current_day(), jan1);
  const views_snapshot s = read("a", jan1);
  EXPECT_EQ(s.site.today, 1u);
  EXPECT_EQ(s.site.yesterday, 6u);
  EXPECT_EQ(s.site.this_month, 1u);
  EXPECT_EQ(s.site.total, 7u);
}

TEST_F(FlusherTest, ClockSteppingBackDoesNotMoveTheDayBack) {
  auto f = make_flusher();
  now_ = utc(2026, 12, 1, 17, 0, 0);  // Dec 2 local
  f->update_day();
  EXPECT_EQ(table_->current_day(), dec1 + 1);
  now_ = utc(2026, 12, 1, 16, 0, 0);  // an hour back: Dec 1 local
  f->update_day();
  EXPECT_EQ(table_->current_day(), dec1 + 1);
  hit(0, "blog", "a", 1);
  ASSERT_EQ(f->flush_once(), "");
  EXPECT_EQ(read("a", dec1 + 1).site.today, 1u);
  EXPECT_EQ(read("a", dec1 + 1).site.yesterday, 0u);
}

TEST_F(FlusherTest, RunFlushesEveryIntervalUntilStopped) {
  auto f = make_flusher();
  hit(0, "blog", "a", 3);
  std::thread runner([&] { f->run(10ms); });
  // Bounded wait: 10 ms flushes, give up after 5 s.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (seq() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  f->stop();
  runner.join();
  EXPECT_GE(seq(), 1u);
  EXPECT_EQ(read("a", dec1).site.total, 3u);
}

}  // namespace
}  // namespace pvc
