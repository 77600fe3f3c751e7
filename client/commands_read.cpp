// Read commands: total, get, sites, top, stats, audit.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>

#include "pvctl.hpp"

namespace pvc::ctl {
namespace {
namespace json = boost::json;

std::string views_path(const std::string& site, const std::vector<std::string>& ids) {
  std::string p = "/api/v1/views?s=" + q(site);
  for (const auto& id : ids)
    p += "&a=" + q(id);
  return p;
}

// --since: unix seconds, a date or time in UTC (2026-11-05, 2026-11-05T08:30:00Z), or an age
// (30m, 24h, 7d). Returns microseconds since 1970, or nothing.
std::optional<std::int64_t> parse_since(std::string_view s) {
  using namespace std::chrono;
  const std::int64_t now_us =
      duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  auto digits = [](std::string_view t) {
    if (t.empty()) return false;
    for (char c : t) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  };
  if (digits(s)) return std::stoll(std::string(s)) * 1'000'000;
  if (s.size() >= 2 && digits(s.substr(0, s.size() - 1))) {
    const std::int64_t n = std::stoll(std::string(s.substr(0, s.size() - 1)));
    const char unit = s.back();
    const std::int64_t per = unit == 's'   ? 1
                             : unit == 'm' ? 60
                             : unit == 'h' ? 3600
                             : unit == 'd' ? 86400
                                           : 0;
    if (per) return now_us - n * per * 1'000'000;
    return std::nullopt;
  }
  // YYYY-MM-DD[THH:MM[:SS]][Z]
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !digits(s.substr(0, 4)) ||
      !digits(s.substr(5, 2)) || !digits(s.substr(8, 2))) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = std::stoi(std::string(s.substr(0, 4))) - 1900;
  tm.tm_mon = std::stoi(std::string(s.substr(5, 2))) - 1;
  tm.tm_mday = std::stoi(std::string(s.substr(8, 2)));
  std::string_view rest = s.substr(10);
  if (!rest.empty() && rest.back() == 'Z') rest.remove_suffix(1);
  if (!rest.empty()) {
    if ((rest[0] != 'T' && rest[0] != ' ') || rest.size() < 6 || rest[3] != ':' ||
        !digits(rest.substr(1, 2)) || !digits(rest.substr(4, 2))) {
      return std::nullopt;
    }
    tm.tm_hour = std::stoi(std::string(rest.substr(1, 2)));
    tm.tm_min = std::stoi(std::string(rest.substr(4, 2)));
    if (rest.size() > 6) {
      if (rest.size() != 9 || rest[6] != ':' || !digits(rest.substr(7, 2))) return std::nullopt;
      tm.tm_sec = std::stoi(std::string(rest.substr(7, 2)));
    }
  }
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(::timegm(&tm)) * 1'000'000;
}

std::string human_duration(double seconds) {
  auto s = static_cast<std::uint64_t>(seconds);
  const std::uint64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
  s %= 60;
  char buf[64];
  if (d) {
    std::snprintf(buf, sizeof buf, "%llud %lluh %llum", static_cast<unsigned long long>(d),
                  static_cast<unsigned long long>(h), static_cast<unsigned long long>(m));
  } else if (h) {
    std::snprintf(buf, sizeof buf, "%lluh %llum %llus", static_cast<unsigned long long>(h),
                  static_cast<unsigned long long>(m), static_cast<unsigned long long>(s));
  } else {
    std::snprintf(buf, sizeof buf, "%llum %llus", static_cast<unsigned long long>(m),
                  static_cast<unsigned long long>(s));
  }
  return buf;
}

double real(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_double()) return v->as_double();
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  return 0;
}

const json::object& object_at(const json::object& o, std::string_view key) {
  static const json::object empty;
  const json::value* v = o.if_contains(key);
  return v && v->is_object() ? v->as_object() : empty;
}

