// Titles in a real RocksDB store: the admin change with its audit record,
// the flusher's writes, reads, the start-up scan, export and import.
#include "store/store_titles.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/store_keys.hpp"
#include "store/store.hpp"
#include "store/store_audit.hpp"
#include "store/store_exports.hpp"
#include "store/store_imports.hpp"
#include "test_support.hpp"

namespace pvc {
namespace {

const std::string site = "soctrang.gov.vn";
const std::string intro = "Giới thiệu chung về tỉnh Sóc Trăng";
constexpr std::int64_t t0 = 1'800'000'000;

audit_entry editor() {
  return {"title", {"bientap@soctrang", "127.0.0.1", "token"}, "sửa tiêu đề", {}};
}

class StoreTitlesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    db_ = store::open(dir_.str() + "/data", {.sync = false}, error);
    ASSERT_NE(db_, nullptr) << error;
  }

  std::vector<std::string> titles(std::vector<std::string_view> articles) {
    std::vector<std::string> out;
    EXPECT_EQ(read_titles(*db_, site, articles, out), "");
    return out;
  }

  std::vector<std::string> audit_records() {
    std::vector<std::string> records;
    std::string next;
    EXPECT_EQ(read_audit(*db_, 0, "", 100, records, next), "");
    return records;
  }

  test::temp_dir dir_;
  std::unique_ptr<store> db_;
};

TEST_F(StoreTitlesTest, AnAdminChangeIsWrittenWithItsAuditRecord) {
  ASSERT_TRUE(set_title(*db_, site, "/gioi-thieu", intro, t0, editor()).ok());
  EXPECT_EQ(titles({"/gioi-thieu", "/khac"}), (std::vector<std::string>{intro, ""}));
  const admin_outcome changed = set_title(*db_, site, "/gioi-thieu", "Giới thiệu", t0, editor());
  ASSERT_TRUE(changed.ok());
  EXPECT_NE(changed.details.find("\"before\":\"" + intro + "\",\"after\":\"Giới thiệu\""),
            std::string::npos)
      << changed.details;
  ASSERT_TRUE(set_title(*db_, site, "/gioi-thieu", "", t0, editor()).ok());
  EXPECT_EQ(titles({"/gioi-thieu"}), std::vector<std::string>{""});
  EXPECT_EQ(set_title(*db_, site, "/gioi-thieu", "", t0, editor()).status, admin_status::not_found);
  const auto records = audit_records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_NE(records[0].find("\"action\":\"title\""), std::string::npos) << records[0];
  EXPECT_NE(records[0].find("\"by\":\"bientap@soctrang\""), std::string::npos) << records[0];
  EXPECT_NE(records[2].find("\"after\":null"), std::string::npos) << records[2];
}

TEST_F(StoreTitlesTest, TheFlushersWritesAreReadAndScannedAtStartUp) {
  key_writes extra;
  extra.put.emplace_back(keys::article_title(site, "/a"), keys::encode_title(t0, intro));
  extra.put.emplace_back(keys::article_title("baochinhphu.vn", "/b"),
                         keys::encode_title(t0 + 5, "Tin \"nóng\", mới"));
  ASSERT_EQ(db_->write_keys(extra), "");
  EXPECT_EQ(titles({"/a"}), std::vector<std::string>{intro});
  std::vector<std::string> seen;
  ASSERT_EQ(for_each_title(*db_,
                           [&](std::string_view s, std::string_view a, std::string_view t,
                               std::int64_t set_at) {
                             seen.push_back(std::string(s) + "|" + std::string(a) + "|" +
                                            std::string(t) + "|" + std::to_string(set_at));
                           }),
            "");
  EXPECT_EQ(seen, (std::vector<std::string>{"baochinhphu.vn|/b|Tin \"nóng\", mới|1800000005",
                                            "soctrang.gov.vn|/a|" + intro + "|1800000000"}));
  // A title key is not a site: sites() and the key caps' scan ignore it.
  EXPECT_TRUE(db_->sites().empty());
}

TEST_F(StoreTitlesTest, ExportCarriesTitlesAndImportSetsThem) {
  delta_table t;
  t.reset(from_civil({2026, 12, 7}));
  t.add(site, "/gioi-thieu", 7);
  t.add(site, "/khac", 2);
  const delta_table* tables[] = {&t};
  ASSERT_EQ(db_->apply(tables, 1), "");
  ASSERT_TRUE(set_title(*db_, site, "/gioi-thieu", intro, t0, editor()).ok());

  auto snap = snapshot(*db_);
  std::vector<export_row> rows;
  std::string next;
  ASSERT_EQ(export_rows(*db_, *snap, {}, "", 100, rows, next), "");
  std::string csv;
  for (const export_row& r : rows)
    append_import_line(csv, r.view());
  EXPECT_EQ(csv, "soctrang.gov.vn,*,9\nsoctrang.gov.vn,/gioi-thieu,7,," + intro +
                     "\nsoctrang.gov.vn,/khac,2\n");

  // The file, with a changed title, into a fresh store.
  test::temp_dir other_dir;
  std::string error;
  auto other = store::open(other_dir.str() + "/data", {.sync = false}, error);
  ASSERT_NE(other, nullptr) << error;
  const std::string file = "soctrang.gov.vn,/gioi-thieu,7,,\"Giới thiệu, \"\"mới\"\"\"";
  import_scratch scratch;
  const import_line_result line = parse_import_line(file, scratch);
  ASSERT_EQ(line.kind, import_line_kind::row) << line.reason;
  const staged_row staged[] = {{line.row, 1}};
  ASSERT_TRUE(stage_import(*other, "i1", staged).ok());
  std::vector<std::string> noted;
  const admin_outcome r = commit_import(
      *other, "i1", import_mode::add, editor(), {},
      [&](std::string_view, std::string_view a, std::string_view title, std::int64_t) {
        noted.push_back(std::string(a) + "=" + std::string(title));
      });
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_NE(r.details.find("\"titles\":1"), std::string::npos) << r.details;
  EXPECT_EQ(noted, std::vector<std::string>{"/gioi-thieu=Giới thiệu, \"mới\""});
  std::vector<std::string> out;
  const std::string_view ids[] = {"/gioi-thieu"};
  ASSERT_EQ(read_titles(*other, site, ids, out), "");
  EXPECT_EQ(out, std::vector<std::string>{"Giới thiệu, \"mới\""});
}

}  // namespace
}  // namespace pvc
