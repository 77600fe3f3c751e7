// The store's admin operations on a real RocksDB in a temp dir: corrections
// keep every count consistent and never lose a concurrent flush, imports
// apply all or nothing, exports page over one snapshot, backups restore.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "read/top_lists.hpp"
#include "store/store.hpp"
#include "store/store_audit.hpp"
#include "store/store_backups.hpp"
#include "store/store_corrections.hpp"
#include "store/store_exports.hpp"
#include "store/store_imports.hpp"
#include "test_support.hpp"

namespace pvc {
namespace {

const day_number nov4 = from_civil({2026, 11, 4});
const day_number nov5 = from_civil({2026, 11, 5});
const day_number nov6 = from_civil({2026, 11, 6});

struct view_row {
  std::string site, article;
  std::uint64_t n;
};

audit_entry who(std::string action, std::string reason = "test") {
  return {std::move(action), {"tester@host", "127.0.0.1", "loopback"}, std::move(reason), {}};
}

class StoreAdminTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    db_.reset();
    std::string error;
    db_ = store::open(dir_.str() + "/data", {.sync = false}, error);
    ASSERT_NE(db_, nullptr) << error;
  }

  void flush(day_number day, std::initializer_list<view_row> rows) {
    delta_table t;
    t.reset(day);
    for (const auto& r : rows)
      t.add(r.site, r.article, r.n);
    const delta_table* tables[] = {&t};
    ASSERT_EQ(db_->apply(tables, ++seq_), "");
  }

  // Every counter as "KIND PERIOD SITE ARTICLE" -> count.
  std::map<std::string, std::uint64_t> all(store& s, const std::string& site = "") {
    std::map<std::string, std::uint64_t> out;
    auto snap = snapshot(s);
    std::vector<export_row> rows;
    std::string next;
    EXPECT_EQ(export_rows(s, *snap, {site, true}, "", 100000, rows, next), "");
    EXPECT_EQ(next, "");
    for (const auto& r : rows) {
      const std::string key = r.site + " " + (r.article.empty() ? "*" : r.article) +
                              (r.period_key.empty() ? "" : " " + r.period_key);
      EXPECT_EQ(out.count(key), 0u) << key;
      out[key] = r.count;
    }
    return out;
  }
  std::map<std::string, std::uint64_t> all() { return all(*db_); }

  std::vector<std::string> audit() {
    std::vector<std::string> records;
    std::string next;
    EXPECT_EQ(read_audit(*db_, 0, "", 1000, records, next), "");
    return records;
  }

  test::temp_dir dir_;
  std::unique_ptr<store> db_;
  std::uint64_t seq_ = 0;
};

TEST_F(StoreAdminTest, AdjustChangesArticleAndSiteTotalsAndJournalsIt) {
  flush(nov5, {{"news", "a", 10}, {"news", "b", 5}});
  const admin_outcome up = adjust(*db_, "news", "a", 7, std::nullopt, who("adjust", "replay"));
  ASSERT_TRUE(up.ok()) << up.message;
  const admin_outcome down = adjust(*db_, "news", "b", -5, std::nullopt, who("adjust", "bots"));
  ASSERT_TRUE(down.ok()) << down.message;
  auto c = all();
  EXPECT_EQ(c["news a"], 17u);
  EXPECT_EQ(c["news b"], 0u);
  EXPECT_EQ(c["news *"], 17u);  // 15 + 7 - 5
  // History is untouched without a day.
  EXPECT_EQ(c["news a 20261105"], 10u);
  EXPECT_EQ(c["news * 20261105"], 15u);
  EXPECT_EQ(c["news * 202611"], 15u);
  EXPECT_EQ(down.details,
            "{\"site\":\"news\",\"article\":\"b\",\"delta\":-5,\"article_total\":{\"before\":5,"
            "\"after\":0},\"site_total\":{\"before\":22,\"after\":17}}");
  const auto records = audit();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_NE(records[1].find("\"action\":\"adjust\""), std::string::npos);
  EXPECT_NE(records[1].find("\"by\":\"tester@host\""), std::string::npos);
  EXPECT_NE(records[1].find("\"reason\":\"bots\""), std::string::npos);
  EXPECT_NE(records[1].find("\"details\":" + down.details), std::string::npos);
}

