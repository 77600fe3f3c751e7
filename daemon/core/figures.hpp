#pragma once
// The figures pvcd answers with, whatever holds the counts (the embedded
// store, or a Redis Cluster): plain values shared by the store, the read
// layer (read/reader.hpp) and the routes that print them.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/calendar.hpp"

namespace pvc {

// One count a backend holds: a site's own views (article "") or one
// article's, all-time, on one local day, or in one local month. The read
// layer's queries (read/reader.cpp) are built from these, so a backend only
// answers counts and never a route's shape.
enum class count_period : std::uint8_t { all, day, month };

struct count_ref {
  std::string_view site;
  std::string_view article;  // "" for the site's own views
  count_period period = count_period::all;
  day_number day = 0;  // the day, or any day of the month; unused for `all`
};

struct site_views {
  std::uint64_t total = 0;
  std::uint64_t today = 0;
  std::uint64_t yesterday = 0;
  std::uint64_t this_month = 0;
};

struct article_views {
  std::uint64_t total = 0;
  std::uint64_t today = 0;
};

// One consistent read of a site and some of its articles.
struct views_snapshot {
  site_views site;
  std::vector<article_views> articles;  // in the order asked
  std::string error;                    // non-empty when the counts could not be read
};

// "Most viewed" periods: today, the 7 days ending today, this month, all time.
enum class top_period : std::uint8_t { day, week, month, all };

struct ranked_article {
  std::string article;
  std::uint64_t views = 0;
  std::string title;  // "" when the article has none
};

struct top_list {
  std::vector<ranked_article> articles;  // most viewed first; ties by id
  day_number from = 0;                   // days counted (inclusive); unused for `all`
  day_number to = 0;
  std::string error;  // the counts could not be read
};

// The ranking order of every "most viewed" list: more views first, then by id.
inline bool ranks_before(const ranked_article& a, const ranked_article& b) {
  return a.views != b.views ? a.views > b.views : a.article < b.article;
}

// The first day a list of `p` counts, up to `today` (unused for `all`).
inline day_number first_day_of(top_period p, day_number today) {
  switch (p) {
    case top_period::day:
      return today;
    case top_period::week:
      return today - 6;
    case top_period::month:
      return first_of_month(today);
    case top_period::all:
      break;
  }
  return today;
}

// Keeps the n best of `v` (unordered).
inline void keep_best(std::vector<ranked_article>& v, std::size_t n) {
  if (v.size() <= n) return;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n), v.end(), ranks_before);
  v.resize(n);
}

// The n best of `v`, most viewed first; articles with no views are left out.
inline void rank_top(std::vector<ranked_article>& v, std::size_t n) {
  std::erase_if(v, [](const ranked_article& a) { return a.views == 0; });
  keep_best(v, n);
  std::sort(v.begin(), v.end(), ranks_before);
}

}  // namespace pvc
