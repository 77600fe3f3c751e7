#pragma once
// Imports (store_imports.cpp): rows are checked and staged under a session
// id (nothing visible), then committed in one atomic write, or discarded.
// How staging and the commit work: store_types.hpp.
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "store/store_types.hpp"

namespace pvc {

class store;

admin_outcome stage_import(store& st, std::string_view session, std::span<const staged_row> rows);
// After the commit, `on_article` is called for each site it touched
// (article "") and each article given an all-time count, and `on_title` for
// each title it set (titles replace the stored ones in both modes).
admin_outcome commit_import(
    store& st, std::string_view session, import_mode mode, const audit_entry& audit,
    const std::function<void(std::string_view site, std::string_view article)>& on_article,
    const std::function<void(std::string_view site, std::string_view article,
                             std::string_view title, std::int64_t set_at)>& on_title = {});
// Drops a session's staged rows; "" drops every session's (start-up).
std::string discard_import(store& st, std::string_view session);

}  // namespace pvc
