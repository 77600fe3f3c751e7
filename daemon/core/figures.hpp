#pragma once
// The figures pvcd answers with, whatever holds the counts (the embedded
// store, or a Redis Cluster): plain values shared by the store, the read
// layer (read/reader.hpp) and the routes that print them.
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

}  // namespace pvc
