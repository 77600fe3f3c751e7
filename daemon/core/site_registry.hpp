#pragma once
// The set of sites pvcd counts, capped at max_sites. Shared by all I/O
// threads, but each thread keeps its own cache of sites it has admitted
// (see counter_shard), so the mutex here is taken once per site per thread,
// never per hit.
//
// Thread-safe.
#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace pvc {

class site_registry {
 public:
  explicit site_registry(std::size_t max_sites) : max_sites_(max_sites) {}

  // Adds a site found in the store at start-up; the cap does not apply to
  // sites that already have counts.
  void preload(std::string_view site);

  // True when the site is known or there is room for it.
  bool admit(std::string_view site);

  bool contains(std::string_view site) const;
  std::vector<std::string> list() const;
  std::size_t size() const;
  std::size_t max_sites() const noexcept { return max_sites_; }

 private:
  mutable std::mutex mutex_;
  std::set<std::string, std::less<>> sites_;
  std::size_t max_sites_;
};

}  // namespace pvc
