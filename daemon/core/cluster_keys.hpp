#pragma once
// The Redis Cluster's key layout (README "Running several nodes"). Every key
// of a site starts with the site's hash tag, so all of them live in one slot
// and one flush of a site is one atomic function call (pvcd_functions.lua):
//
//   pvc:{SITE}:t              STRING  the site's all-time views
//   pvc:{SITE}:a              ZSET    article -> all-time views ("most viewed", all)
//   pvc:{SITE}:d:YYYYMMDD     STRING  the site's views on one local day
//   pvc:{SITE}:ad:YYYYMMDD    ZSET    article -> views that day
//   pvc:{SITE}:m:YYYYMM       STRING  the site's views in one local month
//   pvc:{SITE}:am:YYYYMM      ZSET    article -> views that month
//   pvc:{SITE}:seq            HASH    node incarnation -> last flush applied
//   pvc:{SITE}:uvd:YYYYMMDD   HLL     distinct visitors that day (day ids), 3 days
//   pvc:{SITE}:uvm:YYYYMM     HLL     distinct visitors that month (month ids), 63 days
//   pvc:{SITE}:on:MINUTE      HLL     visitors seen in one unix minute ("online now");
//                                     expires after the online window
//   pvc:{SITE}:ti             HASH    article -> "UNIX_SECONDS TITLE" (newest wins;
//                                     an empty TITLE: removed)
//   pvc:sites                 SET     every site with counts (its own slot)
//   pvc:salt:d:YYYYMMDD       STRING  the day's visitor salt, made by the first
//   pvc:salt:m:YYYYMM         STRING  node to ask (SET NX); 3 / 63 days
//
// SITE is the id with '%', '{' and '}' written as %25, %7B and %7D, so the
// tag ends where the site does and two sites never share a key.
//
// Pure; thread-safe.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/calendar.hpp"

namespace pvc::cluster_keys {

inline constexpr std::string_view sites = "pvc:sites";

// "pvc:{SITE}:" (the prefix of every key of the site).
inline std::string site_prefix(std::string_view site) {
  std::string k = "pvc:{";
  k.reserve(k.size() + site.size() + 2);
  for (char c : site) {
    if (c == '%') {
      k += "%25";
    } else if (c == '{') {
      k += "%7B";
    } else if (c == '}') {
      k += "%7D";
    } else {
      k += c;
    }
  }
  k += "}:";
  return k;
}

inline std::string total(std::string_view site) {
  return site_prefix(site) + "t";
}
inline std::string articles(std::string_view site) {
  return site_prefix(site) + "a";
}
inline std::string day_total(std::string_view site, day_number d) {
  return site_prefix(site) + "d:" + day_key(d);
}
inline std::string day_articles(std::string_view site, day_number d) {
  return site_prefix(site) + "ad:" + day_key(d);
}
inline std::string month_total(std::string_view site, day_number d) {
  return site_prefix(site) + "m:" + month_key(d);
}
inline std::string month_articles(std::string_view site, day_number d) {
  return site_prefix(site) + "am:" + month_key(d);
}
inline std::string markers(std::string_view site) {
  return site_prefix(site) + "seq";
}
inline std::string day_visitors(std::string_view site, day_number d) {
  return site_prefix(site) + "uvd:" + day_key(d);
}
inline std::string month_visitors(std::string_view site, day_number d) {
  return site_prefix(site) + "uvm:" + month_key(d);
}
inline std::string online(std::string_view site, std::int64_t unix_minute) {
  return site_prefix(site) + "on:" + std::to_string(unix_minute);
}
inline std::string titles(std::string_view site) {
  return site_prefix(site) + "ti";
}
inline std::string day_salt(day_number d) {
  return "pvc:salt:d:" + day_key(d);
}
inline std::string month_salt(month_number m) {
  return "pvc:salt:m:" + month_number_key(m);
}

}  // namespace pvc::cluster_keys
