#include "core/bot_list.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "app/embedded.hpp"
#include "ingest/beacon_gates.hpp"
#include "test_support.hpp"

namespace pvc {
namespace {

const bot_list& builtin() {
  static const bot_list list = [] {
    bot_list b;
    EXPECT_EQ(load_bot_list("", b), "");
    return b;
  }();
  return list;
}

TEST(BotList, TheBuiltInListRefusesCrawlersAndAcceptsBrowsers) {
  const char* bots[] = {
      "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
      "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
      "+http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
      "Mozilla/5.0 (compatible; coccocbot-web/1.0; +http://help.coccoc.com/searchengine)",
      "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "HeadlessChrome/156.0.0.0 Safari/537.36",
      "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
      "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/109.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
      "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0 "
      "(compatible; "
      "Baiduspider/2.0)",
      "Twitterbot/1.0",
      "WhatsApp/2.23.20.0",
      "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
      "UptimeRobot/2.0",
      "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
      "+https://openai.com/gptbot)",
  };
  for (const char* ua : bots) {
    SCOPED_TRACE(ua);
    EXPECT_TRUE(builtin().matches(ua));
  }
  const char* browsers[] = {
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/156.0.0.0 Safari/537.36",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
      "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
      "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
      // Cốc Cốc, the Vietnamese browser (its crawler is coccocbot).
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "coc_coc_browser/134.0.0 Chrome/128.0.0.0 Safari/537.36",
      // Zalo's in-app browser: people reading the portal from a chat.
      "Mozilla/5.0 (Linux; Android 13; SM-A536E Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
      "(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.230 Mobile Safari/537.36 Zalo "
      "android/12100657 ZaloTheme/light ZaloLanguage/vn",
      // A phone whose maker's name ends in "bot".
      "Mozilla/5.0 (Linux; Android 9; CUBOT_X19 Build/PPR1.180610.011; wv) AppleWebKit/537.36",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
      // HTTP clients are left to the operator's own list (see data/bots.txt).
      "curl/7.88.1",
      "Python-urllib/3.11",
      "",
  };
  for (const char* ua : browsers) {
    SCOPED_TRACE(ua);
    EXPECT_FALSE(builtin().matches(ua));
  }
  EXPECT_GT(builtin().size(), 50u);
}

TEST(BotList, MatchingIsCaseInsensitiveAndFindsPatternsAnywhere) {
  bot_list b;
  ASSERT_EQ(bot_list::parse("# comment\n\n  Googlebot  \nSPIDER\r\nabcd\nbcx\n", b), "");
  EXPECT_EQ(b.size(), 4u);
  EXPECT_TRUE(b.matches("googlebot"));
  EXPECT_TRUE(b.matches("xxGOOGLEBOTxx"));
  EXPECT_TRUE(b.matches("a Spider!"));
  // Overlapping patterns: the automaton's failure links find "bcx" inside "abcx".
  EXPECT_TRUE(b.matches("abcx"));
  EXPECT_TRUE(b.matches("zzabcabcd"));
  EXPECT_FALSE(b.matches("abc"));
  EXPECT_FALSE(b.matches("Googlebo"));
  EXPECT_FALSE(b.matches("# comment"));
}

TEST(BotList, AgreesWithAPlainSubstringSearchOnRandomInput) {
  const std::vector<std::string> patterns = {"aab", "abab", "bba", "baa", "abba", "b-a", "a+b"};
  std::string text;
  for (const auto& p : patterns)
    text += p + "\n";
  bot_list b;
  ASSERT_EQ(bot_list::parse(text, b), "");
  std::mt19937 rng(42);
  const char alphabet[] = "abAB-+x";
  for (int i = 0; i < 20000; ++i) {
    std::string ua;
    const std::size_t n = rng() % 12;
    for (std::size_t k = 0; k < n; ++k)
      ua += alphabet[rng() % 7];
    std::string folded = ua;
    for (char& c : folded)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool want = false;
    for (const auto& p : patterns)
      want |= folded.find(p) != std::string::npos;
    ASSERT_EQ(b.matches(ua), want) << ua;
  }
}

TEST(BotList, BadFilesAreRefusedWithTheLine) {
  bot_list b;
  EXPECT_EQ(bot_list::parse("ok-pattern\nab\n", b), "line 2: a pattern must be 3..200 bytes");
  EXPECT_EQ(bot_list::parse("fine\nbad\x01pattern\n", b), "line 2: only visible ASCII and spaces");
  EXPECT_EQ(bot_list::parse(std::string(201, 'x'), b), "line 1: a pattern must be 3..200 bytes");
  // An empty file is a valid (empty) list.
  EXPECT_EQ(bot_list::parse("# nothing\n", b), "");
  EXPECT_FALSE(b.matches("Googlebot"));
}

TEST(BotList, LoadingFromAFileReplacesTheBuiltInList) {
  test::temp_dir dir;
  const std::string path = (dir.path() / "bots.txt").string();
  {
    std::ofstream out(path);
    out << "# ours\nMonitorOfOurOwn\n";
  }
  bot_list b;
  ASSERT_EQ(load_bot_list(path, b), "");
  EXPECT_TRUE(b.matches("x monitorofourown/1.0"));
  EXPECT_FALSE(b.matches("Googlebot/2.1"));  // replaced, not added to
  EXPECT_NE(load_bot_list((dir.path() / "missing.txt").string(), b).find("cannot read"),
            std::string::npos);
  // The shipped data file is the built-in list, byte for byte.
  EXPECT_NE(embedded::bots_txt().find("coccocbot"), std::string_view::npos);
}

}  // namespace
}  // namespace pvc
