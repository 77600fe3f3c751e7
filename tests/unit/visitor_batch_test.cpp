#include "core/visitor_batch.hpp"

#include <gtest/gtest.h>

namespace pvc {
namespace {

visitor_ids ids(std::uint64_t month, std::uint64_t day) {
  return {month, day, true};
}

TEST(VisitorBatch, TakesEveryShardsVisitsOnceAndDistinct) {
  visitor_batch b(2);
  b.add(0, "soctrang.gov.vn", 20794, ids(1, 10), 100);
  b.add(1, "soctrang.gov.vn", 20794, ids(1, 10), 100);  // the same visit on another thread
  b.add(1, "soctrang.gov.vn", 20794, ids(1, 10), 101);  // a minute later: "online" again
  b.add(0, "baochinhphu.vn", 20794, ids(2, 20), 100);
  b.add(0, "baochinhphu.vn", 20794, visitor_ids{}, 100);  // no agreed salt: not a visitor
  visits_by_site got;
  b.take(got);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got.at("soctrang.gov.vn").size(), 2u);
  EXPECT_EQ(got.at("baochinhphu.vn").size(), 1u);
  b.take(got);
  EXPECT_TRUE(got.empty());  // taken once
}

TEST(VisitorBatch, WhatAFailedFlushPutsBackGoesWithTheNext) {
  visitor_batch b(1);
  b.add(0, "s", 20794, ids(1, 10), 100);
  visits_by_site first;
  b.take(first);
  b.add(0, "s", 20794, ids(2, 20), 100);
  b.put_back(std::move(first));
  visits_by_site next;
  b.take(next);
  EXPECT_EQ(next.at("s").size(), 2u);
}

}  // namespace
}  // namespace pvc
