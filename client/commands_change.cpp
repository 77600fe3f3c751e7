// Commands that change counts (hit, adjust, rename, merge) and titles (title). Each is one
// request; the server applies it atomically and journals it.
#include <cstdio>
#include <memory>

#include "pvctl.hpp"

namespace pvc::ctl {
namespace {
namespace json = boost::json;

const json::object& details_of(const json::object& o) {
  static const json::object empty;
  const json::value* d = o.if_contains("details");
  return d && d->is_object() ? d->as_object() : empty;
}

std::string change_of(const json::object& d, std::string_view key) {
  const json::value* v = d.if_contains(key);
  if (!v || !v->is_object()) return "?";
  return std::to_string(number(v->as_object(), "before")) + " -> " +
         std::to_string(number(v->as_object(), "after"));
}

std::string reason_param(const std::string& reason) {
  return reason.empty() ? std::string() : "&reason=" + q(reason);
}

}  // namespace

void add_change_commands(CLI::App& app, std::vector<command>& out) {
  {
    struct opts {
      std::string site = "default";
      std::string id;
      unsigned count = 1;
    };
    auto o = std::make_shared<opts>();
    auto* c = app.add_subcommand("hit", "record views of an article (smoke tests)");
    c->add_option("--site", o->site, "site id (default: default)");
    c->add_option("id", o->id, "article id")->required();
    c->add_option("--count", o->count, "views to record (1..1000000)")
        ->check(CLI::Range(1u, 1'000'000u));
    c->footer("Example: pvctl hit --site baochinhphu home --count 3");
    out.push_back({c, true, [o](context& ctx) {
                     ctx.call("POST", "/admin/v1/hit?s=" + q(o->site) + "&a=" + q(o->id) +
                                          "&n=" + std::to_string(o->count) + "&by=" + q(ctx.by));
                     if (ctx.json) print_json(json::object{{"ok", true}});
                   }});
  }
  {
    struct opts {
      std::string site, article, delta, reason, day;
    };
    auto o = std::make_shared<opts>();
    auto* c = app.add_subcommand(
        "adjust",
        "correct an article's all-time views and its site's total by DELTA (negative to "
        "subtract; refused if a count would drop below zero)");
    c->add_option("site", o->site, "site id")->required();
    c->add_option("article", o->article, "article id")->required();
    c->add_option("delta", o->delta, "views to add, e.g. 250, or to subtract, e.g. -40")
        ->required();
    c->add_option("--reason", o->reason, "why, for the audit journal")->required();
    c->add_option("--day", o->day,
                  "also correct that day's counts (article and site) and its month's, YYYYMMDD");
    c->footer(
        "Example: pvctl adjust baochinhphu /2026/11/ngan-sach -1200 --reason \"bot spike on "
        "5 Nov\"\n         pvctl adjust baochinhphu home 500 --day 20261105 --reason \"lost "
        "log replay\"");
    out.push_back(
        {c, true, [o](context& ctx) {
           std::string path = "/admin/v1/adjust?s=" + q(o->site) + "&a=" + q(o->article) +
                              "&delta=" + q(o->delta) + reason_param(o->reason) +
                              "&by=" + q(ctx.by);
           if (!o->day.empty()) path += "&day=" + q(o->day);
           json::object r = ctx.call_json("POST", path);
           if (ctx.json) return print_json(r);
           const json::object& d = details_of(r);
           std::printf("adjusted %s %s by %s: article total %s, site total %s\n", o->site.c_str(),
                       o->article.c_str(), o->delta.c_str(), change_of(d, "article_total").c_str(),
                       change_of(d, "site_total").c_str());
           if (!o->day.empty()) {
             std::printf("  on %s: article %s, site %s; month: site %s\n", o->day.c_str(),
                         change_of(d, "article_day").c_str(), change_of(d, "site_day").c_str(),
                         change_of(d, "site_month").c_str());
           }
         }});
  }
  for (const bool rename : {true, false}) {
    struct opts {
      std::string site, from, to, reason;
    };
    auto o = std::make_shared<opts>();
    auto* c = rename ? app.add_subcommand(
                           "rename",
                           "give an article a new id: its all-time count and daily history move "
                           "to NEW, which must have no counts; site totals are unchanged")
                     : app.add_subcommand(
                           "merge",
                           "count two ids of one page as one: FROM's all-time count and daily "
                           "history are added to INTO and FROM is removed; site totals unchanged");
    c->add_option("site", o->site, "site id")->required();
    c->add_option(rename ? "old" : "from", o->from, "the article id to move")->required();
    c->add_option(rename ? "new" : "into", o->to, "the article id it becomes")->required();
    c->add_option("--reason", o->reason, "why, for the audit journal");
    c->footer(rename ? "Example: pvctl rename baochinhphu /2026/11/ngan-sach "
                       "/2026/11/ngan-sach-2027 --reason \"slug changed\"\n"
                       "Views that arrive for OLD after the rename count under OLD again: change "
                       "the pages first."
                     : "Example: pvctl merge baochinhphu /tin/123 /2026/11/ngan-sach --reason "
                       "\"old URL of the same page\"");
    out.push_back({c, true, [o, rename](context& ctx) {
                     const std::string path =
                         std::string(rename ? "/admin/v1/rename?s=" : "/admin/v1/merge?s=") +
                         q(o->site) + "&from=" + q(o->from) + (rename ? "&to=" : "&into=") +
                         q(o->to) + reason_param(o->reason) + "&by=" + q(ctx.by);
                     json::object r = ctx.call_json("POST", path);
                     if (ctx.json) return print_json(r);
                     const json::object& d = details_of(r);
                     std::printf(
                         "%s %s %s %s on %s: %llu views moved, with the history of "
                         "%llu days; %s has %s\n",
                         rename ? "renamed" : "merged", o->from.c_str(), rename ? "to" : "into",
                         o->to.c_str(), o->site.c_str(),
                         static_cast<unsigned long long>(number(d, "views_moved")),
                         static_cast<unsigned long long>(number(d, "days_moved")), o->to.c_str(),
                         change_of(d, rename ? "to_total" : "into_total").c_str());
                   }});
  }
  {
    struct opts {
      std::string site, article, text, reason;
      bool clear = false;
    };
    auto o = std::make_shared<opts>();
    auto* c = app.add_subcommand(
        "title",
        "set the title an article shows in most-viewed lists (/api/v1/top, the widget), or "
        "remove it with --clear or \"\"");
    c->add_option("site", o->site, "site id")->required();
    c->add_option("article", o->article, "article id")->required();
    c->add_option("text", o->text, "the title: UTF-8, up to 200 bytes, no control characters");
    auto* clear = c->add_flag("--clear", o->clear, "remove the article's title");
    c->add_option("--reason", o->reason, "why, for the audit journal");
    c->get_option("text")->excludes(clear);
    c->footer(
        "Example: pvctl title soctrang.gov.vn /gioi-thieu \"Giới thiệu chung về tỉnh Sóc "
        "Trăng\"\n         pvctl title soctrang.gov.vn /gioi-thieu --clear");
    out.push_back({c, true, [o, c](context& ctx) {
                     // Removing takes a word: a forgotten TEXT must not wipe a title.
                     if (!o->clear && c->count("text") == 0) {
                       throw failure{exit_usage, "title: give the TEXT, or --clear to remove it"};
                     }
                     const std::string text = o->clear ? std::string() : o->text;
                     const std::string path = "/admin/v1/title?s=" + q(o->site) +
                                              "&a=" + q(o->article) + "&title=" + q(text) +
                                              reason_param(o->reason) + "&by=" + q(ctx.by);
                     json::object r = ctx.call_json("POST", path);
                     if (ctx.json) return print_json(r);
                     if (text.empty()) {
                       std::printf("removed the title of %s on %s\n", o->article.c_str(),
                                   o->site.c_str());
                     } else {
                       std::printf("title of %s on %s: %s\n", o->article.c_str(), o->site.c_str(),
                                   text.c_str());
                     }
                   }});
  }
}

}  // namespace pvc::ctl
