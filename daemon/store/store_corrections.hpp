#pragma once
// Corrections to stored counts (store_corrections.cpp): adjust, rename and
// merge. Each journals itself: its audit record goes into the same atomic
// write as the change. How they stay consistent with concurrent flushes:
// store_types.hpp.
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/calendar.hpp"
#include "store/store_types.hpp"

namespace pvc {

class store;

// Adds `delta` (negative to subtract) to an article's and its site's
// all-time totals and, with `day`, to their counts of that day and the
// site's month. Refused when a count would drop below zero.
admin_outcome adjust(store& st, std::string_view site, std::string_view article, std::int64_t delta,
                     std::optional<day_number> day, const audit_entry& audit);
// Moves every count of `from` (all-time and each day) to `to`, which must
// have none. Site totals are unchanged. `from`'s title moves too (merge:
// unless `into` has one; `from`'s is removed either way).
admin_outcome rename_article(store& st, std::string_view site, std::string_view from,
                             std::string_view to, const audit_entry& audit);
// Adds every count of `from` to `into` and removes `from`. Site totals
// are unchanged.
admin_outcome merge_articles(store& st, std::string_view site, std::string_view from,
                             std::string_view into, const audit_entry& audit);

}  // namespace pvc