// Cluster mode: this node's outbox, shipping and read cache.
void print_cluster_stats(const json::object& c) {
  auto n = [](const json::object& o, std::string_view key) {
    return static_cast<unsigned long long>(number(o, key));
  };
  const json::object& box = object_at(c, "outbox");
  const json::value* failing = c.if_contains("failing");
  std::printf("cluster: node %s, incarnation %s%s\n", string_of(c, "node").c_str(),
              string_of(c, "incarnation").c_str(),
              failing && failing->is_bool() && failing->as_bool() ? ", shipping FAILING" : "");
  std::printf("  outbox: %llu flushes, %llu of %llu bytes, oldest %.1f s\n", n(box, "flushes"),
              n(box, "bytes"), n(box, "max_bytes"), real(box, "oldest_age_seconds"));
  std::printf("  shipped: %llu flushes (%llu keys), %llu duplicates, %llu gaps, %llu errors\n",
              n(c, "shipped_flushes"), n(c, "shipped_keys"), n(c, "duplicates"), n(c, "gaps"),
              n(c, "ship_errors"));
  const json::object& redirects = object_at(c, "redirects");
  const json::object& cache = object_at(c, "read_cache");
  std::printf(
      "  redirects: %llu MOVED, %llu ASK; read cache: %llu hits, %llu misses, %.1f s stale\n",
      n(redirects, "moved"), n(redirects, "ask"), n(cache, "hits"), n(cache, "misses"),
      real(c, "read_stale_seconds"));
}

void print_stats(const json::object& o) {
  std::printf("pvcd %s (%s), up %s, %llu I/O threads\n", string_of(o, "version").c_str(),
              string_of(o, "revision").c_str(), human_duration(real(o, "uptime_seconds")).c_str(),
              static_cast<unsigned long long>(number(o, "threads")));
  const json::object& ingest = object_at(o, "ingest");
  std::printf("ingest, last %.0f s:", real(ingest, "window_seconds"));
  for (const char* t : {"http", "udp", "admin"}) {
    const json::object& x = object_at(ingest, t);
    std::printf("  %s %.1f hits/s (%.1f views/s)", t, real(x, "hits_per_second"),
                real(x, "views_per_second"));
  }
  std::printf("\naccepted since start:");
  for (const char* t : {"http", "udp", "admin"}) {
    const json::object& x = object_at(ingest, t);
    std::printf("  %s %llu hits (%llu views)", t,
                static_cast<unsigned long long>(number(x, "hits")),
                static_cast<unsigned long long>(number(x, "views")));
  }
  std::printf("\nrejected since start:");
  bool any = false;
  for (const auto& [transport, reasons] : object_at(o, "rejected")) {
    if (!reasons.is_object()) continue;
    for (const auto& [reason, n] : reasons.as_object()) {
      if (count_of(n) > 0) {
        std::printf("  %s/%s %llu", std::string(transport).c_str(), std::string(reason).c_str(),
                    static_cast<unsigned long long>(count_of(n)));
        any = true;
      }
    }
  }
  std::printf("%s\n", any ? "" : "  none");
  std::printf("tracked keys: %llu   sites: %llu of %llu\n",
              static_cast<unsigned long long>(number(o, "tracked_keys")),
              static_cast<unsigned long long>(number(o, "sites")),
              static_cast<unsigned long long>(number(o, "max_sites")));
  const json::value* last = o.if_contains("last_flush");
  if (last && last->is_object()) {
    const json::object& l = last->as_object();
    std::printf("last flush: %s (%.1f s ago), seq %llu", string_of(l, "time").c_str(),
                real(l, "age_seconds"), static_cast<unsigned long long>(number(l, "seq")));
  } else {
    std::printf("last flush: none yet");
  }
  std::printf("; %llu flushes, %llu errors, %llu keys pending\n",
              static_cast<unsigned long long>(number(o, "flushes")),
              static_cast<unsigned long long>(number(o, "flush_errors")),
              static_cast<unsigned long long>(number(o, "pending_keys")));
  if (const json::value* c = o.if_contains("cluster"); c && c->is_object()) {
    print_cluster_stats(c->as_object());
  }
}

