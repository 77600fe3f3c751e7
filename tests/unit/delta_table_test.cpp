#include "core/delta_table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <utility>

namespace pvc {
namespace {

using counts = std::map<std::pair<std::string, std::string>, std::uint64_t>;

// Every key of the table; fails the test if for_each reports a key twice.
counts contents(const delta_table& t) {
  counts out;
  t.for_each([&](std::string_view site, std::string_view article, std::uint64_t n) {
    auto [it, inserted] = out.emplace(std::make_pair(std::string(site), std::string(article)), n);
    EXPECT_TRUE(inserted) << "key reported twice: " << site << " " << article;
  });
  return out;
}

TEST(DeltaTable, AddSumsPerKey) {
  delta_table t;
  t.reset(20788);
  t.add("blog", "a", 1);
  t.add("blog", "a", 1);
  t.add("blog", "b", 5);
  t.add("blog", "a", 1);
  t.add("news", "a", 1000000);
  EXPECT_EQ(contents(t),
            (counts{{{"blog", "a"}, 3}, {{"blog", "b"}, 5}, {{"news", "a"}, 1000000}}));
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.total(), 1000008u);
  EXPECT_EQ(t.day(), 20788);
  EXPECT_FALSE(t.empty());
}

TEST(DeltaTable, NewTableIsEmpty) {
  delta_table t;
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.total(), 0u);
  EXPECT_TRUE(contents(t).empty());
}

TEST(DeltaTable, KeyHashInTwoStepsIsTheKeyHash) {
  // counter_shard hashes a batch's shared site once (site_hash), then each
  // article from it: the same hash as key_hash, or a key would take two slots.
  const delta_table t;
  for (const char* site : {"a", "news", "baochinhphu", "a-site-longer-than-sixteen-bytes"}) {
    for (const char* article : {"/", "/a", "/tin-tuc/2026/11/bai-viet-1"}) {
      EXPECT_EQ(delta_table::key_hash_in_site(t.site_hash(site), article),
                t.key_hash(site, article))
          << site << " " << article;
    }
  }
}

TEST(DeltaTable, KeysThatShareBytesStayDistinct) {
  // Site and article are one key together, but the split point matters.
  struct row {
    std::string site;
    std::string article;
    std::uint64_t n;
  };
  const row table[] = {
      {"blog", "x", 1},  {"news", "x", 2},  // same article, other site
      {"ab", "c", 4},    {"a", "bc", 8},    // same bytes, other split
      {"abc", "d", 16},  {"ab", "cd", 32},
      {"x", "blog", 64},  // the site of one key as the article of another
  };
  delta_table t;
  counts expected;
  for (const row& r : table) {
    t.add(r.site, r.article, r.n);
    expected[{r.site, r.article}] = r.n;
  }
  EXPECT_EQ(contents(t), expected);
  EXPECT_EQ(t.size(), std::size(table));
  EXPECT_EQ(t.total(), 127u);
}

TEST(DeltaTable, LongestIdsAreKeptWhole) {
  const std::string site(200, 's');
  const std::string article(200, 'a');
  std::string other = article;
  other.back() = 'b';  // differs only in the last byte
  delta_table t;
  t.add(site, article, 2);
  t.add(site, other, 3);
  t.add(site, article, 4);
  EXPECT_EQ(contents(t), (counts{{{site, article}, 6}, {{site, other}, 3}}));
}

TEST(DeltaTable, GrowsToManyKeysWithoutLosingCounts) {
  constexpr std::uint64_t n_keys = 100'000;
  delta_table t(16);  // starts small: must grow many times
  std::uint64_t expected_total = 0;
  for (std::uint64_t i = 0; i < n_keys; ++i) {
    t.add(i % 2 ? "odd" : "even", "article-" + std::to_string(i), i % 7 + 1);
    expected_total += i % 7 + 1;
  }
  // Second pass: every key must be found again after all the growth.
  for (std::uint64_t i = 0; i < n_keys; i += 3) {
    t.add(i % 2 ? "odd" : "even", "article-" + std::to_string(i), 100);
    expected_total += 100;
  }
  EXPECT_EQ(t.size(), n_keys);
  EXPECT_EQ(t.total(), expected_total);

  std::uint64_t seen = 0;
  std::uint64_t sum = 0;
  std::uint64_t wrong = 0;
  t.for_each([&](std::string_view site, std::string_view article, std::uint64_t n) {
    ++seen;
    sum += n;
    const std::uint64_t i = std::stoull(std::string(article.substr(8)));
    const std::uint64_t want = i % 7 + 1 + (i % 3 == 0 ? 100 : 0);
    if (n != want || site != (i % 2 ? "odd" : "even")) ++wrong;
  });
  EXPECT_EQ(seen, n_keys);
  EXPECT_EQ(sum, expected_total);
  EXPECT_EQ(wrong, 0u);
}