TEST_F(StoreAdminTest, AdjustWithADayAlsoCorrectsThatDayAndMonth) {
  flush(nov5, {{"news", "a", 10}});
  ASSERT_TRUE(adjust(*db_, "news", "a", -4, nov5, who("adjust")).ok());
  auto c = all();
  EXPECT_EQ(c["news a"], 6u);
  EXPECT_EQ(c["news *"], 6u);
  EXPECT_EQ(c["news a 20261105"], 6u);
  EXPECT_EQ(c["news * 20261105"], 6u);
  EXPECT_EQ(c["news * 202611"], 6u);
}

TEST_F(StoreAdminTest, AdjustRefusesToGoBelowZeroAndChangesNothing) {
  flush(nov5, {{"news", "a", 10}, {"news", "b", 90}});
  const auto before = all();
  struct row {
    std::string article;
    std::int64_t delta;
    std::optional<day_number> day;
    std::string message;
  };
  const row table[] = {
      {"a", -11, std::nullopt,
       "refused: article_total is 10; subtracting 11 would make it negative"},
      {"new", -1, std::nullopt,
       "refused: article_total is 0; subtracting 1 would make it negative"},
      {"a", -10, nov4, "refused: article_day is 0; subtracting 10 would make it negative"},
      {"a", 0, std::nullopt, "delta must not be 0"},
      {"a", INT64_MIN, std::nullopt, "delta must be within -9007199254740991..9007199254740991"},
  };
  for (const auto& r : table) {
    SCOPED_TRACE(r.message);
    const admin_outcome o = adjust(*db_, "news", r.article, r.delta, r.day, who("adjust"));
    EXPECT_EQ(o.status, admin_status::bad_request);
    EXPECT_EQ(o.message, r.message);
  }
  EXPECT_EQ(all(), before);
  EXPECT_TRUE(audit().empty());
}

TEST_F(StoreAdminTest, RenameMovesTotalAndEveryDayAndKeepsSiteTotals) {
  flush(nov4, {{"news", "old", 3}, {"news", "other", 1}});
  flush(nov5, {{"news", "old", 4}});
  flush(nov6, {{"news", "other", 2}});
  const auto before = all();
  const admin_outcome r = rename_article(*db_, "news", "old", "new", who("rename"));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.details,
            "{\"site\":\"news\",\"from\":\"old\",\"to\":\"new\",\"views_moved\":7,\"days_moved\":2,"
            "\"to_total\":{\"before\":0,\"after\":7}}");
  auto c = all();
  EXPECT_EQ(c.count("news old"), 0u);
  EXPECT_EQ(c.count("news old 20261104"), 0u);
  EXPECT_EQ(c.count("news old 20261105"), 0u);
  EXPECT_EQ(c["news new"], 7u);
  EXPECT_EQ(c["news new 20261104"], 3u);
  EXPECT_EQ(c["news new 20261105"], 4u);
  for (const char* k : {"news *", "news * 20261104", "news * 20261105", "news * 20261106",
                        "news * 202611", "news other", "news other 20261106"}) {
    EXPECT_EQ(c[k], before.at(k)) << k;
  }
  // Hits flushed after the rename land on top of the moved counts.
  flush(nov6, {{"news", "new", 5}});
  EXPECT_EQ(all()["news new"], 12u);
}

TEST_F(StoreAdminTest, RenameRefusesAMissingSourceOrAnExistingTarget) {
  flush(nov5, {{"news", "a", 3}, {"news", "b", 1}});
  const auto before = all();
  EXPECT_EQ(rename_article(*db_, "news", "a", "b", who("rename")).status, admin_status::conflict);
  EXPECT_EQ(rename_article(*db_, "news", "zz", "c", who("rename")).status, admin_status::not_found);
  EXPECT_EQ(rename_article(*db_, "other", "a", "c", who("rename")).status, admin_status::not_found);
  EXPECT_EQ(rename_article(*db_, "news", "a", "a", who("rename")).status,
            admin_status::bad_request);
  EXPECT_EQ(merge_articles(*db_, "news", "zz", "a", who("merge")).status, admin_status::not_found);
  EXPECT_EQ(all(), before);
  EXPECT_TRUE(audit().empty());
}

