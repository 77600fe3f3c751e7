// pvctl backup, backup --verify and restore against real pvcd processes: a
// backup taken while views keep arriving restores to exactly the counts it
// reported; restore refuses a data dir in use or holding data, and keeps
// the journal of the data dir it replaces.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "admin_fixture.hpp"

namespace pvc::test {
namespace {

class admin_backup_test : public admin_test {
 protected:
  // The value of "key":N in JSON text (first occurrence after `from`).
  static std::uint64_t json_number(const std::string& text, const std::string& key,
                                   std::size_t from = 0) {
    const std::string marker = "\"" + key + "\":";
    const auto at = text.find(marker, from);
    if (at == std::string::npos) return UINT64_MAX;
    return std::stoull(text.substr(at + marker.size()));
  }
};

// Sends UDP views to one site until stopped (bounded: at most 4 s).
class udp_load {
 public:
  explicit udp_load(std::uint16_t port)
      : thread_([this, port] {
          udp_sender udp(port);
          const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(4);
          for (unsigned i = 0; !stop_ && std::chrono::steady_clock::now() < until; ++i) {
            std::string datagram;
            for (unsigned k = 0; k < 20; ++k)
              datagram += "load /article/" + std::to_string((i * 20 + k) % 50) + " 1\n";
            udp.send(datagram);
            std::this_thread::sleep_for(std::chrono::microseconds(200));
          }
        }) {}
  ~udp_load() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(admin_backup_test, ABackupTakenUnderLoadRestoresToTheCountsAtBackupTime) {
  daemon_process d;
  ASSERT_TRUE(d.start(options("20ms"))) << d.error();
  ok(pvctl(d, {"adjust", "news", "/kept", "12", "--reason", "before the backup"}));
  udp_load load(d.ports().udp);
  ASSERT_TRUE(wait_until([&] { return fetch_views(d.ports().http, "load").total > 2000; }));

  const std::string backups = (dir_.path() / "backups").string();
  const std::string result = ok(pvctl(d, {"backup", backups, "--json"}));
  const std::uint64_t at_backup = json_number(result, "load", result.find("\"sites\""));
  const std::uint64_t counters = json_number(result, "counters");
  const std::uint64_t article_views = json_number(result, "article_views");
  ASSERT_NE(at_backup, UINT64_MAX) << result;
  EXPECT_EQ(json_number(result, "backup_id"), 1u);
  // Counting went on during and after the backup.
  ASSERT_TRUE(wait_until([&] {
    return fetch_views(d.ports().http, "load").total > at_backup + 500;
  })) << "at backup "
      << at_backup;
  load.stop();
  ok(pvctl(d, {"adjust", "news", "/kept", "1", "--reason", "after the backup"}));
  const std::string verify = ok(pvctl(d, {"backup", "--verify", backups}));
  EXPECT_NE(verify.find("backup 1  "), std::string::npos) << verify;
  EXPECT_NE(verify.find("  ok"), std::string::npos) << verify;
  ASSERT_TRUE(d.stop().ok());

  const auto restored = dir_.path() / "restored";
  const std::string out =
      ok(pvctl(d, {"restore", backups, "--data-dir", restored.string(), "--reason", "drill"}));
  EXPECT_EQ(out.rfind("restored backup 1 (taken ", 0), 0u) << out;
  daemon_options o = options();
  o.data_dir = restored;
  daemon_process r;
  ASSERT_TRUE(r.start(o)) << r.error();
  // Exactly the counts the backup reported, not the later ones.
  EXPECT_EQ(ok(pvctl(r, {"total", "--site", "load"})), std::to_string(at_backup) + "\n");
  EXPECT_EQ(ok(pvctl(r, {"get", "--site", "news", "/kept"})).substr(0, 9), "/kept\t12\t");
  // ... and consistent with each other: whole flushes only.
  const std::string csv = ok(pvctl(r, {"export", "--daily"}));
  const auto lines = split_lines(csv);
  EXPECT_EQ(lines.size(), counters + 1);  // + the header
  std::uint64_t article_sum = 0, load_articles = 0;
  for (const auto& line : lines) {
    const auto c1 = line.find(','), c2 = line.find(',', c1 + 1);
    if (c2 == std::string::npos || line.find(',', c2 + 1) != std::string::npos) continue;  // daily
    if (line.substr(c1 + 1, c2 - c1 - 1) == "*" || line == "site,article,total,period") continue;
    const std::uint64_t n = std::stoull(line.substr(c2 + 1));
    article_sum += n;
    if (line.rfind("load,", 0) == 0) load_articles += n;
  }
  EXPECT_EQ(article_sum, article_views);
  EXPECT_EQ(load_articles, at_backup);
  // The journal: the change before the backup, and the restore itself.
  const std::string audit = ok(pvctl(r, {"audit"}));
  EXPECT_NE(audit.find("reason=\"before the backup\""), std::string::npos) << audit;
  EXPECT_EQ(audit.find("reason=\"after the backup\""), std::string::npos) << audit;
  EXPECT_NE(audit.find("restore by="), std::string::npos) << audit;
  EXPECT_NE(audit.find("peer=local auth=local reason=\"drill\""), std::string::npos) << audit;
  EXPECT_TRUE(r.stop().ok());
}

TEST_F(admin_backup_test, RestoreRefusesADataDirInUseOrHoldingData) {
  daemon_process d;
  ASSERT_TRUE(d.start(options())) << d.error();
  ok(pvctl(d, {"hit", "--site", "news", "/a", "--count", "3"}));
  ASSERT_TRUE(total_becomes(d, "news", 3));
  const std::string backups = (dir_.path() / "backups").string();
  ok(pvctl(d, {"backup", backups}));
  ok(pvctl(d, {"adjust", "news", "/a", "4", "--reason", "after the backup"}));

  // In use: refused, --force or not.
  for (const bool force : {false, true}) {
    std::vector<std::string> args = {"restore", backups, "--data-dir", data_dir().string()};
    if (force) args.push_back("--force");
    const command_result r = pvctl(d, args);
    EXPECT_EQ(r.status.code, 6) << r.status.describe();
    EXPECT_EQ(r.err, "pvctl: the data dir " + data_dir().string() +
                         " is in use by a running pvcd (pid " + std::to_string(d.pid()) +
                         "); stop it before restoring\n");
  }
  ASSERT_TRUE(d.stop().ok());
  // Holding data: refused without --force.
  const command_result refused = pvctl(d, {"restore", backups, "--data-dir", data_dir().string()});
  EXPECT_EQ(refused.status.code, 6);
  EXPECT_NE(refused.err.find("already holds data; pass --force"), std::string::npos) << refused.err;
  const std::string out =
      ok(pvctl(d, {"restore", backups, "--data-dir", data_dir().string(), "--force"}));
  EXPECT_NE(out.find("the data it replaced is kept in " + data_dir().string() + ".replaced-"),
            std::string::npos)
      << out;
  std::size_t replaced = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    if (e.path().filename().string().rfind("data.replaced-", 0) == 0) ++replaced;
  }
  EXPECT_EQ(replaced, 1u);

