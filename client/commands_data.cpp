// import and export: every counter, in the file format of
// daemon/core/import_csv.hpp (or one JSON object per line), so that
// `pvctl export | pvctl import - --mode set` reproduces the counts exactly.
//
// Both stream: import sends the file in chunks of at most 256 KiB (whole
// lines) and export prints page by page, so neither pvctl nor pvcd ever
// holds a whole file.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/import_csv.hpp"
#include "pvctl.hpp"

namespace pvc::ctl {
namespace {
namespace json = boost::json;

constexpr std::size_t chunk_bytes = 256 * 1024;    // a quarter of the admin body limit (1 MiB)
constexpr std::size_t max_line_bytes = 64 * 1024;  // a valid line is < 700 bytes
constexpr std::size_t export_page_rows = 1000;

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// One JSON line -> the same counter as a CSV line (without LF), or the
// reason it cannot be one. Values are checked by the server, like CSV's.
std::string json_line_to_csv(std::string_view line, std::string& out) {
  out.clear();
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return {};  // empty line
  boost::system::error_code ec;
  const json::value v = json::parse(line, ec);
  if (ec || !v.is_object()) return "not a JSON object";
  const json::object& o = v.as_object();
  for (const auto& [key, value] : o) {
    if (key != "site" && key != "article" && key != "total" && key != "period" && key != "title") {
      return "unknown field \"" + std::string(key) + "\"";
    }
  }
  const json::value* site = o.if_contains("site");
  const json::value* article = o.if_contains("article");
  const json::value* total = o.if_contains("total");
  const json::value* period = o.if_contains("period");
  const json::value* title = o.if_contains("title");
  if (!site || !site->is_string()) return "\"site\" must be a string";
  if (title && !title->is_string()) return "\"title\" must be a string";
  if (article && !article->is_string())
    return "\"article\" must be a string (omit it for the site)";
  if (period && !period->is_string()) return "\"period\" must be a string, YYYYMMDD or YYYYMM";
  if (!total || !(total->is_uint64() || (total->is_int64() && total->as_int64() >= 0))) {
    return "\"total\" must be a whole number";
  }
  import_row row;
  row.site = site->as_string();
  if (article) row.article = article->as_string();
  if (article && row.article.empty()) return "\"article\" is empty (omit it for the site)";
  row.count =
      total->is_uint64() ? total->as_uint64() : static_cast<std::uint64_t>(total->as_int64());
  if (period) {
    row.period_key = period->as_string();
    row.period = row.period_key.size() == 6 ? import_period::month : import_period::day;
  }
  if (title) row.title = title->as_string();
  for (std::string_view s : {row.site, row.article, row.period_key, row.title}) {
    for (char c : s) {
      if (static_cast<unsigned char>(c) < 0x20) return "a control character in a string";
    }
  }
  append_import_line(out, row);
  out.pop_back();  // the LF
  return {};
}

struct import_opts {
  std::string file;
  std::string mode = "add";
  std::string reason;
  std::string format;
};

void run_import(const import_opts& o, context& ctx) {
  const bool from_stdin = o.file == "-";
  std::FILE* in = from_stdin ? stdin : std::fopen(o.file.c_str(), "rb");
  if (!in) throw failure{exit_usage, "cannot read " + o.file + ": " + std::strerror(errno)};
  struct closer {
    std::FILE* f;
    bool own;
    ~closer() {
      if (own) std::fclose(f);
    }
  } close_in{in, !from_stdin};
  const bool as_json =
      o.format == "json" ||
      (o.format.empty() &&
       (ends_with(o.file, ".json") || ends_with(o.file, ".jsonl") || ends_with(o.file, ".ndjson")));

  const json::object started =
      ctx.call_json("POST", "/admin/v1/import/start?mode=" + o.mode + "&by=" + q(ctx.by));
  const std::string id = string_of(started, "import");
  // Anything that ends the import early leaves nothing applied; say so to the server too.
  auto abort_import = [&] {
    try {
      ctx.call("POST", "/admin/v1/import/abort?id=" + q(id));
    } catch (const failure&) {
      // It may be gone already (a refused chunk ends it on the server).
    }
  };
  auto refuse = [](std::uint64_t line, const std::string& why) {
    throw failure{exit_server,
                  "import refused, nothing was changed: line " + std::to_string(line) + ": " + why};
  };

  std::string chunk;  // whole lines, at most chunk_bytes
  std::uint64_t chunk_first_line = 1;
  std::uint64_t line_no = 0;
  auto send = [&](std::uint64_t next_first_line) {
    if (!chunk.empty()) {
      ctx.call("POST",
               "/admin/v1/import/chunk?id=" + q(id) + "&line=" + std::to_string(chunk_first_line),
               chunk, "text/csv");
      chunk.clear();
    }
    chunk_first_line = next_first_line;
  };
  std::string converted;
  auto add_line = [&](std::string_view line) {
    ++line_no;
    if (as_json) {
      if (auto why = json_line_to_csv(line, converted); !why.empty()) refuse(line_no, why);
      line = converted;
    }
    if (!chunk.empty() && chunk.size() + line.size() + 1 > chunk_bytes) send(line_no);
    chunk.append(line);
    chunk += '\n';
  };

  try {
    std::string pending;  // a line not yet ended by LF
    std::vector<char> buf(64 * 1024);
    for (;;) {
      const std::size_t n = std::fread(buf.data(), 1, buf.size(), in);
      std::string_view data(buf.data(), n);
      while (!data.empty()) {
        const std::size_t lf = data.find('\n');
        if (lf == std::string_view::npos) {
          pending.append(data);
          data = {};
        } else {
          if (pending.empty()) {
            add_line(data.substr(0, lf));
          } else {
            pending.append(data.substr(0, lf));
            add_line(pending);
            pending.clear();
          }
          data.remove_prefix(lf + 1);
        }
        if (pending.size() > max_line_bytes) refuse(line_no + 1, "longer than 65536 bytes");
      }
      if (n < buf.size()) {
        if (std::ferror(in)) {
          throw failure{exit_usage, "cannot read " + o.file + ": " + std::strerror(errno)};
        }
        break;
      }
    }
    if (!pending.empty()) add_line(pending);
    send(line_no + 1);
  } catch (const failure&) {
    abort_import();  // nothing was committed: make sure nothing stays staged either
    throw;
  }

  std::string commit = "/admin/v1/import/commit?id=" + q(id) + "&by=" + q(ctx.by);
  if (!o.reason.empty()) commit += "&reason=" + q(o.reason);
  const json::object job = ctx.call_json("POST", commit);
  const json::object result = ctx.wait_job(string_of(job, "job"));
  if (ctx.json) return print_json(result);
  std::printf(
      "imported %llu rows (mode %s): %llu site totals, %llu article totals, %llu day counts, %llu "
      "month counts\n",
      static_cast<unsigned long long>(number(result, "rows")), o.mode.c_str(),
      static_cast<unsigned long long>(number(result, "site_rows")),
      static_cast<unsigned long long>(number(result, "article_rows")),
      static_cast<unsigned long long>(number(result, "day_rows")),
      static_cast<unsigned long long>(number(result, "month_rows")));
}

struct export_opts {
  std::string site;
  std::string format = "csv";
  bool daily = false;
};

void run_export(const export_opts& o, context& ctx) {
  const bool as_json = o.format == "json" || ctx.json;
  std::string out;
  if (!as_json) out.assign(import_header(o.daily));
  std::string path = "/admin/v1/export?limit=" + std::to_string(export_page_rows);
  if (!o.site.empty()) path += "&s=" + q(o.site);
  if (o.daily) path += "&daily=1";
  for (;;) {
    const json::object page = ctx.call_json("GET", path);
    const json::value* rows = page.if_contains("rows");
    if (rows && rows->is_array()) {
      for (const auto& r : rows->as_array()) {
        if (!r.is_object()) continue;
        if (as_json) {
          out += json::serialize(r);
          out += '\n';
          continue;
        }
        const json::object& x = r.as_object();
        const std::string site = string_of(x, "site");
        const std::string article = string_of(x, "article");
        const std::string period = string_of(x, "period");
        const std::string title = string_of(x, "title");
        import_row row;
        row.site = site;
        row.article = article;
        row.count = number(x, "total");
        row.period_key = period;
        row.title = title;
        row.period = period.empty()       ? import_period::all_time
                     : period.size() == 6 ? import_period::month
                                          : import_period::day;
        append_import_line(out, row);
      }
    }
    if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) {
      throw failure{exit_local, "cannot write the output"};
    }
    out.clear();
    const std::string cursor = string_of(page, "cursor");
    if (cursor.empty()) return;
    path = "/admin/v1/export?limit=" + std::to_string(export_page_rows) + "&cursor=" + q(cursor);
  }
}

}  // namespace