TEST_F(StoreAdminTest, MergeAddsEveryCountIntoTheTarget) {
  flush(nov4, {{"news", "from", 3}, {"news", "into", 10}});
  flush(nov5, {{"news", "from", 4}});
  flush(nov6, {{"news", "into", 1}});
  const admin_outcome r = merge_articles(*db_, "news", "from", "into", who("merge"));
  ASSERT_TRUE(r.ok()) << r.message;
  auto c = all();
  EXPECT_EQ(c.count("news from"), 0u);
  EXPECT_EQ(c["news into"], 18u);
  EXPECT_EQ(c["news into 20261104"], 13u);
  EXPECT_EQ(c["news into 20261105"], 4u);
  EXPECT_EQ(c["news into 20261106"], 1u);
  EXPECT_EQ(c["news *"], 18u);
  EXPECT_EQ(audit().size(), 1u);
}

// The reason for the write mutex: a flush between an admin read and its
// write would be lost. Flushes and corrections run at once here; every
// delta must be in the final count.
TEST_F(StoreAdminTest, CorrectionsNeverLoseAConcurrentFlush) {
  flush(nov5, {{"news", "a", 1'000'000}});
  constexpr int flushes = 400;
  std::atomic<bool> done{false};
  std::thread flusher([&] {
    for (int i = 0; i < flushes; ++i) {
      delta_table t;
      t.reset(nov5);
      t.add("news", "a", 1);
      const delta_table* tables[] = {&t};
      EXPECT_EQ(db_->apply(tables, 1000 + static_cast<std::uint64_t>(i)), "");
    }
    done = true;
  });
  int net = 0, rounds = 0;
  while (!done || rounds < 50) {
    const std::int64_t delta = rounds % 2 ? 3 : -2;
    const bool ok = adjust(*db_, "news", "a", delta, nov5, who("adjust")).ok();
    EXPECT_TRUE(ok);
    if (!ok) break;
    net += static_cast<int>(delta);
    ++rounds;
  }
  flusher.join();
  auto c = all();
  const std::uint64_t want = 1'000'000 + flushes + static_cast<std::uint64_t>(net);
  EXPECT_EQ(c["news a"], want);
  EXPECT_EQ(c["news *"], want);
  EXPECT_EQ(c["news a 20261105"], want);
  EXPECT_EQ(c["news * 202611"], want);
}

// Rows point into `lines`, which must outlive them.
std::vector<staged_row> rows_of(std::initializer_list<std::string_view> lines, std::uint64_t first,
                                std::vector<import_scratch>& scratch) {
  std::vector<staged_row> out;
  scratch.resize(lines.size());
  std::uint64_t n = first;
  std::size_t i = 0;
  for (std::string_view l : lines) {
    const import_line_result r = parse_import_line(l, scratch[i++]);
    EXPECT_EQ(r.kind, import_line_kind::row) << l << ": " << r.reason;
    out.push_back({r.row, n++});
  }
  return out;
}

TEST_F(StoreAdminTest, ImportSetReplacesOnlyTheNamedCountersAtOnce) {
  flush(nov5, {{"portal", "/a", 10}, {"portal", "/b", 5}});
  // Lines must outlive their views.
  static const std::string lines[] = {"portal,*,86037575", "portal,/a,1520",
                                      "portal,/new,3,20261104", "portal,*,99,202610"};
  std::vector<import_scratch> scratch;
  auto rows = rows_of({lines[0], lines[1]}, 1, scratch);
  ASSERT_TRUE(stage_import(*db_, "s1", rows).ok());
  std::vector<import_scratch> scratch2;
  auto rows2 = rows_of({lines[2], lines[3]}, 3, scratch2);
  ASSERT_TRUE(stage_import(*db_, "s1", rows2).ok());
  // Nothing is visible before the commit.
  EXPECT_EQ(all()["portal *"], 15u);
  std::vector<std::string> seen;
  const admin_outcome r = commit_import(*db_, "s1", import_mode::set, who("import"),
                                        [&](std::string_view s, std::string_view a) {
                                          seen.push_back(std::string(s) + "/" + std::string(a));
                                        });
  ASSERT_TRUE(r.ok()) << r.message;
  auto c = all();
  EXPECT_EQ(c["portal *"], 86037575u);  // only through its * row
  EXPECT_EQ(c["portal /a"], 1520u);
  EXPECT_EQ(c["portal /b"], 5u);  // not in the file: unchanged
  EXPECT_EQ(c["portal /new 20261104"], 3u);
  EXPECT_EQ(c["portal * 202610"], 99u);
  EXPECT_EQ(c.count("portal /new"), 0u);
  EXPECT_EQ(seen, (std::vector<std::string>{"portal/", "portal//a"}));
  const auto records = audit();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_NE(records[0].find("\"mode\":\"set\",\"rows\":4,\"site_rows\":1,\"article_rows\":1,"
                            "\"day_rows\":1,\"month_rows\":1,\"sites\":[\"portal\"]"),
            std::string::npos)
      << records[0];
  // Flushes add on top of what was set.
  flush(nov6, {{"portal", "/a", 1}});
  EXPECT_EQ(all()["portal /a"], 1521u);
  EXPECT_EQ(all()["portal *"], 86037576u);
  EXPECT_EQ(db_->sites(), std::vector<std::string>{"portal"});
}

