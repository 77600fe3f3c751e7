#include "core/visitors.hpp"

#include <gtest/gtest.h>

#include <map>

#include "core/store_keys.hpp"

namespace pvc {
namespace {

using namespace std::chrono_literals;

const day_number nov30 = from_civil({2026, 11, 30});
const day_number dec1 = from_civil({2026, 12, 1});
const day_number dec2 = from_civil({2026, 12, 2});
const day_number dec3 = from_civil({2026, 12, 3});

// Salts from a fixed sequence, so every run hashes the same visitors alike
// (estimates of a few visitors are exact unless two share a register).
std::uint64_t salts_made = 0;
salt test_salt() {
  ++salts_made;
  return {salts_made * 0x9e3779b97f4a7c15ULL, ~salts_made * 0xbf58476d1ce4e5b9ULL};
}

// The store, as far as visitor state goes: a sorted key-value map.
struct fake_store {
  std::map<std::string, std::string> kv;
  void apply(const key_writes& w) {
    for (const auto& [k, v] : w.put)
      kv[k] = v;
    for (const auto& k : w.erase)
      kv.erase(k);
  }
  std::vector<std::pair<std::string, std::string>> all() const { return {kv.begin(), kv.end()}; }
  bool has(const std::string& k) const { return kv.count(k) != 0; }
};

// One flush of the visitor state into `db`, writing every changed sketch.
key_writes flush(visitor_counter& v, fake_store& db, day_number today, bool ok = true) {
  key_writes w;
  v.collect(today, w, 0, true);
  if (ok) db.apply(w);
  v.written(ok);
  return w;
}

void visit(visitor_counter& v, day_number day, std::string_view ip, std::int64_t now = 1000,
           std::string_view site = "bcp", std::string_view ua = "Mozilla/5.0") {
  v.record(0, site, day, v.ids(day, ip, ua, site), now);
}

TEST(Visitors, OneVisitorIsOneIdWithinAPeriodAndAnotherInTheNext) {
  visitor_counter v(1, 300s, test_salt);
  v.restore(dec1, {});
  const visitor_ids a = v.ids(dec1, "198.51.100.7", "Mozilla/5.0", "bcp");
  ASSERT_TRUE(a.valid);
  EXPECT_EQ(v.ids(dec1, "198.51.100.7", "Mozilla/5.0", "bcp").day, a.day);
  EXPECT_NE(v.ids(dec1, "198.51.100.8", "Mozilla/5.0", "bcp").day, a.day);
  EXPECT_NE(v.ids(dec1, "198.51.100.7", "Mozilla/5.1", "bcp").day, a.day);
  EXPECT_NE(v.ids(dec1, "198.51.100.7", "Mozilla/5.0", "other").day, a.day);
  // Tomorrow's salt is ready before midnight; its ids are unrelated to today's.
  const visitor_ids b = v.ids(dec2, "198.51.100.7", "Mozilla/5.0", "bcp");
  ASSERT_TRUE(b.valid);
  EXPECT_NE(b.day, a.day);
  EXPECT_EQ(b.month, a.month);  // same month, same month salt
  // No salt exists for the day after tomorrow, nor for yesterday.
  EXPECT_FALSE(v.ids(dec3, "198.51.100.7", "Mozilla/5.0", "bcp").valid);
  EXPECT_FALSE(v.ids(nov30, "198.51.100.7", "Mozilla/5.0", "bcp").valid);
  // A new month, a new month salt.
  visitor_counter w(1, 300s, test_salt);
  w.restore(nov30, {});
  EXPECT_NE(w.ids(nov30, "1.2.3.4", "ua", "bcp").month, w.ids(dec1, "1.2.3.4", "ua", "bcp").month);
}

TEST(Visitors, SaltsAreStoredBeforeUseAndDeletedWhenTheirPeriodEnds) {
  visitor_counter v(1, 300s, test_salt);
  fake_store db;
  db.apply(v.restore(dec1, {}));
  flush(v, db, dec1);
  const std::string today_salt = keys::day_salt("20261201");
  EXPECT_TRUE(db.has(today_salt));
  EXPECT_TRUE(db.has(keys::day_salt("20261202")));
  EXPECT_TRUE(db.has(keys::month_salt("202612")));
  EXPECT_TRUE(db.has(keys::month_salt("202701")));
  const std::uint64_t dec2_id = v.ids(dec2, "198.51.100.7", "ua", "bcp").day;

  // Midnight: the first write of Dec 2 deletes Dec 1's salt and stores Dec 3's.
  const key_writes w = flush(v, db, dec2);
  EXPECT_NE(std::find(w.erase.begin(), w.erase.end(), today_salt), w.erase.end());
  EXPECT_FALSE(db.has(today_salt));
  EXPECT_TRUE(db.has(keys::day_salt("20261203")));
  // Gone from memory too: no id can be made for Dec 1 any more.
  EXPECT_FALSE(v.ids(dec1, "198.51.100.7", "ua", "bcp").valid);
  EXPECT_TRUE(v.ids(dec3, "198.51.100.7", "ua", "bcp").valid);
  EXPECT_EQ(v.ids(dec2, "198.51.100.7", "ua", "bcp").day, dec2_id);

  // A failed write deletes nothing: the next one does it.
  visitor_counter f(1, 300s, test_salt);
  fake_store db2;
  db2.apply(f.restore(dec1, {}));
  flush(f, db2, dec1);
  flush(f, db2, dec2, /*ok=*/false);
  EXPECT_TRUE(db2.has(today_salt));
  flush(f, db2, dec2);
  EXPECT_FALSE(db2.has(today_salt));
}

TEST(Visitors, ARestartKeepsTheSaltsAndTheSketches) {
  fake_store db;
  std::uint64_t id_before = 0;
  visitor_counts before;
  {
    visitor_counter v(2, 300s, test_salt);
    db.apply(v.restore(dec1, {}));
    for (int i = 0; i < 500; ++i)
      visit(v, dec1, "10.0.0." + std::to_string(i % 250) + "." + std::to_string(i / 250));
    id_before = v.ids(dec1, "198.51.100.7", "ua", "bcp").month;
    flush(v, db, dec1);
    before = v.counts(0, "bcp", dec1, 1000);
    EXPECT_NEAR(static_cast<double>(before.today), 500.0, 10.0);
  }
  visitor_counter v(2, 300s, test_salt);
  const key_writes tidy = v.restore(dec1, db.all());
  EXPECT_TRUE(tidy.empty());
  EXPECT_EQ(v.ids(dec1, "198.51.100.7", "ua", "bcp").month, id_before);
  // The same visitors again are not new visitors.
  for (int i = 0; i < 500; ++i)
    visit(v, dec1, "10.0.0." + std::to_string(i % 250) + "." + std::to_string(i / 250));
  const visitor_counts c = v.counts(0, "bcp", dec1, 1000);
  EXPECT_EQ(c.today, before.today);
  EXPECT_EQ(c.this_month, before.this_month);
}

TEST(Visitors, NoAddressOrUserAgentIsEverWritten) {
  visitor_counter v(1, 300s, test_salt);
  fake_store db;
  db.apply(v.restore(dec1, {}));
  visit(v, dec1, "198.51.100.77", 1000, "bcp", "SecretAgent/1.0");
  flush(v, db, dec1);
  visit(v, dec2, "198.51.100.77", 2000, "bcp", "SecretAgent/1.0");
  flush(v, db, dec2);
  ASSERT_FALSE(db.kv.empty());
  for (const auto& [k, val] : db.kv) {
    for (const std::string& secret : {std::string("198.51.100.77"), std::string("SecretAgent")}) {
      EXPECT_EQ(k.find(secret), std::string::npos) << k;
      EXPECT_EQ(val.find(secret), std::string::npos) << k;
    }
  }
}

TEST(Visitors, MidnightMakesTodayYesterdayAndTheSketchACount) {
  visitor_counter v(1, 300s, test_salt);
  fake_store db;
  db.apply(v.restore(dec1, {}));
  for (int i = 0; i < 300; ++i)
    visit(v, dec1, "10.1.0." + std::to_string(i));
  flush(v, db, dec1);
  const std::uint64_t dec1_visitors = v.counts(0, "bcp", dec1, 1000).today;
  EXPECT_NEAR(static_cast<double>(dec1_visitors), 300.0, 6.0);
  EXPECT_TRUE(db.has(keys::day_sketch("20261201", "bcp")));
  // Past midnight, before any flush: the new day is prepared, and
  // yesterday still reads from its sketch.
  visit(v, dec2, "10.1.0.1");
  visitor_counts c = v.counts(0, "bcp", dec2, 1001);
  EXPECT_EQ(c.today, 1u);
  EXPECT_EQ(c.yesterday, dec1_visitors);
  // The month's sketch (other hashes, same visitors: 10.1.0.1 came back).
  EXPECT_NEAR(static_cast<double>(c.this_month), 300.0, 6.0);
  // The first flush of Dec 2 stores Dec 1's count and drops its sketch.
  flush(v, db, dec2);
  EXPECT_FALSE(db.has(keys::day_sketch("20261201", "bcp")));
  std::uint64_t stored = 0;
  ASSERT_TRUE(keys::decode_count(db.kv[keys::day_visitors("20261201", "bcp")], stored));
  EXPECT_EQ(stored, dec1_visitors);
  c = v.counts(0, "bcp", dec2, 1002);
  EXPECT_EQ(c.yesterday, dec1_visitors);
  EXPECT_EQ(c.today, 1u);
  // And after a restart, yesterday comes from that count.
  visitor_counter again(1, 300s, test_salt);
  again.restore(dec2, db.all());
  EXPECT_EQ(again.counts(0, "bcp", dec2, 5).yesterday, dec1_visitors);
  EXPECT_EQ(again.counts(0, "bcp", dec2, 5).today, 1u);
}

TEST(Visitors, ARestartAfterDaysDownTidiesWhatExpired) {
  fake_store db;
  visitor_counts before;
  {
    visitor_counter v(1, 300s, test_salt);
    db.apply(v.restore(nov30, {}));
    for (int i = 0; i < 40; ++i)
      visit(v, nov30, "10.2.0." + std::to_string(i));
    flush(v, db, nov30);
    before = v.counts(0, "bcp", nov30, 1000);
    EXPECT_NEAR(static_cast<double>(before.today), 40.0, 1.0);
  }
  visitor_counter v(1, 300s, test_salt);
  const key_writes tidy = v.restore(dec3, db.all());
  db.apply(tidy);
  for (const auto& [k, val] : db.kv) {
    // No salt of an earlier day or month remains (December's was made
    // ahead on 30 November; Dec 3's is written by the first flush); no sketch.
    if (k[0] == 'K') {
      EXPECT_EQ(k, keys::month_salt("202612"));
    }
    EXPECT_NE(k[0], 'V') << k;
  }
  std::uint64_t n = 0;
  ASSERT_TRUE(keys::decode_count(db.kv[keys::day_visitors("20261130", "bcp")], n));
  EXPECT_EQ(n, before.today);
  ASSERT_TRUE(keys::decode_count(db.kv[keys::month_visitors("202611", "bcp")], n));
  EXPECT_EQ(n, before.this_month);
}

TEST(Visitors, OnlineMeansSeenWithinTheWindow) {
  visitor_counter v(1, 300s, test_salt);  // buckets of 30 s
  v.restore(dec1, {});
  const std::int64_t t0 = 100'000;
  visit(v, dec1, "10.3.0.1", t0);
  visit(v, dec1, "10.3.0.2", t0 + 100);
  visit(v, dec1, "10.3.0.1", t0 + 200);  // the same visitor again
  EXPECT_EQ(v.counts(0, "bcp", dec1, t0 + 200).online, 2u);
  EXPECT_EQ(v.counts(0, "bcp", dec1, t0 + 390).online, 2u);  // 10.3.0.2 seen 290 s ago
  EXPECT_EQ(v.counts(0, "bcp", dec1, t0 + 450).online, 1u);  // only 10.3.0.1, 250 s ago
  EXPECT_EQ(v.counts(0, "bcp", dec1, t0 + 600).online, 0u);
  EXPECT_EQ(v.counts(0, "bcp", dec1, t0 + 600).today, 2u);
  EXPECT_EQ(v.counts(0, "nobody", dec1, t0).online, 0u);
}

TEST(Visitors, ChangedSketchesAreWrittenOnceAndAgainAfterAFailure) {
  visitor_counter v(1, 300s, test_salt);
  fake_store db;
  db.apply(v.restore(dec1, {}));
  visit(v, dec1, "10.4.0.1");
  auto sketch_puts = [](const key_writes& w) {
    return std::count_if(w.put.begin(), w.put.end(),
                         [](const auto& kv) { return kv.first[0] == 'V'; });
  };
  EXPECT_EQ(sketch_puts(flush(v, db, dec1, /*ok=*/false)), 2);  // day and month
  EXPECT_EQ(sketch_puts(flush(v, db, dec1)), 2);                // collected again
  EXPECT_EQ(sketch_puts(flush(v, db, dec1)), 0);                // nothing changed
  visit(v, dec1, "10.4.0.1");
  EXPECT_EQ(sketch_puts(flush(v, db, dec1)), 0);  // a known visitor changes no register
}

TEST(Visitors, AChangedSketchIsWrittenAtMostOnceAMinute) {
  visitor_counter v(1, 300s, test_salt);
  fake_store db;
  db.apply(v.restore(dec1, {}));
  auto sketches_written = [&](std::int64_t now) {
    key_writes w;
    v.collect(dec1, w, now, false);
    db.apply(w);
    v.written(true);
    return std::count_if(w.put.begin(), w.put.end(),
                         [](const auto& kv) { return kv.first[0] == 'V'; });
  };
  visit(v, dec1, "10.5.0.1");
  EXPECT_EQ(sketches_written(1000), 2);  // never written yet: at once
  visit(v, dec1, "10.5.0.2");
  EXPECT_EQ(sketches_written(1001), 0);  // changed, but written a second ago
  EXPECT_EQ(sketches_written(1059), 0);
  EXPECT_EQ(sketches_written(1060), 2);  // a minute later
  visit(v, dec1, "10.5.0.3");
  key_writes last;
  v.collect(dec1, last, 1061, true);  // the last flush of a clean stop writes it all
  EXPECT_EQ(std::count_if(last.put.begin(), last.put.end(),
                          [](const auto& kv) { return kv.first[0] == 'V'; }),
            2);
}

// Cluster mode's salt agreement, with the cluster played by a map: the
// first candidate for a period wins, later ones get it.
struct salt_registry {
  std::map<std::pair<bool, std::int32_t>, salt> agreed;
  bool reachable = true;
  int asked = 0;
  visitor_counter::agree_fn fn() {
    return [this](bool is_day, std::int32_t p, const salt& candidate) -> std::optional<salt> {
      ++asked;
      if (!reachable) return std::nullopt;
      return agreed.try_emplace({is_day, p}, candidate).first->second;
    };
  }
};

TEST(Visitors, TwoNodesAgreeingTheirSaltsHashAVisitorAlike) {
  salt_registry cluster;
  visitor_counter a(1, 300s, test_salt), b(1, 300s, test_salt);
  a.set_salt_agreement(cluster.fn());
  b.set_salt_agreement(cluster.fn());
  a.restore(dec1, {});
  b.restore(dec1, {});  // makes other candidates (test_salt moves on): the first ones win
  const visitor_ids x = a.ids(dec1, "198.51.100.7", "Mozilla/5.0", "soctrang.gov.vn");
  const visitor_ids y = b.ids(dec1, "198.51.100.7", "Mozilla/5.0", "soctrang.gov.vn");
  ASSERT_TRUE(x.valid && y.valid);
  EXPECT_EQ(x.day, y.day);
  EXPECT_EQ(x.month, y.month);
  // Without agreement, two nodes' salts differ.
  visitor_counter c(1, 300s, test_salt);
  c.restore(dec1, {});
  EXPECT_NE(c.ids(dec1, "198.51.100.7", "Mozilla/5.0", "soctrang.gov.vn").day, x.day);
}

TEST(Visitors, AnUnreachableClusterMeansNoVisitorIdsUntilASaltIsAgreed) {
  salt_registry cluster;
  cluster.reachable = false;
  visitor_counter v(1, 300s, test_salt);
  v.set_salt_agreement(cluster.fn(), 10);
  fake_store db;
  db.apply(v.restore(dec1, {}));
  EXPECT_FALSE(v.ids(dec1, "198.51.100.7", "ua", "bcp").valid);  // views count, visitors wait
  // Asked again at most every retry interval, then installed at the next flush.
  const int asked = cluster.asked;
  auto flush_at = [&](std::int64_t now) {
    key_writes w;
    v.collect(dec1, w, now, false);
    db.apply(w);
    v.written(true);
  };
  flush_at(5);
  EXPECT_EQ(cluster.asked, asked + 1);  // the first try of this run is not paced
  flush_at(6);
  EXPECT_EQ(cluster.asked, asked + 1);  // 1 s later: not asked again
  // Another node got there first: its salt is the one used and stored.
  cluster.reachable = true;
  cluster.agreed[{true, dec1}] = salt{0x1234, 0x5678};
  flush_at(20);
  EXPECT_TRUE(v.ids(dec1, "198.51.100.7", "ua", "bcp").valid);
  EXPECT_EQ(db.kv.at(keys::day_salt(day_key(dec1))), encode_salt(salt{0x1234, 0x5678}));
}

}  // namespace
}  // namespace pvc
