#pragma once
// Article titles in the store (store_titles.cpp; keys::article_title). Beacon
// titles arrive with the flusher's batches (title_table::collect); these
// are the reads, the admin change and the start-up scan.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/store_types.hpp"

namespace pvc {

class store;

// The titles of `articles` of `site` over one snapshot, "" where none.
// Returns "" or the error.
std::string read_titles(const store& st, std::string_view site,
                        std::span<const std::string_view> articles, std::vector<std::string>& out);

// Sets (or with `title` "" removes) an article's title, with its audit
// record, in one synced write. not_found when removing a title that is not
// there. The details name the title before and after.
admin_outcome set_title(store& st, std::string_view site, std::string_view article,
                        std::string_view title, std::int64_t now_unix, const audit_entry& audit);

// fn(site, article, title, set_at_unix) for every stored title (start-up).
std::string for_each_title(
    const store& st,
    const std::function<void(std::string_view site, std::string_view article,
                             std::string_view title, std::int64_t set_at_unix)>& fn);

}  // namespace pvc