TEST_F(StoreAdminTest, ImportAddAddsToWhatIsThere) {
  flush(nov5, {{"news", "a", 10}});
  static const std::string lines[] = {"news,a,5", "news,*,100", "fresh,x,1"};
  std::vector<import_scratch> scratch;
  auto rows = rows_of({lines[0], lines[1], lines[2]}, 1, scratch);
  ASSERT_TRUE(stage_import(*db_, "s2", rows).ok());
  ASSERT_TRUE(commit_import(*db_, "s2", import_mode::add, who("import"), {}).ok());
  auto c = all();
  EXPECT_EQ(c["news a"], 15u);
  EXPECT_EQ(c["news *"], 110u);
  EXPECT_EQ(c["fresh x"], 1u);
  EXPECT_EQ(c.count("fresh *"), 0u);  // no * row: the site total is not invented
  auto sites = db_->sites();
  std::sort(sites.begin(), sites.end());
  EXPECT_EQ(sites, (std::vector<std::string>{"fresh", "news"}));
}

TEST_F(StoreAdminTest, ImportNamesADuplicateWithinAndAcrossChunks) {
  static const std::string lines[] = {"news,a,1", "news,b,2", "news,a,3", "news,b,4,20261105",
                                      "news,b,5"};
  std::vector<import_scratch> s1;
  auto within = rows_of({lines[0], lines[1], lines[2]}, 1, s1);
  const admin_outcome r1 = stage_import(*db_, "d1", within);
  EXPECT_EQ(r1.status, admin_status::bad_request);
  EXPECT_EQ(r1.message, "line 3: a second row for the counter of line 1");
  ASSERT_EQ(discard_import(*db_, "d1"), "");

  std::vector<import_scratch> s2, s3;
  auto first = rows_of({lines[0], lines[1]}, 1, s2);
  ASSERT_TRUE(stage_import(*db_, "d2", first).ok());
  auto second = rows_of({lines[3], lines[4]}, 3, s3);  // a day row is another counter
  const admin_outcome r2 = stage_import(*db_, "d2", second);
  EXPECT_EQ(r2.message, "line 4: a second row for the counter of line 2");
  ASSERT_EQ(discard_import(*db_, "d2"), "");
  EXPECT_TRUE(all().empty());
  EXPECT_EQ(commit_import(*db_, "d2", import_mode::add, who("import"), {}).status,
            admin_status::bad_request);  // discarded: nothing left to commit
  EXPECT_TRUE(all().empty());
  EXPECT_TRUE(audit().empty());
}