  ASSERT_TRUE(d.start(options())) << d.error();
  EXPECT_EQ(ok(pvctl(d, {"total", "--site", "news"})), "3\n");  // as backed up
  // The replaced data dir's journal was carried over: nothing is forgotten.
  const auto audit = split_lines(ok(pvctl(d, {"audit"})));
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_NE(audit[0].find("reason=\"after the backup\""), std::string::npos) << audit[0];
  EXPECT_NE(audit[1].find("\"journal_records_carried\":1"), std::string::npos) << audit[1];
  EXPECT_TRUE(d.stop().ok());

  // A damaged backup fails verification, and restore will not use it.
  for (const auto& f : std::filesystem::recursive_directory_iterator(backups)) {
    if (f.path().extension() == ".sst") {
      std::fstream file(f.path(), std::ios::in | std::ios::out | std::ios::binary);
      file.seekp(16);
      file.write("damaged!", 8);
    }
  }
  const command_result verify = pvctl(d, {"backup", "--verify", backups});
  EXPECT_EQ(verify.status.code, 6) << verify.out;
  EXPECT_NE(verify.out.find("DAMAGED"), std::string::npos) << verify.out;
  const command_result bad =
      pvctl(d, {"restore", backups, "--data-dir", (dir_.path() / "x").string()});
  EXPECT_EQ(bad.status.code, 6);
  EXPECT_NE(bad.err.find("failed verification"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "x"));
  const command_result none = pvctl(d, {"backup", "--verify", (dir_.path() / "nothing").string()});
  EXPECT_EQ(none.status.code, 6);
}

}  // namespace
}  // namespace pvc::test
