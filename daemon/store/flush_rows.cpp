#include "store/flush_rows.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>

#include "core/hash.hpp"
#include "core/store_keys.hpp"

namespace pvc {
namespace {

// Key order of (site, article), days apart or together, given the rows'
// common article prefix length.
struct flush_row_order {
  std::size_t common;
  bool with_day;
  bool operator()(const flush_row& a, const flush_row& b) const {
    const std::uint64_t x = with_day ? a.day_site : a.site(), y = with_day ? b.day_site : b.site();
    if (x != y) return x < y;
    if (a.head != b.head) return a.head < b.head;
    return a.article().substr(common) < b.article().substr(common);
  }
};

std::uint64_t head_of(std::string_view article, std::size_t from) {
  std::uint64_t h = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    const std::size_t at = from + i;
    // Missing bytes read as 0, below every id byte: a shorter id sorts first.
    h = (h << 8) | (at < article.size() ? static_cast<unsigned char>(article[at]) : 0u);
  }
  return h;
}

}  // namespace

sorted_flush sort_flush(std::span<const delta_table* const> tables) {
  sorted_flush out;
  std::size_t total = 0;
  for (const delta_table* t : tables)
    total += t->size();
  out.rows.reserve(total);
  // Sites get ids in the order first seen. Rows come in hash order, but most
  // deployments count one site or a few, so a row's site is most often the
  // last row's: that is checked before the map.
  std::unordered_map<std::string_view, std::uint32_t> site_ids;
  std::string_view last_site;
  std::uint32_t last_id = 0;
  std::string_view first_article;
  std::size_t common = std::string_view::npos;
  for (const delta_table* t : tables) {
    t->for_each([&](std::string_view site, std::string_view article, std::uint64_t n) {
      if (!same_id(site, last_site) || out.sites.empty()) {
        const auto [it, added] =
            site_ids.emplace(site, static_cast<std::uint32_t>(out.sites.size()));
        if (added) out.sites.push_back(site);
        last_site = site;
        last_id = it->second;
      }
      out.rows.push_back({flush_row::pack(t->day(), last_id), 0, article.data(),
                          static_cast<std::uint32_t>(article.size()), n});
      if (common == std::string_view::npos) {
        first_article = article;
        common = article.size();
      }
      std::size_t same = 0;
      const std::size_t limit = std::min(common, article.size());
      while (same < limit && article[same] == first_article[same])
        ++same;
      common = same;
    });
  }
  out.common = common == std::string_view::npos ? 0 : common;
  // Ids to ranks in site order.
  std::vector<std::uint32_t> by_rank(out.sites.size());
  for (std::uint32_t i = 0; i < by_rank.size(); ++i)
    by_rank[i] = i;
  std::sort(by_rank.begin(), by_rank.end(),
            [&](std::uint32_t a, std::uint32_t b) { return out.sites[a] < out.sites[b]; });
  std::vector<std::uint32_t> rank_of(by_rank.size());
  std::vector<std::string_view> ranked(by_rank.size());
  for (std::uint32_t r = 0; r < by_rank.size(); ++r) {
    rank_of[by_rank[r]] = r;
    ranked[r] = out.sites[by_rank[r]];
  }
  out.sites = std::move(ranked);
  constexpr std::size_t ahead = 16;  // the articles are spread over the tables' key bytes
  for (std::size_t i = 0; i < out.rows.size(); ++i) {
    if (i + ahead < out.rows.size()) __builtin_prefetch(out.rows[i + ahead].article_data);
    flush_row& r = out.rows[i];
    r.day_site = flush_row::pack(r.day(), rank_of[r.site()]);
    r.head = head_of(r.article(), out.common);
  }
  std::sort(out.rows.begin(), out.rows.end(), flush_row_order{out.common, true});
  return out;
}

