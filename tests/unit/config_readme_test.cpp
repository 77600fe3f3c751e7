// README.md's configuration table has one row per key pvcd knows, no other
// rows, and the same defaults as --help (the table in app/config.cpp).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "app/config.hpp"

namespace {

// The rows of the markdown table under "## Configuration": key -> default
// cells, in a multimap so that a duplicated row is seen.
std::multimap<std::string, std::string> readme_rows() {
  std::ifstream in(PVC_README);
  std::multimap<std::string, std::string> rows;
  bool in_section = false;
  const std::regex row(R"(^\| `([a-z_]+)` \|[^|]*\| ([^|]*) \|.*\|$)");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## Configuration";
    std::smatch m;
    if (in_section && std::regex_match(line, m, row)) rows.emplace(m[1], m[2]);
  }
  return rows;
}

// The README writes `0s` (off) where --help writes 0s, and none where it
// writes (none): compare the value alone.
std::string bare(std::string s) {
  s = std::regex_replace(s, std::regex("`"), "");
  s = std::regex_replace(s, std::regex(R"( \([^)]*\)$)"), "");
  if (s.size() >= 2 && s.front() == '(' && s.back() == ')') s = s.substr(1, s.size() - 2);
  return s;
}

TEST(ConfigReadme, OneRowPerKeyWithItsDefault) {
  const auto rows = readme_rows();
  ASSERT_FALSE(rows.empty()) << PVC_README;
  std::map<std::string, std::string> code;
  for (const auto& key : pvc::config_key_docs())
    code[key.name] = key.default_value;
  for (const auto& [name, default_value] : code) {
    SCOPED_TRACE(name);
    EXPECT_EQ(rows.count(name), 1u) << "README.md needs exactly one row for this key";
    auto it = rows.find(name);
    if (it != rows.end() && !default_value.empty()) {
      EXPECT_EQ(bare(it->second), bare(default_value));
    }
  }
  for (const auto& [name, cell] : rows) {
    EXPECT_TRUE(code.contains(name)) << "README.md has a row for unknown key " << name;
  }
}

}  // namespace
