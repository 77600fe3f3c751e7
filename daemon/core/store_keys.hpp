#pragma once
// The store's key layout. One RocksDB key space, one-byte type prefixes; ids
// never contain 0x00 (a control character, refused by core/ids.hpp), so it separates site from
// article unambiguously. Every value but a title (N) is an unsigned 64-bit count, 8 bytes
// little-endian, combined by an adding merge operator (see store.cpp).
//
//   T <site>                       all-time views of the site
//   T <site> 0x00 <article>        all-time views of the article
//   D <YYYYMMDD> <site>            the site's views on one local day
//   D <YYYYMMDD> <site> 0x00 <a>   the article's views on one local day
//   M <YYYYMM> <site>              the site's views in one local month
//   S <site>                       marks a known site (empty value)
//   N <site> 0x00 <article>        the article's title: 8 bytes little-endian
//                                  (Unix seconds it was set), then the UTF-8
//                                  title (core/title_text.hpp); written with
//                                  Put, never merged
//   #flush_seq                     sequence number of the last applied flush
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/calendar.hpp"
#include "core/figures.hpp"

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

// The key of a count the read layer asks for (read/reader.hpp); "" for an
// article's month, which this layout does not keep (months are per site).
inline std::string count_key(const count_ref& ref) {
  switch (ref.period) {
    case count_period::all:
      return ref.article.empty() ? site_total(ref.site) : article_total(ref.site, ref.article);
    case count_period::day:
      return ref.article.empty() ? site_day(day_key(ref.day), ref.site)
                                 : article_day(day_key(ref.day), ref.site, ref.article);
    case count_period::month:
      return ref.article.empty() ? site_month(month_key(ref.day), ref.site) : std::string();
  }
  return {};
}

inline std::string site_marker(std::string_view site) {
  std::string k = "S";
  k += site;
  return k;
}

inline std::string article_title(std::string_view site, std::string_view article) {
  std::string k;
  k.reserve(2 + site.size() + article.size());
  k += 'N';
  k += site;
  k += sep;
  k += article;
  return k;
}

inline void encode_count_to(char (&out)[8], std::uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

inline std::string encode_count(std::uint64_t v) {
  char b[8];
  encode_count_to(b, v);
  return std::string(b, 8);
}

// Builds keys that share a prefix ("T", or "D" + day) in one reused buffer:
// a flush of a million articles allocates nothing per article.
class key_buffer {
 public:
  explicit key_buffer(std::string_view prefix) : buf_(prefix), prefix_(prefix.size()) {}
  // prefix + site
  std::string_view site(std::string_view s) {
    buf_.resize(prefix_);
    buf_ += s;
    return buf_;
  }
  // prefix + site + sep + article
  std::string_view article(std::string_view s, std::string_view a) {
    site(s);
    buf_ += sep;
    buf_ += a;
    return buf_;
  }

 private:
  std::string buf_;
  std::size_t prefix_;
};

// False when the value is not exactly 8 bytes.
inline bool decode_count(std::string_view s, std::uint64_t& out) {
  if (s.size() != 8) return false;
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(s[i]);
  out = v;
  return true;
}

inline std::string encode_title(std::int64_t changed_unix, std::string_view title) {
  std::string v = encode_count(static_cast<std::uint64_t>(changed_unix));
  v += title;
  return v;
}

// False when the value is shorter than its 8-byte time.
inline bool decode_title(std::string_view v, std::int64_t& changed_unix, std::string_view& title) {
  std::uint64_t t = 0;
  if (v.size() < 8 || !decode_count(v.substr(0, 8), t)) return false;
  changed_unix = static_cast<std::int64_t>(t);
  title = v.substr(8);
  return true;
}

}  // namespace pvc::keys
