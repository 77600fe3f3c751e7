#include "read/reader.hpp"

namespace pvc {

views_snapshot views_from(const counts_fn& counts, day_number day, std::string_view site,
                          std::span<const std::string_view> articles) {
  std::vector<count_ref> refs = {
      {site, {}, count_period::all, 0},
      {site, {}, count_period::day, day},
      {site, {}, count_period::day, day - 1},
      {site, {}, count_period::month, day},
  };
  refs.reserve(refs.size() + 2 * articles.size());
  for (std::string_view a : articles) {
    refs.push_back({site, a, count_period::all, 0});
    refs.push_back({site, a, count_period::day, day});
  }
  views_snapshot out;
  std::vector<std::uint64_t> v;
  out.error = counts(refs, v);
  if (!out.error.empty()) return out;
  out.site = {v[0], v[1], v[2], v[3]};
  out.articles.reserve(articles.size());
  for (std::size_t i = 0; i < articles.size(); ++i)
    out.articles.push_back({v[4 + 2 * i], v[5 + 2 * i]});
  return out;
}

views_snapshot reader::views_on(day_number day, std::string_view site,
                                std::span<const std::string_view> articles) {
  return views_from([this](std::span<const count_ref> refs,
                           std::vector<std::uint64_t>& out) { return counts(refs, out); },
                    day, site, articles);
}

views_snapshot reader::views(std::string_view site, std::span<const std::string_view> articles) {
  // One day for every figure. The day only moves forward, and a day's
  // counts reach the backend only after it began: if it is the same before
  // and after the read, the snapshot has nothing of a later day. A read
  // racing midnight is taken again (at most twice more).
  day_number day = today();
  views_snapshot snap;
  for (int attempt = 0; attempt < 3; ++attempt) {
    snap = views_on(day, site, articles);
    const day_number after = today();
    if (after == day) break;
    day = after;
  }
  return snap;
}

}  // namespace pvc
