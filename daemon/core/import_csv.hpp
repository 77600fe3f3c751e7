#pragma once
// The counter file that `pvctl export` writes and `pvctl import` reads: one
// counter per line, CSV (RFC 4180 quoting), so a round trip is exact.
//
//   site,article,total              all-time views of an article
//   site,*,total                    all-time views of the site itself (bare *)
//   site,"*",total                  an article whose id is literally *
//   site,article,total,YYYYMMDD     the article's views on one local day
//   site,*,total,YYYYMMDD           the site's views on one local day
//   site,*,total,YYYYMM             the site's views in one local month
//   site,article,total,,TITLE       all-time views of an article, and its title
//   |    |       |     |  '- optional title (core/title_text.hpp), on an
//   |    |       |     |     article's all-time row only; empty = none
//   |    |       |     '- optional period; months are kept per site only
//   |    |       '- decimal 0..2^53-1 (what a JSON reader keeps exact)
//   |    '- 1-200 bytes of UTF-8, exactly as stored (no %-decoding; core/ids.hpp)
//   '- same rule as article
//
// A field holding ',' or '"' is quoted, with each '"' doubled; any field may
// be quoted. A CR before the line end is ignored, an empty line is skipped,
// and line 1 may be a header (`site,article,total[,period[,title]]`).
// Files without the title field (every file before titles) read as before.
//
// Each line names exactly one stored counter: importing it touches that
// counter only (a site's total changes through its `*` row, never as a side
// effect of its articles' rows).
//
// Pure functions over string_view, no allocation in the parser; unquoted ids
// land in caller-owned buffers. Fuzz entry point: parse_import_line.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/ids.hpp"
#include "core/title_text.hpp"

namespace pvc {

// Largest count a file may carry: 2^53-1, the largest integer every JSON
// reader (a browser's included) keeps exact.
inline constexpr std::uint64_t max_import_count = (std::uint64_t{1} << 53) - 1;

enum class import_period : std::uint8_t { all_time, day, month };

struct import_row {
  std::string_view site;
  std::string_view article;  // empty for the site's own counter (bare `*`)
  std::uint64_t count = 0;
  import_period period = import_period::all_time;
  std::string_view period_key;  // "YYYYMMDD" (day) or "YYYYMM" (month); empty for all-time
  std::string_view title{};     // the article's title; empty when the row gives none

  bool site_counter() const noexcept { return article.empty(); }
};

// Buffers for ids that had to be unquoted; keep alive as long as the row.
struct import_scratch {
  id_buffer site;
  id_buffer article;
  std::array<char, max_title_bytes> title;
};

enum class import_line_kind : std::uint8_t {
  row,    // `row` holds a counter
  skip,   // an empty line or the header: nothing to import
  error,  // `reason` says what is wrong (a string literal)
};

struct import_line_result {
  import_line_kind kind = import_line_kind::error;
  import_row row;
  std::string_view reason;
};

// Parses one line (without its LF). `first_line`: a header is allowed here.
import_line_result parse_import_line(std::string_view line, import_scratch& scratch,
                                     bool first_line = false);

// Appends the row as one line, LF-terminated, in the form parse_import_line
// reads back to the same row.
void append_import_line(std::string& out, const import_row& row);

// The header line (LF-terminated) export writes first.
std::string_view import_header(bool with_period);

}  // namespace pvc
