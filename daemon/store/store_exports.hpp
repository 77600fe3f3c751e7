#pragma once
// Exports (store_exports.cpp), paged over one snapshot: rows after
// `after_key` (a key a previous page returned; "" from the start), at most
// `limit`; `next_key` is "" after the last row. snapshot() is null when the
// store is closed (store_impl.hpp).
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/store_types.hpp"

namespace pvc {

class store;

std::shared_ptr<const store_snapshot> snapshot(const store& st);
std::string export_rows(const store& st, const store_snapshot& snap, const export_filter& filter,
                        std::string_view after_key, std::size_t limit, std::vector<export_row>& out,
                        std::string& next_key);

}  // namespace pvc
