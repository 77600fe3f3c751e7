#pragma once
// The read side as main.cpp wires it (visitor tracker, most-viewed lists,
// the embedded reader), over a test's store and counter table.
#include <chrono>

#include "ingest/visitor_tracker.hpp"
#include "read/embedded_reader.hpp"
#include "read/top_lists.hpp"
#include "store/store.hpp"

namespace pvc::test {

struct read_side {
  using clock_fn = std::function<std::int64_t()>;
  read_side(store& db, counter_table& table, std::size_t threads = 1, visitor_options options = {},
            clock_fn steady = {}, std::chrono::seconds top_refresh = std::chrono::seconds(10))
      : visitors(table, threads, options, steady),
        tops(
            db, [&table] { return table.current_day(); }, top_refresh, steady),
        reader(db, table, visitors.visitors(), tops, steady) {}

  visitor_tracker visitors;
  top_lists tops;
  embedded_reader reader;
};

}  // namespace pvc::test
