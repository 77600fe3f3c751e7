#pragma once
// Store keys of the widget's data, beside the counts of store_keys.hpp
// (prefix bytes T, D, M, S, # are taken there):
//
//   K d <YYYYMMDD>          the day's visitor salt (16 bytes); deleted when the day ends
//   K m <YYYYMM>            the month's visitor salt; deleted when the month ends
//   V d <YYYYMMDD> <site>   the day's distinct-visitor sketch (hyperloglog.hpp)
//   V m <YYYYMM> <site>     the month's sketch
//   U d <YYYYMMDD> <site>   distinct visitors of a finished day (8-byte count)
//   U m <YYYYMM> <site>     distinct visitors of a finished month
//
// A sketch is kept while its period runs; when the period ends its estimate
// moves to a U key (8 bytes instead of 16 KiB) and the sketch is deleted.
// Salts are written so a restart does not re-key visitors mid-period (which
// would count everyone again); no address or User-Agent is ever written.
//
// Plus `key_writes`, extra puts and deletes that the flusher adds to its
// batch (see flusher.hpp).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pvc {

struct key_writes {
  std::vector<std::pair<std::string, std::string>> put;
  std::vector<std::string> erase;

  bool empty() const noexcept { return put.empty() && erase.empty(); }
  void clear() {
    put.clear();
    erase.clear();
  }
};

namespace keys {

inline std::string day_salt(std::string_view day) {
  return "Kd" + std::string(day);
}
inline std::string month_salt(std::string_view month) {
  return "Km" + std::string(month);
}
inline std::string day_sketch(std::string_view day, std::string_view site) {
  return "Vd" + std::string(day) + std::string(site);
}
inline std::string month_sketch(std::string_view month, std::string_view site) {
  return "Vm" + std::string(month) + std::string(site);
}
inline std::string day_visitors(std::string_view day, std::string_view site) {
  return "Ud" + std::string(day) + std::string(site);
}
inline std::string month_visitors(std::string_view month, std::string_view site) {
  return "Um" + std::string(month) + std::string(site);
}

}  // namespace keys
}  // namespace pvc
