// libFuzzer target: the counter file `pvctl import` reads
// (pvc::parse_import_line), one input = one file, split into lines at LF as
// the importer does.
//
// Checks, besides "no crash, no sanitizer report":
//   - a row has valid ids (well-formed UTF-8, no space, whitespace or control
//     character; the site's own counter has an empty article),
//     a count within 0..2^53-1, a period key of 8 or 6 digits when dated,
//     and a title only on an article's all-time row, valid by check_title;
//   - an error has a reason text;
//   - a row written back with pvc::append_import_line parses to the same row
//     (export then import is exact).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/import_csv.hpp"
#include "fuzz_check.hpp"

using namespace pvc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view file(reinterpret_cast<const char*>(data), size);
  bool first = true;
  while (!file.empty()) {
    const std::size_t lf = file.find('\n');
    const std::string_view line = file.substr(0, lf);
    file = lf == std::string_view::npos ? std::string_view{} : file.substr(lf + 1);
    import_scratch scratch;
    const import_line_result r = parse_import_line(line, scratch, first);
    first = false;
    if (r.kind == import_line_kind::error) {
      FUZZ_CHECK(!r.reason.empty());
      continue;
    }
    if (r.kind == import_line_kind::skip) continue;
    const import_row& row = r.row;
    fuzz::check_valid_id(row.site);
    if (!row.site_counter()) fuzz::check_valid_id(row.article);
    FUZZ_CHECK(row.count <= max_import_count);
    if (row.period == import_period::all_time) {
      FUZZ_CHECK(row.period_key.empty());
    } else {
      FUZZ_CHECK(row.period_key.size() == (row.period == import_period::day ? 8u : 6u));
      if (row.period == import_period::month) FUZZ_CHECK(row.site_counter());
    }
    if (!row.title.empty()) {
      FUZZ_CHECK(check_title(row.title).empty());
      FUZZ_CHECK(!row.site_counter() && row.period == import_period::all_time);
    }

    std::string again;
    append_import_line(again, row);
    FUZZ_CHECK(!again.empty() && again.back() == '\n');
    FUZZ_CHECK(again.find('\n') == again.size() - 1);
    again.pop_back();
    import_scratch scratch2;
    const import_line_result r2 = parse_import_line(again, scratch2, false);
    FUZZ_CHECK(r2.kind == import_line_kind::row);
    FUZZ_CHECK(r2.row.site == row.site);
    FUZZ_CHECK(r2.row.article == row.article);
    FUZZ_CHECK(r2.row.site_counter() == row.site_counter());
    FUZZ_CHECK(r2.row.count == row.count);
    FUZZ_CHECK(r2.row.period == row.period);
    FUZZ_CHECK(r2.row.period_key == row.period_key);
    FUZZ_CHECK(r2.row.title == row.title);
  }
  return 0;
}
