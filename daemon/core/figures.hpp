#pragma once
// The figures pvcd answers with, whatever holds the counts (the embedded
// store, or a Redis Cluster): plain values shared by the store, the read
// layer (read/reader.hpp) and the routes that print them.
#include <cstdint>
#include <string>
#include <vector>

#include "core/calendar.hpp"

namespace pvc {

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

// One site's line in the list of every site (GET /api/v1/sites).
struct site_summary {
  std::string site;
  std::uint64_t total = 0;
  std::uint64_t today = 0;
  std::uint64_t this_month = 0;
};

struct site_list {
  std::vector<site_summary> sites;  // by name
  std::string error;
};

// The ranking order of every "most viewed" list: more views first, then by id.
inline bool ranks_before(const ranked_article& a, const ranked_article& b) {
  return a.views != b.views ? a.views > b.views : a.article < b.article;
}

}  // namespace pvc