TEST_F(StoreAdminTest, ExportPagesOverOneSnapshotWithAndWithoutFilters) {
  flush(nov4, {{"a", "x", 1}, {"news", "p,q", 2}, {"news2", "y", 3}});
  flush(nov5, {{"news", "\"*\"", 4}, {"a", "x", 5}});
  ASSERT_EQ(db_->write_keys({{{"Kd20261105", "salt"}, {"Vd20261105news", "sketch"}}, {}}), "");

  auto snap = snapshot(*db_);
  flush(nov6, {{"late", "z", 1}});  // after the snapshot: not in this export
  for (const bool daily : {false, true}) {
    for (const std::string site : {"", "news", "a", "missing"}) {
      SCOPED_TRACE((daily ? "daily " : "totals ") + site);
      std::vector<export_row> whole;
      std::string next;
      ASSERT_EQ(export_rows(*db_, *snap, {site, daily}, "", 1000, whole, next), "");
      EXPECT_EQ(next, "");
      std::vector<export_row> paged;
      std::string after;
      for (int pages = 0; pages < 100; ++pages) {
        std::vector<export_row> page;
        ASSERT_EQ(export_rows(*db_, *snap, {site, daily}, after, 2, page, next), "");
        EXPECT_LE(page.size(), 2u);
        paged.insert(paged.end(), page.begin(), page.end());
        if (next.empty()) break;
        after = next;
      }
      ASSERT_EQ(paged.size(), whole.size());
      for (std::size_t i = 0; i < whole.size(); ++i) {
        EXPECT_EQ(paged[i].view().site, whole[i].view().site);
        EXPECT_EQ(paged[i].view().article, whole[i].view().article);
        EXPECT_EQ(paged[i].period_key, whole[i].period_key);
        EXPECT_EQ(paged[i].count, whole[i].count);
      }
      for (const auto& r : whole) {
        EXPECT_NE(r.site, "late");
        if (!site.empty()) {
          EXPECT_EQ(r.site, site);
        }
        if (!daily) {
          EXPECT_EQ(r.period, import_period::all_time);
        }
      }
      const std::size_t want = site == "missing" ? 0
                               : site == "news"  ? (daily ? 2 + 3 + 2 + 1 : 3)
                               : site == "a"     ? (daily ? 2 + 2 + 2 + 1 : 2)
                               : daily           ? 7 + 10 + 3  // T, D, M
                                                 : 7;
      EXPECT_EQ(whole.size(), want);
    }
  }
}

TEST_F(StoreAdminTest, AuditRecordsStayInOrderAndPage) {
  // (append, not "literal" + std::string: GCC 12 warns falsely on that here)
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(
        append_audit(*db_, who("restore", std::string("r").append(std::to_string(i)))).ok());
  }
  std::vector<std::string> all_records;
  std::string after, next;
  for (;;) {
    std::vector<std::string> page;
    ASSERT_EQ(read_audit(*db_, 0, after, 10, page, next), "");
    all_records.insert(all_records.end(), page.begin(), page.end());
    if (next.empty()) break;
    after = next;
  }
  ASSERT_EQ(all_records.size(), 25u);
  for (int i = 0; i < 25; ++i) {
    const std::string reason = std::string("\"reason\":\"r").append(std::to_string(i)).append("\"");
    EXPECT_NE(all_records[i].find(reason), std::string::npos);
  }
  std::vector<std::string> none;
  ASSERT_EQ(read_audit(*db_, INT64_MAX / 2, "", 10, none, next), "");
  EXPECT_TRUE(none.empty());
}

// The one "most viewed" computation (read/top_lists.cpp), over store reads.
TEST_F(StoreAdminTest, TopListsRankByPeriod) {
  flush(nov4, {{"news", "old-hit", 100}, {"news", "b", 1}});
  flush(nov5, {{"news", "b", 5}, {"news", "c", 5}, {"news", "d", 2}});
  flush(nov6, {{"news", "d", 7}, {"other", "zz", 1000}});
  day_number today = nov6;
  const top_lists tops(
      *db_, [&today] { return today; }, std::chrono::seconds(10));
  auto top = [&](std::string_view site, top_period p, std::size_t n, day_number day) {
    today = day;
    return tops.compute(site, p, n);
  };
  auto ids = [](const top_list& t) {
    std::vector<std::string> out;
    for (const auto& a : t.articles)
      out.push_back(a.article + "=" + std::to_string(a.views));
    return out;
  };
  EXPECT_EQ(ids(top("news", top_period::day, 10, nov6)), std::vector<std::string>{"d=7"});
  EXPECT_EQ(ids(top("news", top_period::day, 10, nov5)),
            (std::vector<std::string>{"b=5", "c=5", "d=2"}));  // ties by id
  EXPECT_EQ(ids(top("news", top_period::week, 2, nov6)),
            (std::vector<std::string>{"old-hit=100", "d=9"}));
  EXPECT_EQ(ids(top("news", top_period::all, 3, nov6)),
            (std::vector<std::string>{"old-hit=100", "d=9", "b=6"}));
  const top_list month = top("news", top_period::month, 10, nov6);
  EXPECT_EQ(month.from, from_civil({2026, 11, 1}));
  EXPECT_EQ(month.to, nov6);
  EXPECT_EQ(month.articles.size(), 4u);
  EXPECT_TRUE(top("nobody", top_period::all, 10, nov6).articles.empty());
}

