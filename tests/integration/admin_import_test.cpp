// pvctl import and export against real pvcd processes: a portal carries its
// old counter over; an export imported into a fresh pvcd exports the same
// bytes; a bad line anywhere in the file changes nothing; a file much larger
// than the admin listener's 1 MiB body limit goes through in chunks.
#include <string>
#include <vector>

#include "admin_fixture.hpp"

namespace pvc::test {
namespace {

class admin_import_test : public admin_test {};

TEST_F(admin_import_test, APortalCarriesItsOldCounterOver) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  ok(pvctl(d, {"hit", "--site", "baochinhphu", "/2026/11/ngan-sach", "--count", "4"}));
  ASSERT_TRUE(total_becomes(d, "baochinhphu", 4));

  // The old system's total already includes its articles: the site total
  // comes from the * row only, never from adding the article rows.
  const auto file = write_file("old.csv",
                               "site,article,total\n"
                               "baochinhphu,*,86037575\n"
                               "baochinhphu,/2026/11/ngan-sach,1520\n"
                               "baochinhphu,\"/tin,cu\",77\r\n"
                               "\n");
  const std::string out = ok(pvctl(
      d, {"import", file.string(), "--mode", "set", "--reason", "carried over from the old CMS"}));
  EXPECT_EQ(out,
            "imported 3 rows (mode set): 1 site totals, 2 article totals, 0 day counts, 0 month "
            "counts\n");
  EXPECT_EQ(ok(pvctl(d, {"total", "--site", "baochinhphu"})), "86037575\n");
  const views_reply v =
      fetch_views(d.ports().http, "baochinhphu", {"/2026/11/ngan-sach", "/tin,cu"});
  ASSERT_EQ(v.error, "");
  EXPECT_EQ(v.total, 86037575u);
  EXPECT_EQ(v.articles.at("/2026/11/ngan-sach").total, 1520u);  // set, not added
  EXPECT_EQ(v.articles.at("/tin,cu").total, 77u);
  EXPECT_EQ(v.today, 4u);  // history is untouched

  // New views count on top.
  ok(pvctl(d, {"hit", "--site", "baochinhphu", "/2026/11/ngan-sach"}));
  ASSERT_TRUE(total_becomes(d, "baochinhphu", 86037576));
  // add mode adds.
  const auto more = write_file("more.csv", "baochinhphu,\"/tin,cu\",3\n");
  ok(pvctl(d, {"import", more.string()}));
  EXPECT_EQ(fetch_views(d.ports().http, "baochinhphu", {"/tin,cu"}).articles.at("/tin,cu").total,
            80u);
  EXPECT_EQ(fetch_views(d.ports().http, "baochinhphu").total, 86037576u);

