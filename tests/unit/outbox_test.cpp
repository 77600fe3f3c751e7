#include "cluster/outbox.hpp"

#include <gtest/gtest.h>

#include <map>

#include "core/outbox_entry.hpp"
#include "store/store.hpp"
#include "test_support.hpp"

namespace pvc {
namespace {

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen(std::uint64_t max_bytes = 1 << 20) {
    box_.reset();
    db_.reset();
    std::string error;
    db_ = store::open(dir_.str(), store_options{.sync = false}, error);
    ASSERT_NE(db_, nullptr) << error;
    box_ = outbox::open(*db_, max_bytes, error);
    ASSERT_NE(box_, nullptr) << error;
  }

  // What the flusher does with its hooks: the entry goes in the flush's write.
  std::string flush(std::uint64_t seq, std::string_view article, std::uint64_t n) {
    delta_table t;
    t.reset(20794);
    t.add("soctrang.gov.vn", article, n);
    const delta_table* tables[] = {&t};
    key_writes extra;
    std::string error = box_->add(tables, {}, seq, extra);
    if (error.empty()) error = db_->apply(tables, seq, &extra);
    box_->added(seq, error.empty());
    return error;
  }

  test::temp_dir dir_;
  std::unique_ptr<store> db_;
  std::unique_ptr<outbox> box_;
};

TEST_F(OutboxTest, KeepsFlushesInOrderUntilRemoved) {
  ASSERT_EQ(flush(1, "/tin-tức/bài-1", 3), "");
  ASSERT_EQ(flush(2, "/gioi-thieu", 1), "");
  EXPECT_EQ(box_->depth(), 2u);
  outbox::entry e;
  std::string error;
  ASSERT_TRUE(box_->oldest(e, error)) << error;
  EXPECT_EQ(e.seq, 1u);
  std::map<std::string, site_part, std::less<>> parts;
  ASSERT_TRUE(decode_outbox_entry(e.flush, parts));
  EXPECT_EQ(parts.at("soctrang.gov.vn").days.at(0).articles.at("/tin-tức/bài-1"), 3u);
  ASSERT_EQ(box_->remove(1), "");
  ASSERT_TRUE(box_->oldest(e, error));
  EXPECT_EQ(e.seq, 2u);
  ASSERT_EQ(box_->remove(2), "");
  EXPECT_FALSE(box_->oldest(e, error));
  EXPECT_EQ(error, "");
  EXPECT_EQ(box_->bytes(), 0u);
}

TEST_F(OutboxTest, ARestartFindsWhatWasNotShippedAndKeepsTheIncarnation) {
  const std::string id = box_->incarnation();
  EXPECT_EQ(id.size(), 32u);
  ASSERT_EQ(flush(1, "a", 1), "");
  ASSERT_EQ(flush(2, "b", 1), "");
  ASSERT_EQ(box_->remove(1), "");
  const std::uint64_t bytes = box_->bytes();
  reopen();
  EXPECT_EQ(box_->incarnation(), id);
  EXPECT_EQ(box_->depth(), 1u);
  EXPECT_EQ(box_->bytes(), bytes);
  outbox::entry e;
  std::string error;
  ASSERT_TRUE(box_->oldest(e, error));
  EXPECT_EQ(e.seq, 2u);
  EXPECT_GT(box_->oldest_age_seconds(), -1.0);
}

TEST_F(OutboxTest, ANewDataDirIsANewIncarnation) {
  const std::string first = box_->incarnation();
  test::temp_dir other;
  std::string error;
  auto db2 = store::open(other.str(), store_options{.sync = false}, error);
  ASSERT_NE(db2, nullptr) << error;
  auto box2 = outbox::open(*db2, 1 << 20, error);
  ASSERT_NE(box2, nullptr) << error;
  EXPECT_NE(box2->incarnation(), first);
}

TEST_F(OutboxTest, AFullOutboxRefusesTheFlushAndTheStoreKeepsNothingOfIt) {
  reopen(1);  // any entry fills it
  ASSERT_EQ(flush(1, "a", 1), "");
  EXPECT_TRUE(box_->full());
  const std::string refused = flush(2, "b", 1);
  EXPECT_NE(refused.find("outbox is full"), std::string::npos) << refused;
  std::uint64_t seq = 0;
  ASSERT_TRUE(db_->last_flush_seq(seq));
  EXPECT_EQ(seq, 1u);  // the refused flush wrote nothing: the flusher holds it
  EXPECT_EQ(box_->depth(), 1u);
}

TEST_F(OutboxTest, UnsentViewsCountUntilTheShipperTakesTheirFlush) {
  const day_number dec7 = 20794;
  ASSERT_EQ(flush(1, "/tin-tức/bài-1", 3), "");
  ASSERT_EQ(flush(2, "/tin-tức/bài-1", 2), "");
  const count_ref site_all{"soctrang.gov.vn", {}, count_period::all, 0};
  const count_ref article_day{"soctrang.gov.vn", "/tin-tức/bài-1", count_period::day, dec7};
  const count_ref article_month{"soctrang.gov.vn", "/tin-tức/bài-1", count_period::month, dec7};
  const count_ref other_day{"soctrang.gov.vn", "/tin-tức/bài-1", count_period::day, dec7 + 1};
  EXPECT_EQ(box_->unsent(site_all), 5u);
  EXPECT_EQ(box_->unsent(article_day), 5u);
  EXPECT_EQ(box_->unsent(article_month), 5u);
  EXPECT_EQ(box_->unsent(other_day), 0u);
  // The shipper takes flush 1 (and again, on a retry: taken out once).
  outbox::entry e;
  std::string error;
  ASSERT_TRUE(box_->oldest(e, error));
  std::map<std::string, site_part, std::less<>> parts;
  ASSERT_TRUE(decode_outbox_entry(e.flush, parts));
  box_->sending(e.seq, parts);
  box_->sending(e.seq, parts);
  EXPECT_EQ(box_->unsent(site_all), 2u);
  EXPECT_EQ(box_->unsent(article_day), 2u);
  // A flush that failed to land is not counted.
  delta_table t;
  t.reset(dec7);
  t.add("soctrang.gov.vn", "/x", 9);
  const delta_table* tables[] = {&t};
  key_writes extra;
  ASSERT_EQ(box_->add(tables, {}, 3, extra), "");
  box_->added(3, false);
  EXPECT_EQ(box_->unsent(site_all), 2u);
  // A restart's leftovers ship before anything new: not in the unsent figures.
  reopen();
  EXPECT_EQ(box_->unsent(site_all), 0u);
}

}  // namespace
}  // namespace pvc
