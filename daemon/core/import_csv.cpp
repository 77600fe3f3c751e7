#include "core/import_csv.hpp"

#include <array>
#include <charconv>

#include "core/calendar.hpp"

namespace pvc {
namespace {

constexpr std::size_t max_fields = 5;

struct field {
  std::string_view text;  // between the quotes when quoted, doubled quotes still doubled
  bool quoted = false;
};

// Splits `line` into at most max_fields fields. Returns the number found, or
// 0 with `reason` set on a quoting error or too many fields.
std::size_t split_fields(std::string_view line, std::array<field, max_fields>& out,
                         std::string_view& reason) {
  std::size_t n = 0;
  std::size_t i = 0;
  for (;;) {
    if (n == max_fields) {
      reason = "too many fields: expected site,article,total[,period[,title]]";
      return 0;
    }
    field f;
    if (i < line.size() && line[i] == '"') {
      f.quoted = true;
      const std::size_t start = ++i;
      for (;;) {
        if (i >= line.size()) {
          reason = "a quoted field has no closing quote";
          return 0;
        }
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            i += 2;  // a doubled quote stands for one
            continue;
          }
          break;
        }
        ++i;
      }
      f.text = line.substr(start, i - start);
      ++i;  // past the closing quote
      if (i < line.size() && line[i] != ',') {
        reason = "text after a closing quote";
        return 0;
      }
    } else {
      const std::size_t comma = line.find(',', i);
      f.text = line.substr(i, comma == std::string_view::npos ? std::string_view::npos : comma - i);
      if (f.text.find('"') != std::string_view::npos) {
        reason = "a quote inside an unquoted field (quote the whole field and double the quote)";
        return 0;
      }
      i = comma == std::string_view::npos ? line.size() : comma;
    }
    out[n++] = f;
    if (i >= line.size()) return n;
    ++i;  // past the comma; a trailing comma leaves one more (empty) field
  }
}

// The field's value with doubled quotes collapsed: the text itself when there
// are none (no copy), else a copy in `buf`. Empty optional-like result
// (data() == nullptr) when it does not fit.
template <std::size_t N>
std::string_view unquote(const field& f, std::array<char, N>& buf) {
  if (!f.quoted || f.text.find('"') == std::string_view::npos) return f.text;
  std::size_t n = 0;
  for (std::size_t i = 0; i < f.text.size(); ++i) {
    if (n == N) return {};
    buf[n++] = f.text[i];
    if (f.text[i] == '"') ++i;  // skip the second of the pair
  }
  return {buf.data(), n};
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

bool is_header(const std::array<field, max_fields>& f, std::size_t n) {
  if (n < 3) return false;
  if (!iequals(f[0].text, "site") || !iequals(f[1].text, "article")) return false;
  if (!iequals(f[2].text, "total") && !iequals(f[2].text, "count")) return false;
  if (n == 3) return true;
  if (!iequals(f[3].text, "period") && !iequals(f[3].text, "day")) return false;
  return n == 4 || iequals(f[4].text, "title");
}

// An id field: the reason it is not a valid id, or "" (and `out` set).
std::string_view check_id(const field& f, id_buffer& buf, std::string_view& out, id_field which) {
  const std::string_view v = unquote(f, buf);
  // A null view: unquoting overflowed the buffer, so the id is too long.
  const id_status status = v.data() == nullptr ? id_status::too_long : check_id_bytes(v);
  if (status != id_status::ok) return id_status_detail(which, status);
  out = v;
  return {};
}

bool all_digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

}  // namespace

import_line_result parse_import_line(std::string_view line, import_scratch& scratch,
                                     bool first_line) {
  import_line_result r;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) {
    r.kind = import_line_kind::skip;
    return r;
  }
  std::array<field, max_fields> f;
  const std::size_t n = split_fields(line, f, r.reason);
  if (n == 0) return r;
  if (first_line && is_header(f, n)) {
    r.kind = import_line_kind::skip;
    return r;
  }
  if (n < 3) {
    r.reason = "too few fields: expected site,article,total[,period]";
    return r;
  }

  import_row& row = r.row;
  if (auto why = check_id(f[0], scratch.site, row.site, id_field::site); !why.empty()) {
    r.reason = why;
    return r;
  }
  if (!f[1].quoted && f[1].text == "*") {
    row.article = {};  // the site's own counter
  } else if (auto why = check_id(f[1], scratch.article, row.article, id_field::article);
             !why.empty()) {
    r.reason = why;
    return r;
  }

  std::array<char, 24> number_buf;
  const std::string_view total = unquote(f[2], number_buf);
  if (!all_digits(total)) {
    r.reason = "total is not a whole number";
    return r;
  }
  auto [end, ec] = std::from_chars(total.data(), total.data() + total.size(), row.count);
  if (ec != std::errc{} || row.count > max_import_count) {
    r.reason = "total is larger than 9007199254740991";
    return r;
  }

  // A title row leaves the period empty (all-time): site,article,total,,TITLE.
  if (n >= 4 && !(n == 5 && f[3].text.empty())) {
    std::array<char, 16> period_buf;
    const std::string_view p = unquote(f[3], period_buf);
    if (!all_digits(p) || (p.size() != 8 && p.size() != 6)) {
      r.reason = "period must be YYYYMMDD (a day) or YYYYMM (a month)";
      return r;
    }
    const bool is_day = p.size() == 8;
    if (is_day ? !parse_day_key(p) : !parse_month_key(p)) {
      r.reason = "period is not a date from 1970 on";
      return r;
    }
    if (is_day) {
      row.period = import_period::day;
    } else {
      if (!row.site_counter()) {
        r.reason = "month counts are kept per site only: the article must be *";
        return r;
      }
      row.period = import_period::month;
    }
    // Digits hold no quote, so the field's own text is the value: it points
    // into the line, not into the local buffer.
    row.period_key = f[3].text;
  }
  if (n == 5 && !f[4].text.empty()) {
    if (row.site_counter() || row.period != import_period::all_time) {
      r.reason = "a title goes on an article's all-time row (site,article,total,,title)";
      return r;
    }
    const std::string_view t = unquote(f[4], scratch.title);
    if (t.data() == nullptr) {
      r.reason = "title is longer than 200 bytes";
      return r;
    }
    if (auto why = check_title(t); !why.empty()) {
      r.reason = why;
      return r;
    }
    row.title = t;
  }
  r.kind = import_line_kind::row;
  return r;
}

namespace {

void append_field(std::string& out, std::string_view v, bool force_quotes) {
  const bool quote = force_quotes || v.find_first_of(",\"") != std::string_view::npos;
  if (!quote) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace

void append_import_line(std::string& out, const import_row& row) {
  append_field(out, row.site, false);
  out += ',';
  if (row.site_counter()) {
    out += '*';
  } else {
    append_field(out, row.article, row.article == "*");  // a literal * must not read as the site
  }
  out += ',';
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, row.count);
  out.append(digits, end);
  if (row.period != import_period::all_time) {
    out += ',';
    out += row.period_key;
  }
  if (!row.title.empty()) {
    out += ",,";  // all-time: the period is empty
    append_field(out, row.title, false);
  }
  out += '\n';
}

std::string_view import_header(bool with_period) {
  return with_period ? "site,article,total,period\n" : "site,article,total\n";
}

}  // namespace pvc
