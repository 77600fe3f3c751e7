#include "core/http_stats.hpp"

#include <mutex>
#include <stdexcept>

namespace pvc {
namespace {

std::mutex route_mutex;
std::vector<std::string>& route_labels() {
  static std::vector<std::string> labels{"other"};
  return labels;
}

}  // namespace

http_route intern_http_route(std::string_view label) {
  std::lock_guard lock(route_mutex);
  auto& labels = route_labels();
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == label) return static_cast<http_route>(i);
  }
  if (labels.size() == max_http_routes) throw std::length_error("too many HTTP routes");
  labels.emplace_back(label);
  return static_cast<http_route>(labels.size() - 1);
}

std::vector<std::string> http_route_labels() {
  std::lock_guard lock(route_mutex);
  return route_labels();
}

}  // namespace pvc