  const std::string audit = ok(pvctl(d, {"audit"}));
  EXPECT_NE(audit.find("import  by="), std::string::npos) << audit;
  EXPECT_NE(audit.find("reason=\"carried over from the old CMS\""), std::string::npos) << audit;
  EXPECT_NE(audit.find("\"mode\":\"set\",\"rows\":3"), std::string::npos) << audit;
  EXPECT_TRUE(d.stop().ok());
}

TEST_F(admin_import_test, ExportImportedIntoAFreshPvcdExportsTheSameBytes) {
  daemon_process a;
  ASSERT_TRUE(a.start(options())) << a.error();
  // Counts of every kind: hits (today), imported history, awkward ids.
  ok(pvctl(a, {"hit", "--site", "news", "/a", "--count", "3"}));
  ok(pvctl(a, {"hit", "--site", "news", "*", "--count", "2"}));
  ok(pvctl(a, {"hit", "--site", "blog", "p\"q,r", "--count", "5"}));
  ASSERT_TRUE(total_becomes(a, "news", 5));
  ASSERT_TRUE(total_becomes(a, "blog", 5));
  const auto history = write_file("history.csv",
                                  "news,*,1000,20251231\n"
                                  "news,/a,400,20251231\n"
                                  "news,*,1000,202512\n"
                                  "old,*,9\n");
  ok(pvctl(a, {"import", history.string(), "--mode", "set"}));

  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--daily"},
        std::vector<std::string>{"--daily", "--format", "json"}, std::vector<std::string>{},
        std::vector<std::string>{"--site", "news", "--daily"}}) {
    std::string name = "export";
    for (const auto& f : flags)
      name += f;
    SCOPED_TRACE(name);
    std::vector<std::string> args = {"export"};
    args.insert(args.end(), flags.begin(), flags.end());
    const std::string first = ok(pvctl(a, args));
    ASSERT_FALSE(first.empty());
    const bool json = first.front() == '{';
    const auto file = write_file(name + (json ? ".jsonl" : ".csv"), first);

    temp_dir fresh_dir;
    daemon_options o = options();
    o.data_dir = fresh_dir.path() / "data";
    daemon_process b;
    ASSERT_TRUE(b.start(o)) << b.error();
    ok(pvctl(b, {"import", file.string(), "--mode", "set"}));
    EXPECT_EQ(ok(pvctl(b, args)), first);
    // And importing it again changes nothing (set is idempotent).
    ok(pvctl(b, {"import", file.string(), "--mode", "set"}));
    EXPECT_EQ(ok(pvctl(b, args)), first);
    EXPECT_TRUE(b.stop().ok());
  }
  const std::string csv = ok(pvctl(a, {"export", "--daily"}));
  EXPECT_NE(csv.find("site,article,total,period\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("news,\"*\",2\n"), std::string::npos) << csv;  // an article named *
  EXPECT_NE(csv.find("news,*,5\n"), std::string::npos) << csv;      // the site
  EXPECT_NE(csv.find("blog,\"p\"\"q,r\",5\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("news,*,1000,202512\n"), std::string::npos) << csv;
  EXPECT_TRUE(a.stop().ok());
}

TEST_F(admin_import_test, ABadLineAnywhereChangesNothing) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  ok(pvctl(d, {"hit", "--site", "news", "/a", "--count", "7"}));
  ASSERT_TRUE(total_becomes(d, "news", 7));
  const std::string before = ok(pvctl(d, {"export", "--daily"}));
  const std::string audit_before = ok(pvctl(d, {"audit"}));

  // Good rows first, then one bad line far into the file (past the first
  // chunk pvctl sends), then more good rows.
  std::string text = "news,*,999999\n";
  for (int i = 0; i < 20000; ++i)
    text += "news,/bulk/" + std::to_string(i) + ",1\n";  // line i+2
  text += "news,/bad,12x\n";                             // line 20002
  text += "news,/late,1\n";
  const auto file = write_file("bad.csv", text);
  const command_result r = pvctl(d, {"import", file.string(), "--mode", "set"});
  EXPECT_EQ(r.status.code, 4) << r.status.describe() << " " << r.err;
  EXPECT_EQ(r.err,
            "pvctl: server answered 400: import refused, nothing was changed: line 20002: total is "
            "not a whole number\n");
  // A duplicate counter is as bad as a malformed line.
  const auto dup = write_file("dup.csv", "news,/x,1\nnews,/y,1\nnews,/x,2\n");
  const command_result r2 = pvctl(d, {"import", dup.string()});
  EXPECT_EQ(r2.status.code, 4);
  EXPECT_EQ(r2.err,
            "pvctl: server answered 400: import refused, nothing was changed: line 3: a second row "
            "for the counter of line 1\n");
  // A JSON line that is not an object is named too.
  const auto json = write_file("bad.jsonl", "{\"site\":\"news\",\"total\":5}\n[1,2]\n");
  const command_result r3 = pvctl(d, {"import", json.string()});
  EXPECT_EQ(r3.status.code, 4);
  EXPECT_EQ(r3.err, "pvctl: import refused, nothing was changed: line 2: not a JSON object\n");

  EXPECT_EQ(ok(pvctl(d, {"export", "--daily"})), before);
  EXPECT_EQ(ok(pvctl(d, {"audit"})), audit_before);
  // And a good import still works afterwards (nothing was left half-open).
  const auto good = write_file("good.csv", "news,/b,1\n");
  ok(pvctl(d, {"import", good.string()}));
  EXPECT_TRUE(d.stop().ok());
}

TEST_F(admin_import_test, AFileManyTimesTheBodyLimitImportsInChunks) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  // ~3 MiB: three times the admin listener's body limit.
  std::string text;
  std::uint64_t sum = 0;
  int rows = 0;
  for (int i = 0; text.size() < 3u << 20; ++i, ++rows) {
    const std::uint64_t n = static_cast<std::uint64_t>(i % 97 + 1);
    text +=
        "big,/" + std::string(60, 'p') + "/" + std::to_string(i) + "," + std::to_string(n) + "\n";
    sum += n;
  }
  text += "big,*," + std::to_string(sum) + "\n";
  const auto file = write_file("big.csv", text);
  const std::string out =
      ok(pvctl(d, {"import", file.string(), "--mode", "set"}, {}, std::chrono::seconds(60)));
  EXPECT_EQ(out, "imported " + std::to_string(rows + 1) + " rows (mode set): 1 site totals, " +
                     std::to_string(rows) + " article totals, 0 day counts, 0 month counts\n");
  EXPECT_EQ(ok(pvctl(d, {"total", "--site", "big"})), std::to_string(sum) + "\n");
  const std::string exported = ok(pvctl(d, {"export", "--site", "big"}));
  EXPECT_EQ(std::count(exported.begin(), exported.end(), '\n'), rows + 2);  // + header
  const std::string top = ok(pvctl(d, {"top", "--site", "big", "--period", "all", "-n", "1"}));
  EXPECT_EQ(top.substr(0, 5), "1\t97\t");
  EXPECT_TRUE(d.stop().ok());
}

}  // namespace
}  // namespace pvc::test
