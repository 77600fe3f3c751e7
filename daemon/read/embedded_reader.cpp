#include "read/embedded_reader.hpp"

#include <algorithm>

#include "core/counter_table.hpp"
#include "core/store_keys.hpp"
#include "read/top_lists.hpp"
#include "store/store.hpp"
#include "store/store_exports.hpp"
#include "store/store_titles.hpp"

namespace pvc {
namespace {

// An export over one store snapshot (store_impl.hpp: a reopen after a disk
// error releases it, and the next page then says to start again).
class store_export final : public export_cursor {
 public:
  store_export(const store& db, std::shared_ptr<const store_snapshot> snap, export_filter filter)
      : db_(db), snap_(std::move(snap)), filter_(std::move(filter)) {}

  std::string page(std::string_view after_key, std::size_t limit, std::vector<export_row>& out,
                   std::string& next_key) override {
    return export_rows(db_, *snap_, filter_, after_key, limit, out, next_key);
  }

 private:
  const store& db_;
  std::shared_ptr<const store_snapshot> snap_;
  export_filter filter_;
};

}  // namespace

embedded_reader::embedded_reader(const store& db, const counter_table& table,
                                 visitor_counter& visitors, top_lists& tops, clock_fn now)
    : db_(db), table_(table), visitors_(visitors), tops_(tops), now_(std::move(now)) {
  if (!now_) now_ = [] { return steady_seconds(); };
}

day_number embedded_reader::today() const {
  return table_.current_day();
}

std::string read_store_counts(const store& db, std::span<const count_ref> refs,
                              std::vector<std::uint64_t>& out) {
  std::vector<std::string> key_strings;
  key_strings.reserve(refs.size());
  for (const count_ref& ref : refs) {
    key_strings.push_back(keys::count_key(ref));
    if (key_strings.back().empty()) return "the embedded store keeps no month per article";
  }
  return db.read_counts(key_strings, out);
}

std::string embedded_reader::counts(std::span<const count_ref> refs,
                                    std::vector<std::uint64_t>& out) {
  return read_store_counts(db_, refs, out);
}

std::vector<std::string> embedded_reader::site_names() {
  std::vector<std::string> names = db_.sites();
  std::sort(names.begin(), names.end());
  return names;
}

visitor_counts embedded_reader::visitors(std::string_view site, std::size_t thread) {
  return visitors_.counts(thread, site, today(), now_());
}

std::shared_ptr<const top_list> embedded_reader::cached_top(std::string_view site,
                                                            top_period period) {
  return tops_.cached(site, period);
}

top_list embedded_reader::top(std::string_view site, top_period period, std::size_t n) {
  return tops_.compute(site, period, n);
}

std::vector<std::string> embedded_reader::titles(std::string_view site,
                                                 std::span<const std::string_view> articles) {
  std::vector<std::string> out;
  // A title is decoration: a failed read shows the ids alone, not an error.
  if (!read_titles(db_, site, articles, out).empty()) out.assign(articles.size(), std::string());
  return out;
}

std::shared_ptr<export_cursor> embedded_reader::open_export(const export_filter& filter,
                                                            std::string& error) {
  auto snap = snapshot(db_);
  if (!snap) {
    error = "the store is closed after a disk error; try again later";
    return nullptr;
  }
  return std::make_shared<store_export>(db_, std::move(snap), filter);
}

}  // namespace pvc