TEST(DeltaTable, KeepsIdLengthsAbove255Bytes) {
  // A record's header keeps the article's length in 10 bits, and a site is
  // stored once with its own length: lengths over 255 are kept whole (ids
  // are at most 200 bytes today; the table does not rely on it).
  delta_table t(16);
  const std::string long_site(300, 's'), long_article(delta_table::max_article_bytes, 'a');
  t.add(long_site, "x", 1);
  t.add("s", long_article, 2);
  t.add(long_site, long_article, 3);
  t.add(long_site, long_article, 4);
  EXPECT_EQ(
      contents(t),
      (counts{{{long_site, "x"}, 1}, {{"s", long_article}, 2}, {{long_site, long_article}, 7}}));
}

TEST(DeltaTable, ManySitesKeepTheirKeysApartAcrossResets) {
  // Records name their site by number: 3,000 sites with the same articles
  // stay 3,000 x 3 keys, and after a reset (which keeps the numbers) keys
  // of the same sites, added in another order, land on the right sites.
  delta_table t(16);
  auto site = [](int i) {
    std::string s = "site-";  // by append: GCC 12 warns falsely on "site-" + to_string
    s += std::to_string(i);
    return s;
  };
  for (int round = 0; round < 2; ++round) {
    counts want;
    for (int k = 0; k < 3000; ++k) {
      const int i = round == 0 ? k : 2999 - k;
      for (const char* article : {"/", "/a", "/tin-tuc/2026/11/bai-viet-1"}) {
        t.add(site(i), article, static_cast<std::uint64_t>(i % 5 + 1));
        want[{site(i), article}] = static_cast<std::uint64_t>(i % 5 + 1);
      }
    }
    EXPECT_EQ(contents(t), want) << "round " << round;
    t.reset(round + 1);
  }
}

TEST(DeltaTable, ResetKeepsSiteNumbersUpToALimit) {
  // A few sites keep their numbers across a reset; a table that numbered
  // more than sites_kept_across_reset drops them all, and its next keys are
  // numbered afresh, on the right sites.
  auto site = [](std::size_t i) {
    std::string s = "s";  // by append: GCC 12 warns falsely on "s" + to_string
    s += std::to_string(i);
    return s;
  };
  delta_table few(16);
  few.add("news", "/a", 1);
  few.reset(1);
  EXPECT_NE(few.find_site("news"), delta_table::no_site);

  delta_table many(16);
  const std::size_t n = delta_table::sites_kept_across_reset + 1;
  for (std::size_t i = 0; i < n; ++i)
    many.add(site(i), "/a", 1);
  EXPECT_NE(many.find_site(site(0)), delta_table::no_site);
  many.reset(1);
  EXPECT_EQ(many.find_site(site(0)), delta_table::no_site);
  EXPECT_EQ(many.find_site(site(n - 1)), delta_table::no_site);
  counts want;
  for (std::size_t i = n; i-- > n - 1000;) {
    many.add(site(i), "/b", i % 3 + 1);
    want[{site(i), "/b"}] = i % 3 + 1;
  }
  EXPECT_EQ(contents(many), want);
}

TEST(DeltaTable, ASiteNewToAFullTableHasNoRoom) {
  // A table numbers site_capacity sites (max_sites, 4,194,303, in pvcd; two
  // here). A key of a third site is refused before admit is asked, and the
  // table is unchanged; keys of the sites it has still go in.
  delta_table t(16, {.sites = 2});
  t.add("a", "/1", 1);
  t.add("b", "/1", 2);
  int asked = 0;
  auto admit = [&](std::string_view, std::uint64_t) { return ++asked, true; };
  EXPECT_EQ(t.add("c", "/1", 5, admit), delta_table::add_result::no_room);
  EXPECT_EQ(asked, 0);
  EXPECT_THROW(t.add("c", "/1", 5), std::length_error);
  EXPECT_EQ(t.add("a", "/2", 3, admit), delta_table::add_result::inserted);
  EXPECT_EQ(t.add("b", "/1", 1, admit), delta_table::add_result::added);
  EXPECT_EQ(contents(t), (counts{{{"a", "/1"}, 1}, {{"a", "/2"}, 3}, {{"b", "/1"}, 3}}));
  EXPECT_EQ(t.total(), 7u);
  EXPECT_EQ(t.find_site("c"), delta_table::no_site);
}

