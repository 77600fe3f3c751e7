#include "app/reloader.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "test_support.hpp"

namespace pvc {
namespace {

// A SIGHUP re-reads a file-backed key even when its path did not change
// (an operator edits the bot list in place), but leaves other unchanged keys alone.
TEST(Reloader, FileKeysAreAppliedOnEverySighup) {
  test::temp_dir dir;
  const std::string bots = (dir.path() / "bots.txt").string();
  std::ofstream(bots) << "somebot\n";
  std::string bots_flag = "--bot-list-file=" + bots;
  char prog[] = "pvcd";
  char* argv[] = {prog, bots_flag.data(), nullptr};
  config_outcome first = load_config(2, argv);
  ASSERT_TRUE(first.cfg) << first.message;
  config running = *first.cfg;

  reloader r;
  int file_applied = 0, level_applied = 0;
  r.on_file("bot_list_file", [&](const config& fresh) {
    EXPECT_EQ(fresh.bot_list_file, bots);
    ++file_applied;
    return std::string();
  });
  r.on("log_level", [&](const config&) {
    ++level_applied;
    return std::string();
  });
  r.reload(2, argv, running);
  r.reload(2, argv, running);
  EXPECT_EQ(file_applied, 2);
  EXPECT_EQ(level_applied, 0);
}

}  // namespace
}  // namespace pvc
