#include "core/json_text.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "test_support.hpp"

namespace pvc {
namespace {

TEST(AppendJsonString, EscapesQuotesBackslashesAndControlBytes) {
  struct row {
    std::string input;
    std::string json;
  };
  const row table[] = {
      {"news/a", R"("news/a")"},       {"", R"("")"},
      {"a\"b", R"("a\"b")"},           {"a\\b", R"("a\\b")"},
      {"\x01", R"("\u0001")"},         {"\n", R"("\u000a")"},
      {"\x1f", R"("\u001f")"},         {std::string("a\0b", 3), R"("a\u0000b")"},
      {"</script>", R"("</script>")"}, {"~!", R"("~!")"},
  };
  for (const row& r : table) {
    SCOPED_TRACE(test::printable(r.input));
    std::string out = "x:";
    append_json_string(out, r.input);
    EXPECT_EQ(out, "x:" + r.json);  // appends, keeps what was there
  }
}

TEST(AppendJsonNumber, Decimal) {
  std::string out;
  append_json_number(out, 0);
  out += ',';
  append_json_number(out, 1000000);
  out += ',';
  append_json_number(out, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(out, "0,1000000,18446744073709551615");
}

}  // namespace
}  // namespace pvc