void add_data_commands(CLI::App& app, std::vector<command>& out) {
  {
    auto o = std::make_shared<import_opts>();
    auto* c = app.add_subcommand(
        "import",
        "load counts from a file (CSV site,article,total[,period]; article * is the site's own "
        "total) in one atomic write: the whole file is checked first, and a bad line applies "
        "nothing and is named");
    c->add_option("file", o->file, "the file, or - for stdin")->required();
    c->add_option("--mode", o->mode,
                  "add: add the counts to what is there (default); set: replace each counter "
                  "named in the file")
        ->check(CLI::IsMember({"add", "set"}));
    c->add_option("--reason", o->reason, "why, for the audit journal");
    c->add_option("--format", o->format,
                  "csv or json (one object per line, as export writes); default: by the file "
                  "name (.json, .jsonl, .ndjson), else csv")
        ->check(CLI::IsMember({"csv", "json"}));
    c->footer(
        "Each line names one counter and only that counter changes: a site's total changes "
        "through its\n* row only (an old system's total already includes its articles).\n"
        "  site,article,total            all-time views of an article\n"
        "  site,*,total                  all-time views of the site\n"
        "  site,article,total,YYYYMMDD   one day (article or *)\n"
        "  site,*,total,YYYYMM           one month (sites only)\n"
        "  site,article,total,,TITLE     all-time views and the article's title (replaces it)\n"
        "Ids with , or \" are quoted CSV-style (\"a,b\"); a literal article * is written \"*\".\n"
        "Example: pvctl import old.csv --mode set --reason \"carried over from the old CMS\"\n"
        "  where old.csv carries an old portal counter and its articles:\n"
        "    baochinhphu,*,86037575\n"
        "    baochinhphu,/2026/11/ngan-sach,1520");
    out.push_back({c, true, [o](context& ctx) { run_import(*o, ctx); }});
  }
  {
    auto o = std::make_shared<export_opts>();
    auto* c = app.add_subcommand(
        "export",
        "print every counter, streamed, in the format import reads back (a consistent snapshot)");
    c->add_option("--site", o->site, "only this site (default: every site)");
    c->add_option("--format", o->format, "csv (default) or json (one object per line)")
        ->check(CLI::IsMember({"csv", "json"}));
    c->add_flag("--daily", o->daily, "also the day and month counts (history)");
    c->footer(
        "Example: pvctl export --daily > counts.csv\n"
        "         pvctl --server http://10.0.0.2:8081 import counts.csv --mode set   (a copy)");
    out.push_back({c, true, [o](context& ctx) { run_export(*o, ctx); }});
  }
}

}  // namespace pvc::ctl