TEST(DeltaTable, AKeyWhoseRecordDoesNotFitIsRefusedAsFull) {
  // Records take at most limits.key_bytes (4 GiB in pvcd, so that a 32-bit
  // offset reaches each). Here 8 bytes of pad and two 14-byte records fit
  // in 40; a third new key is refused, a known key still counts.
  delta_table t(16, {.key_bytes = 40});
  t.add("a", "/1", 1);
  t.add("a", "/2", 1);
  auto admit = [](std::string_view, std::uint64_t) { return true; };
  EXPECT_EQ(t.add("a", "/3", 1, admit), delta_table::add_result::full);
  EXPECT_THROW(t.add("a", "/3", 1), std::length_error);
  EXPECT_EQ(t.add("a", "/1", 4, admit), delta_table::add_result::added);
  EXPECT_EQ(contents(t), (counts{{{"a", "/1"}, 5}, {{"a", "/2"}, 1}}));
}

TEST(DeltaTable, CanTakeAllOfAnotherWhenItsSitesAndKeysFit) {
  // The flusher merges one table into another only when the sites of both
  // fit the other's site numbers and the records of both its key bytes.
  delta_table into(16, {.sites = 3}), two(16), one(16);
  into.add("a", "/1", 1);
  into.add("b", "/1", 1);
  one.add("c", "/1", 1);
  two.add("c", "/1", 1);
  two.add("d", "/1", 1);
  EXPECT_TRUE(into.can_take_all_of(one));
  EXPECT_FALSE(into.can_take_all_of(two));
  // 8 + 14 + 14 bytes here, 8 + 14 there: 58 of 60 fit, 58 of 57 do not.
  delta_table roomy(16, {.key_bytes = 60}), tight(16, {.key_bytes = 57});
  for (delta_table* t : {&roomy, &tight}) {
    t->add("a", "/1", 1);
    t->add("a", "/2", 1);
  }
  EXPECT_TRUE(roomy.can_take_all_of(one));
  EXPECT_FALSE(tight.can_take_all_of(one));
}

TEST(DeltaTable, AKeyOfASiteNumberedAfterTheLookupIsFound) {
  // A batch looks its site up before counting: the first hit may then bring
  // the site in, and the next hits still carry no_site. They must find the
  // first hit's key, not insert a second one.
  delta_table t(16);
  const auto admit = [](std::string_view, std::uint64_t) { return true; };
  const std::uint64_t h = t.key_hash("news", "/a");
  ASSERT_EQ(t.find_site("news"), delta_table::no_site);
  EXPECT_EQ(t.add_hashed(h, "news", delta_table::no_site, "/a", 1, admit),
            delta_table::add_result::inserted);
  EXPECT_EQ(t.add_hashed(h, "news", delta_table::no_site, "/a", 2, admit),
            delta_table::add_result::added);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(contents(t), (counts{{{"news", "/a"}, 3}}));
}

// "a0", "a1", ... (built by append: GCC 12 warns falsely on "a" + to_string).
std::string article_name(int i) {
  std::string s = "a";
  s += std::to_string(i);
  return s;
}

TEST(DeltaTable, ResetEmptiesButKeepsMemory) {
  delta_table t(16);
  for (int i = 0; i < 5000; ++i)
    t.add("blog", article_name(i), 2);
  const std::size_t grown = t.memory_bytes();
  ASSERT_GT(grown, 16 * 8u + 8);  // more than 16 empty slots and the pad

  t.reset(42);
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.total(), 0u);
  EXPECT_EQ(t.day(), 42);
  EXPECT_TRUE(contents(t).empty());
  EXPECT_EQ(t.memory_bytes(), grown);

  // Counts start from zero again; the same working set needs no more memory.
  for (int i = 0; i < 5000; ++i)
    t.add("blog", article_name(i), 1);
  EXPECT_EQ(t.size(), 5000u);
  EXPECT_EQ(t.total(), 5000u);
  EXPECT_EQ(t.memory_bytes(), grown);
  const counts c = contents(t);
  EXPECT_EQ(c.at({"blog", "a0"}), 1u);
  EXPECT_EQ(c.at({"blog", "a4999"}), 1u);
}

TEST(DeltaTable, ResetOfAnEmptyTableSetsTheDay) {
  delta_table t;
  t.reset(7);
  EXPECT_EQ(t.day(), 7);
  t.add("s", "a", 1);
  t.reset(8);
  t.add("s", "b", 1);
  EXPECT_EQ(contents(t), (counts{{{"s", "b"}, 1}}));
  EXPECT_EQ(t.day(), 8);
}

}  // namespace
}  // namespace pvc