namespace {

// Emits `rows` (sorted by site, then article; equal pairs adjacent) as
// <prefix><site> with the site's sum, then <prefix><site>0x00<article> for
// each article, equal pairs summed: the key order of the D and T ranges.
// on_site(site, sum) hears each site's sum as it is emitted.
template <class Emit, class OnSite>
rocksdb::Status emit_site_runs(std::span<const flush_row> rows,
                               std::span<const std::string_view> sites, keys::key_buffer& key,
                               Emit&& emit, OnSite&& on_site) {
  for (std::size_t i = 0; i < rows.size();) {
    const std::uint32_t rank = rows[i].site();
    const std::string_view site = sites[rank];
    std::size_t site_end = i;
    std::uint64_t site_sum = 0;
    for (; site_end < rows.size() && rows[site_end].site() == rank; ++site_end)
      site_sum += rows[site_end].n;
    on_site(site, site_sum);
    if (auto s = emit(key.site(site), site_sum); !s.ok()) return s;
    while (i < site_end) {
      const flush_row& first = rows[i];
      std::uint64_t n = 0;
      for (; i < site_end && rows[i].head == first.head &&
             same_id(rows[i].article(), first.article());
           ++i)
        n += rows[i].n;
      if (auto s = emit(key.article(site, first.article()), n); !s.ok()) return s;
    }
  }
  return rocksdb::Status::OK();
}

}  // namespace

rocksdb::Status write_day_keys(flush_sink& sink, const sorted_flush& sorted,
                               std::uint64_t flush_seq) {
  const std::vector<flush_row>& rows = sorted.rows;
  auto merge = [&](std::string_view key, std::uint64_t n) { return sink.merge(key, n); };
  if (auto s = sink.put(keys::flush_seq, keys::encode_count(flush_seq)); !s.ok()) return s;
  std::map<std::pair<std::string, std::string_view>, std::uint64_t> months;  // (YYYYMM, site)
  for (std::size_t i = 0; i < rows.size();) {
    const day_number day = rows[i].day();
    std::size_t day_end = i;
    while (day_end < rows.size() && rows[day_end].day() == day)
      ++day_end;
    std::string day_prefix = day_key(day);
    day_prefix.insert(day_prefix.begin(), 'D');
    keys::key_buffer day_key_buf(day_prefix);
    const std::span<const flush_row> day_rows(rows.data() + i, day_end - i);
    const std::string month = month_key(day);
    auto add_to_month = [&](std::string_view site, std::uint64_t n) { months[{month, site}] += n; };
    if (auto s = emit_site_runs(day_rows, sorted.sites, day_key_buf, merge, add_to_month); !s.ok())
      return s;
    i = day_end;
  }
  for (const auto& [month_site, n] : months) {
    if (auto s = sink.merge(keys::site_month(month_site.first, month_site.second), n); !s.ok())
      return s;
  }
  for (std::string_view site : sorted.sites) {  // in site order, each once
    if (auto s = sink.put(keys::site_marker(site), ""); !s.ok()) return s;
  }
  return rocksdb::Status::OK();
}

rocksdb::Status write_total_keys(flush_sink& sink, const sorted_flush& sorted) {
  auto merge = [&](std::string_view key, std::uint64_t n) { return sink.merge(key, n); };
  auto ignore = [](std::string_view, std::uint64_t) {};
  keys::key_buffer total_key("T");
  const std::vector<flush_row>& rows = sorted.rows;
  rocksdb::Status s;
  if (rows.empty() || rows.front().day() == rows.back().day()) {
    s = emit_site_runs(rows, sorted.sites, total_key, merge, ignore);
  } else {
    // A flush that spans midnight: the same rows in (site, article) order,
    // on a copy, as the day keys may be written from the
    // day order at the same time (store_bulk.cpp writes both files at once).
    std::vector<flush_row> by_site(rows);
    std::stable_sort(by_site.begin(), by_site.end(), flush_row_order{sorted.common, false});
    s = emit_site_runs(by_site, sorted.sites, total_key, merge, ignore);
  }
  return s;
}

}  // namespace pvc
