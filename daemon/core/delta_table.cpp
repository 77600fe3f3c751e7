#include "core/delta_table.hpp"

#include <bit>
#include <cassert>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "core/hash.hpp"

namespace pvc {

namespace {

// The index is the hash's top bits and the tag keeps the top 32, so a table
// may have at most 2^32 slots (64 GiB of them: never reached in practice).
constexpr unsigned max_index_bits = 32;

unsigned shift_for(std::size_t slots) {
  return 64u - static_cast<unsigned>(std::countr_zero(slots));
}

}  // namespace

delta_table::delta_table(std::size_t initial_slots, limits l)
    : slots_(std::bit_ceil(initial_slots < 16 ? std::size_t{16} : initial_slots)),
      mask_(slots_.size() - 1),
      shift_(shift_for(slots_.size())),
      seed_(process_hash_seed()),
      limits_{l.sites < max_sites ? l.sites : max_sites,
              l.key_bytes < max_key_bytes ? l.key_bytes : max_key_bytes} {
  keys_.resize(keys_pad_bytes);
}

void delta_table::insert(std::size_t i, std::uint64_t h, std::string_view site,
                         std::uint32_t site_number, std::string_view article, std::uint64_t n) {
  // Ids are validated before they get here (at most 200 bytes each).
  assert(article.size() <= max_article_bytes);
  if (site_number == no_site) site_number = add_site(site);
  // Keep the load factor at or below 3/4 so probes stay short.
  if ((size_ + 1) * 4 > slots_.size() * 3) {
    grow();
    i = index_of(h);
    while (slots_[i].key_offset != empty_slot)
      i = (i + 1) & mask_;
  }
  // Records start below 4 GiB, so a slot's 32-bit offset reaches them.
  if (keys_.size() > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("delta_table: too many key bytes");
  slot& s = slots_[i];
  s.key_offset = static_cast<std::uint32_t>(keys_.size());
  s.tag = tag_of(h);
  // The count and the header as count_at and header_at read them back.
  const std::uint32_t header = record_header(site_number, article.size());
  char prefix[record_prefix_bytes];
  std::memcpy(prefix, &n, count_bytes);
  std::memcpy(prefix + count_bytes, &header, header_bytes);
  keys_.insert(keys_.end(), prefix, prefix + record_prefix_bytes);
  keys_.insert(keys_.end(), article.begin(), article.end());
  ++size_;
  total_ += n;
}

std::uint32_t delta_table::add_site(std::string_view site) {
  assert(site_names_.size() < limits_.sites);  // add_hashed checked
  const auto number = static_cast<std::uint32_t>(site_names_.size());
  const std::string_view name = site_storage_.emplace_back(site);
  site_names_.push_back(name);
  site_numbers_.emplace(name, number);
  // The name, its string, its view, and a map node with its bucket.
  site_bytes_ += site.size() + sizeof(std::string) + sizeof(std::string_view) + 48;
  return number;
}

void delta_table::grow() {
  if (64u - shift_ >= max_index_bits) throw std::length_error("delta_table: too many keys");
  std::vector<slot> bigger(slots_.size() * 2);
  const std::size_t mask = bigger.size() - 1;
  const unsigned shift = shift_ - 1;
  for (const slot& s : slots_) {
    if (s.key_offset == empty_slot) continue;
    // The top bits of the hash, from the tag: the same index a full hash gives.
    std::size_t i = static_cast<std::size_t>((std::uint64_t{s.tag} << 32) >> shift);
    while (bigger[i].key_offset != empty_slot)
      i = (i + 1) & mask;
    bigger[i] = s;
  }
  slots_.swap(bigger);
  mask_ = mask;
  shift_ = shift;
}

void delta_table::reset(std::int32_t day) {
  if (size_ != 0) std::memset(slots_.data(), 0, slots_.size() * sizeof(slot));
  keys_.resize(keys_pad_bytes);
  // The site numbers stay: the next interval's keys are mostly of the same
  // sites. Beyond sites_kept_across_reset (imports can bring in more sites
  // than the max_sites setting lets clients add) they go, so a table's site
  // list holds one interval's sites at most.
  if (site_names_.size() > sites_kept_across_reset) {
    site_storage_.clear();
    site_names_.clear();
    site_numbers_.clear();
    site_bytes_ = 0;
    recent_sites_ = {};
  }
  size_ = 0;
  total_ = 0;
  day_ = day;
}

}  // namespace pvc
