#pragma once
// The store's key layout. One RocksDB key space, one-byte type prefixes; ids
// never contain 0x00 (they are visible ASCII), so it separates site from
// article unambiguously. Every value is an unsigned 64-bit count, 8 bytes
// little-endian, combined by an adding merge operator (see store.cpp).
//
//   T <site>                       all-time views of the site
//   T <site> 0x00 <article>        all-time views of the article
//   D <YYYYMMDD> <site>            the site's views on one local day
//   D <YYYYMMDD> <site> 0x00 <a>   the article's views on one local day
//   M <YYYYMM> <site>              the site's views in one local month
//   S <site>                       marks a known site (empty value)
//   #flush_seq                     sequence number of the last applied flush
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace pvc::keys {

inline constexpr char sep = '\0';
inline constexpr std::string_view flush_seq = "#flush_seq";

inline std::string site_total(std::string_view site) {
  std::string k;
  k.reserve(1 + site.size());
  k += 'T';
  k += site;
  return k;
}

inline std::string article_total(std::string_view site, std::string_view article) {
  std::string k = site_total(site);
  k += sep;
  k += article;
  return k;
}

// `day` and `month` are the "YYYYMMDD" / "YYYYMM" strings from calendar.hpp.
inline std::string site_day(std::string_view day, std::string_view site) {
  std::string k;
  k.reserve(1 + day.size() + site.size());
  k += 'D';
  k += day;
  k += site;
  return k;
}

inline std::string article_day(std::string_view day, std::string_view site,
                               std::string_view article) {
  std::string k = site_day(day, site);
  k += sep;
  k += article;
  return k;
}

inline std::string site_month(std::string_view month, std::string_view site) {
  std::string k;
  k.reserve(1 + month.size() + site.size());
  k += 'M';
  k += month;
  k += site;
  return k;
}

inline std::string site_marker(std::string_view site) {
  std::string k = "S";
  k += site;
  return k;
}

inline std::string encode_count(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i)
    s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

// False when the value is not exactly 8 bytes.
inline bool decode_count(std::string_view s, std::uint64_t& out) {
  if (s.size() != 8) return false;
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(s[i]);
  out = v;
  return true;
}

}  // namespace pvc::keys
