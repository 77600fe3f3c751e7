#include "core/delta_table.hpp"

#include <bit>
#include <cstring>

#include "core/hash.hpp"

namespace pvc {

delta_table::delta_table(std::size_t initial_slots)
    : slots_(std::bit_ceil(initial_slots < 16 ? std::size_t{16} : initial_slots)),
      mask_(slots_.size() - 1),
      seed_(process_hash_seed()) {}

void delta_table::insert(std::size_t i, std::uint64_t h, std::string_view site,
                         std::string_view article, std::uint64_t n) {
  // Keep the load factor at or below 3/4 so probes stay short.
  if ((size_ + 1) * 4 > slots_.size() * 3) {
    grow();
    i = h & mask_;
    while (slots_[i].count != 0)
      i = (i + 1) & mask_;
  }
  slot& s = slots_[i];
  s.hash = h;
  s.count = n;
  s.key_offset = static_cast<std::uint32_t>(keys_.size());
  s.site_len = static_cast<std::uint16_t>(site.size());
  s.article_len = static_cast<std::uint16_t>(article.size());
  keys_.insert(keys_.end(), site.begin(), site.end());
  keys_.insert(keys_.end(), article.begin(), article.end());
  ++size_;
  total_ += n;
}

void delta_table::grow() {
  std::vector<slot> bigger(slots_.size() * 2);
  std::size_t mask = bigger.size() - 1;
  for (const slot& s : slots_) {
    if (s.count == 0) continue;
    std::size_t i = s.hash & mask;
    while (bigger[i].count != 0)
      i = (i + 1) & mask;
    bigger[i] = s;
  }
  slots_.swap(bigger);
  mask_ = mask;
}

void delta_table::reset(std::int32_t day) {
  if (size_ != 0) std::memset(slots_.data(), 0, slots_.size() * sizeof(slot));
  keys_.clear();
  size_ = 0;
  total_ = 0;
  day_ = day;
}

}  // namespace pvc