TEST_F(StoreAdminTest, BackupOfACheckpointRestoresTheSameCounts) {
  flush(nov5, {{"news", "a", 10}, {"blog", "b", 3}});
  ASSERT_TRUE(adjust(*db_, "news", "a", 2, std::nullopt, who("adjust")).ok());
  const std::string checkpoint = dir_.str() + "/data/.backup-checkpoint-t";
  ASSERT_EQ(checkpoint_to(*db_, checkpoint), "");
  flush(nov6, {{"news", "a", 1000}});  // after the checkpoint: not in the backup
  std::string error;
  auto copy = store::open(checkpoint, {.sync = false}, error);
  ASSERT_NE(copy, nullptr) << error;
  store_summary sum;
  ASSERT_EQ(summarize(*copy, sum), "");
  EXPECT_EQ(sum.flush_seq, 1u);
  EXPECT_EQ(sum.article_views, 15u);
  EXPECT_EQ(sum.counters, 4u + 4u + 2u);  // T, D (2 sites, 2 articles each) and M (2 sites)
  const auto at_checkpoint = all(*copy);
  std::atomic<bool> cancel{false};
  backup_info info;
  const std::string backups = dir_.str() + "/backups";
  ASSERT_EQ(backup_to(*copy, backups, "{\"x\":1}", cancel, info), "");
  EXPECT_EQ(info.id, 1u);
  EXPECT_EQ(info.metadata, "{\"x\":1}");
  copy.reset();

  std::vector<backup_info> listed;
  ASSERT_EQ(list_backups(backups, 0, true, listed), "");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].verify_error, "");
  const std::string restored_dir = dir_.str() + "/restored";
  ASSERT_EQ(restore_backup(backups, 0, restored_dir), "");
  auto restored = store::open(restored_dir, {.sync = false}, error);
  ASSERT_NE(restored, nullptr) << error;
  EXPECT_EQ(all(*restored), at_checkpoint);
  EXPECT_EQ(all(*restored)["news a"], 12u);
  std::vector<std::string> records;
  std::string next;
  ASSERT_EQ(read_audit(*restored, 0, "", 10, records, next), "");
  EXPECT_EQ(records.size(), 1u);  // the journal travels with the counts

  // A damaged file is found by verification.
  restored.reset();
  for (const auto& f : std::filesystem::recursive_directory_iterator(backups)) {
    if (f.path().extension() == ".sst") {
      std::fstream out(f.path(), std::ios::in | std::ios::out | std::ios::binary);
      out.seekp(10);
      out.write("garbage!", 8);
      break;
    }
  }
  listed.clear();
  ASSERT_EQ(list_backups(backups, 0, true, listed), "");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_NE(listed[0].verify_error, "");
  EXPECT_NE(list_backups(dir_.str() + "/nothing", 0, true, listed), "");
}

TEST_F(StoreAdminTest, RestoreCarriesTheJournalOfTheReplacedStore) {
  ASSERT_TRUE(append_audit(*db_, who("adjust", "before")).ok());
  const std::string checkpoint = dir_.str() + "/cp";
  ASSERT_EQ(checkpoint_to(*db_, checkpoint), "");
  ASSERT_TRUE(append_audit(*db_, who("merge", "after the backup")).ok());
  db_.reset();  // closed, as when pvcd is stopped
  std::string error;
  auto restored = store::open(checkpoint, {.sync = false}, error);
  ASSERT_NE(restored, nullptr) << error;
  std::uint64_t copied = 0;
  ASSERT_EQ(copy_audit_from(*restored, dir_.str() + "/data", copied), "");
  EXPECT_EQ(copied, 1u);
  std::vector<std::string> records;
  std::string next;
  ASSERT_EQ(read_audit(*restored, 0, "", 10, records, next), "");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_NE(records[1].find("after the backup"), std::string::npos);
}

}  // namespace
}  // namespace pvc
