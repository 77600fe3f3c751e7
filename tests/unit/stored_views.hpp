#pragma once
// The read layer's views query over a bare store, for the store's and the
// flusher's tests (which have no reader around the store).
#include <span>
#include <string_view>

#include "read/embedded_reader.hpp"
#include "read/reader.hpp"
#include "store/store.hpp"

namespace pvc::test {

inline views_snapshot stored_views(const store& db, std::string_view site,
                                   std::span<const std::string_view> articles, day_number day) {
  return views_from(
      [&db](std::span<const count_ref> refs, std::vector<std::uint64_t>& out) {
        return read_store_counts(db, refs, out);
      },
      day, site, articles);
}

}  // namespace pvc::test
