#include "core/site_registry.hpp"

namespace pvc {

void site_registry::preload(std::string_view site) {
  std::lock_guard lock(mutex_);
  sites_.emplace(site);
}

bool site_registry::admit(std::string_view site) {
  std::lock_guard lock(mutex_);
  if (sites_.find(site) != sites_.end()) return true;
  if (sites_.size() >= max_sites_) return false;
  sites_.emplace(site);
  return true;
}

bool site_registry::contains(std::string_view site) const {
  std::lock_guard lock(mutex_);
  return sites_.find(site) != sites_.end();
}

std::vector<std::string> site_registry::list() const {
  std::lock_guard lock(mutex_);
  return {sites_.begin(), sites_.end()};
}

std::size_t site_registry::size() const {
  std::lock_guard lock(mutex_);
  return sites_.size();
}

}  // namespace pvc
