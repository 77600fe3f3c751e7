#pragma once
// The reader of the embedded default: counts from the RocksDB store (one
// snapshot per read), distinct visitors from the in-memory sketches that the
// visitor tracker fills (ingest/visitor_tracker.hpp), most viewed from
// top_lists. Thread-safety: as reader.
#include <cstdint>
#include <functional>

#include "read/reader.hpp"

namespace pvc {

class store;
class counter_table;
class top_lists;

class embedded_reader final : public reader {
 public:
  // Steady time in whole seconds ("online now"); tests inject it.
  using clock_fn = std::function<std::int64_t()>;
  embedded_reader(const store& db, const counter_table& table, visitor_counter& visitors,
                  top_lists& tops, clock_fn now = {});

  day_number today() const override;
  std::string counts(std::span<const count_ref> refs, std::vector<std::uint64_t>& out) override;
  std::vector<std::string> site_names() override;
  visitor_counts visitors(std::string_view site, std::size_t thread) override;
  std::shared_ptr<const top_list> cached_top(std::string_view site, top_period period) override;
  top_list top(std::string_view site, top_period period, std::size_t n) override;
  std::vector<std::string> titles(std::string_view site,
                                  std::span<const std::string_view> articles) override;
  std::shared_ptr<export_cursor> open_export(const export_filter& filter,
                                             std::string& error) override;

 private:
  const store& db_;
  const counter_table& table_;
  visitor_counter& visitors_;
  top_lists& tops_;
  clock_fn now_;
};

// reader::counts over the store alone (also the store's tests' way to read views).
std::string read_store_counts(const store& db, std::span<const count_ref> refs,
                              std::vector<std::uint64_t>& out);

}  // namespace pvc