// Control characters never reach the terminal from the journal.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

void print_audit_record(const json::object& r) {
  const json::value* d = r.if_contains("details");
  std::printf("%s  %-7s by=%s peer=%s auth=%s reason=\"%s\"  %s\n", string_of(r, "time").c_str(),
              string_of(r, "action").c_str(), printable(string_of(r, "by")).c_str(),
              string_of(r, "peer").c_str(), string_of(r, "auth").c_str(),
              printable(string_of(r, "reason")).c_str(),
              d ? printable(json::serialize(*d)).c_str() : "{}");
}

}  // namespace

void add_read_commands(CLI::App& app, std::vector<command>& out) {
  {
    auto site = std::make_shared<std::string>("default");
    auto* c = app.add_subcommand("total", "print a site's all-time views as a bare integer");
    c->add_option("--site", *site, "site id (default: default)");
    c->footer("Example: pvctl total --site baochinhphu");
    out.push_back({c, true, [site](context& ctx) {
                     json::object o = ctx.call_json("GET", views_path(*site, {}));
                     if (ctx.json) {
                       print_json(json::object{{"site", *site}, {"total", number(o, "total")}});
                     } else {
                       std::printf("%llu\n", static_cast<unsigned long long>(number(o, "total")));
                     }
                   }});
  }
  {
    struct opts {
      std::string site = "default";
      std::vector<std::string> ids;
    };
    auto o = std::make_shared<opts>();
    auto* c = app.add_subcommand("get", "print ID<TAB>total<TAB>today for each article");
    c->add_option("--site", o->site, "site id (default: default)");
    c->add_option("ids", o->ids, "article ids (at most 100)")->required();
    c->footer("Example: pvctl get --site baochinhphu /2026/11/ngan-sach home");
    out.push_back(
        {c, true, [o](context& ctx) {
           json::object v = ctx.call_json("GET", views_path(o->site, o->ids));
           if (ctx.json) return print_json(v);
           const json::value* arts = v.if_contains("articles");
           for (const auto& id : o->ids) {
             std::uint64_t t = 0, d = 0;
             if (arts && arts->is_object()) {
               if (const json::value* a = arts->as_object().if_contains(id); a && a->is_object()) {
                 t = number(a->as_object(), "total");
                 d = number(a->as_object(), "today");
               }
             }
             std::printf("%s\t%llu\t%llu\n", id.c_str(), static_cast<unsigned long long>(t),
                         static_cast<unsigned long long>(d));
           }
         }});
  }
  {
    auto* c = app.add_subcommand(
        "sites", "print every site: SITE<TAB>TOTAL<TAB>TODAY<TAB>THIS_MONTH, by name");
    c->footer("Example: pvctl sites");
    out.push_back({c, true, [](context& ctx) {
                     json::object v = ctx.call_json("GET", "/api/v1/sites");
                     if (ctx.json) return print_json(v);
                     const json::value* sites = v.if_contains("sites");
                     if (!sites || !sites->is_array()) return;
                     for (const json::value& s : sites->as_array()) {
                       if (!s.is_object()) continue;
                       const json::object& o = s.as_object();
                       std::printf("%s\t%llu\t%llu\t%llu\n", string_of(o, "site").c_str(),
                                   static_cast<unsigned long long>(number(o, "total")),
                                   static_cast<unsigned long long>(number(o, "today")),
                                   static_cast<unsigned long long>(number(o, "this_month")));
                     }
                   }});
  }
  {
    struct opts {
      std::string site = "default";
      std::string period = "day";
      unsigned n = 10;
    };
    auto o = std::make_shared<opts>();
    auto* c = app.add_subcommand(
        "top",
        "print the most viewed articles: RANK<TAB>VIEWS<TAB>ARTICLE[<TAB>TITLE], most viewed "
        "first (TITLE when the article has one)");
    c->add_option("--site", o->site, "site id (default: default)");
    c->add_option("--period", o->period,
                  "day (today), week (the 7 days ending today), month (this month) or all "
                  "(all-time); default day")
        ->check(CLI::IsMember({"day", "week", "month", "all"}));
    c->add_option("-n", o->n, "how many (1..1000, default 10)")->check(CLI::Range(1u, 1000u));
    c->footer("Example: pvctl top --site baochinhphu --period week -n 5");
    out.push_back({c, true, [o](context& ctx) {
                     json::object v = ctx.call_json("GET", "/admin/v1/top?s=" + q(o->site) +
                                                               "&period=" + o->period +
                                                               "&n=" + std::to_string(o->n));
                     if (ctx.json) return print_json(v);
                     const json::value* arts = v.if_contains("articles");
                     if (!arts || !arts->is_array()) return;
                     std::size_t rank = 0;
                     for (const auto& a : arts->as_array()) {
                       if (!a.is_object()) continue;
                       // A title holds no tab or line feed (no control character).
                       const std::string title = string_of(a.as_object(), "title");
                       std::printf("%zu\t%llu\t%s%s%s\n", ++rank,
                                   static_cast<unsigned long long>(number(a.as_object(), "views")),
                                   string_of(a.as_object(), "article").c_str(),
                                   title.empty() ? "" : "\t", title.c_str());
                     }
                   }});
  }
  {
    auto* c = app.add_subcommand(
        "stats",
        "ingest rates by transport, rejections by reason, tracked keys, last flush, "
        "uptime, version");
    c->footer("Example: pvctl stats        (pvctl stats --json for scripts)");
    out.push_back({c, true, [](context& ctx) {
                     json::object v = ctx.call_json("GET", "/admin/v1/stats");
                     if (ctx.json) return print_json(v);
                     print_stats(v);
                   }});
  }
  {
    struct opts {
      std::string since;
      std::uint64_t limit = 0;
    };
    auto o = std::make_shared<opts>();
    auto* c = app.add_subcommand(
        "audit",
        "print the journal of changes made through the admin API (import, adjust, rename, merge, "
        "restore), oldest first, times in UTC");
    c->add_option("--since", o->since,
                  "only changes from then on: unix seconds, 2026-11-05, 2026-11-05T08:30:00Z, or "
                  "an age such as 30m, 24h, 7d");
    c->add_option("--limit", o->limit, "at most this many records (default: all)");
    c->footer("Example: pvctl audit --since 7d\n         pvctl audit --since 2026-11-01 --json");
    out.push_back({c, true, [o](context& ctx) {
                     std::int64_t since = 0;
                     if (!o->since.empty()) {
                       auto t = parse_since(o->since);
                       if (!t) {
                         throw failure{exit_usage, "--since: '" + o->since +
                                                       "' is not unix seconds, a date, a time or "
                                                       "an age such as 24h"};
                       }
                       since = std::max<std::int64_t>(*t, 0);
                     }
                     std::string after;
                     std::uint64_t printed = 0;
                     for (;;) {
                       std::string path = "/admin/v1/audit?since_us=" + std::to_string(since);
                       if (!after.empty()) path += "&after=" + q(after);
                       json::object page = ctx.call_json("GET", path);
                       const json::value* records = page.if_contains("records");
                       if (records && records->is_array()) {
                         for (const auto& r : records->as_array()) {
                           if (o->limit && printed == o->limit) return;
                           ++printed;
                           if (ctx.json) {
                             print_json(r);
                           } else if (r.is_object()) {
                             print_audit_record(r.as_object());
                           }
                         }
                       }
                       after = string_of(page, "next");
                       if (after.empty()) return;
                     }
                   }});
  }
}

}  // namespace pvc::ctl
