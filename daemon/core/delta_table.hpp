#pragma once
// Counts for (site, article) keys gathered by one I/O thread for one local
// day between two flushes. Open addressing with linear probing over 8-byte
// slots (a tag and where the key's record is); the records live in one arena
// and hold each key's count next to its bytes, so a hit reads a small slot
// array (more of it stays in the CPU cache) and one record, which the probe
// must read anyway to compare the key. A record names its site by number
// (each site's bytes are kept once per table: a deployment counts one site
// or a few), so a key costs its count, a 4-byte header and its article's
// bytes, and matching a key compares one header word and the article.
// `reset` keeps the slots and the arena, so a
// table reused across flushes stops allocating once it has seen its busiest
// interval: a hit for a key already present costs a hash, a probe and an add.
//
// Not thread-safe: one thread writes it; it is handed to the flusher whole.
#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/hash.hpp"

namespace pvc {

class delta_table {
 public:
  // How much one table holds at most: sites it numbers, and bytes of key
  // records (a record's 32-bit offset must reach it). Tests pass less to
  // reach the limits.
  struct limits {
    std::size_t sites = max_sites;
    std::size_t key_bytes = max_key_bytes;
  };
  explicit delta_table(std::size_t initial_slots = 1024) : delta_table(initial_slots, limits{}) {}
  delta_table(std::size_t initial_slots, limits l);
  // Not copyable: the site views point into this table's own storage.
  delta_table(const delta_table&) = delete;
  delta_table& operator=(const delta_table&) = delete;

  // refused: admit() said no. no_room: the key's site is new here and the
  // table has numbered limits.sites sites already (by default max_sites, a
  // cap far above any max_sites setting; see reset()). full: the key's
  // record would not fit in limits.key_bytes (4 GiB by default: about 100M
  // keys). The table is unchanged by all three.
  enum class add_result { added, inserted, refused, no_room, full };

  // The longest article a key may have (ids are at most 200 bytes), and the
  // most sites one table numbers.
  static constexpr unsigned length_bits = 10;
  static constexpr std::size_t max_article_bytes = (std::size_t{1} << length_bits) - 1;
  // Site numbers stop one short of 2^22, so no record has the all-ones header.
  static constexpr std::size_t max_sites = (std::size_t{1} << (32 - length_bits)) - 1;
  // Every record starts below 2^32 bytes into the arena.
  static constexpr std::size_t max_key_bytes = std::size_t{1} << 32;

  // Adds n views to (site, article). Ids must already be validated
  // (1..200 bytes each; the table takes articles up to max_article_bytes). A
  // key not yet in the table is inserted only if admit(site, hash) agrees:
  // the check runs once per key and interval, not per hit.
  template <class Admit>
  add_result add(std::string_view site, std::string_view article, std::uint64_t n, Admit&& admit) {
    return add_hashed(key_hash(site, article), site, find_site(site), article, n, admit);
  }
  // add() with every key admitted; throws std::length_error on no_room or
  // full (a caller that merges tables checks can_take_all_of first).
  void add(std::string_view site, std::string_view article, std::uint64_t n) {
    const add_result r =
        add(site, article, n, [](std::string_view, std::uint64_t) { return true; });
    if (r == add_result::no_room || r == add_result::full) {
      throw std::length_error("delta_table: no room for another key");
    }
  }

  // add() for a key whose key_hash and find_site the caller has taken
  // already (a batch hashes every key first to prefetch its slot, and looks
  // its sites up once; see counter_shard::record_batch). `site_number` may
  // be no_site for a site an earlier add has since brought in.
  template <class Admit>
  add_result add_hashed(std::uint64_t h, std::string_view site, std::uint32_t site_number,
                        std::string_view article, std::uint64_t n, Admit&& admit) {
    if (site_number == no_site) site_number = find_site(site);
    // With no key of this site here, no record matches: the probe only
    // looks for the empty slot.
    const std::uint32_t header =
        site_number == no_site ? no_header : record_header(site_number, article.size());
    const std::uint32_t tag = tag_of(h);
    std::size_t i = index_of(h);
    for (;;) {
      const slot& s = slots_[i];
      if (s.key_offset == empty_slot) break;
      if (s.tag == tag && matches(s, header, article)) {
        add_to_count(s, n);
        total_ += n;
        return add_result::added;
      }
      i = (i + 1) & mask_;
    }
    if (site_number == no_site && site_names_.size() >= limits_.sites) return add_result::no_room;
    if (keys_.size() + record_prefix_bytes + article.size() > limits_.key_bytes)
      return add_result::full;
    if (!admit(site, h)) return add_result::refused;
    insert(i, h, site, site_number, article, n);
    return add_result::inserted;
  }

  // The number this table gives `site`, or no_site when it has not numbered
  // it (then it holds no key of it).
  static constexpr std::uint32_t no_site = ~std::uint32_t{0};
  std::uint32_t find_site(std::string_view site) { return find_site_entry(site).number; }

  // A site's hash (site_hash) and number (find_site) in one lookup. The last
  // few sites found are checked first, by comparing names: a datagram's or a
  // connection's hits name one site or a few, and lines that alternate
  // between a few sites (a CDN's log forwarder) otherwise cost a hash and a
  // map lookup each (7.6% of pvcd's CPU on the bench's 3-site datagrams).
  struct site_entry {
    std::uint64_t hash;
    std::uint32_t number;
  };
  site_entry find_site_entry(std::string_view site) {
    for (const recent_site& r : recent_sites_)
      if (same_id(r.name, site)) return {r.hash, r.number};
    const std::uint64_t hash = site_hash(site);
    const auto it = site_numbers_.find(site);
    if (it == site_numbers_.end()) return {hash, no_site};
    recent_sites_[next_recent_] = {it->first, hash, it->second};
    next_recent_ = (next_recent_ + 1) % recent_sites_.size();
    return {hash, it->second};
  }

  // The table's hash of a key (seeded per process).
  std::uint64_t key_hash(std::string_view site, std::string_view article) const noexcept {
    return hash_key(site, article, seed_);
  }
  // key_hash in two steps, for a batch whose hits mostly share a site: the
  // site's part once, then each article's from it.
  std::uint64_t site_hash(std::string_view site) const noexcept { return hash_bytes(site, seed_); }
  static std::uint64_t key_hash_in_site(std::uint64_t site_hash,
                                        std::string_view article) noexcept {
    return hash_bytes(article, site_hash);
  }

  // Cache warming for a coming add_hashed(h, site, site_number, article,
  // ...), in two steps so that a batch overlaps its misses: prefetch_slot(h)
  // for every key of the batch, then prefetch_key(h, article.size()) for
  // every key. prefetch_key reads the slot (a real load: it waits if the slot
  // has not arrived yet) to find the record the probe will compare, and
  // prefetches it. Neither changes the table.
  void prefetch_slot(std::uint64_t h) const noexcept { __builtin_prefetch(&slots_[index_of(h)]); }
  void prefetch_key(std::uint64_t h, std::size_t article_bytes) const noexcept {
    const slot& s = slots_[index_of(h)];
    if (s.tag == tag_of(h) && s.key_offset != empty_slot) {
      const char* k = keys_.data() + s.key_offset;
      __builtin_prefetch(k);
      __builtin_prefetch(k + record_prefix_bytes + article_bytes - 1);
    }
  }

  // Empties the table for `day`, keeping its memory and its site numbers
  // (up to sites_kept_across_reset of them; more are dropped, to be numbered
  // again as keys bring them back).
  static constexpr std::size_t sites_kept_across_reset = 65536;
  void reset(std::int32_t day);

  // Whether every key of `other` fits here (a merge of the two): its sites
  // can be numbered and its records fit.
  bool can_take_all_of(const delta_table& other) const noexcept {
    return site_names_.size() + other.site_names_.size() <= limits_.sites &&
           keys_.size() + other.keys_.size() <= limits_.key_bytes;
  }

  std::int32_t day() const noexcept { return day_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::uint64_t total() const noexcept { return total_; }
  std::size_t memory_bytes() const noexcept {
    return slots_.capacity() * sizeof(slot) + keys_.capacity() + site_bytes_;
  }

  // fn(site, article, count) for every key, in slot order. The slots are
  // read in order but their keys are spread over the key bytes, so the keys
  // of slots a few places ahead are prefetched.
  template <class Fn>
  void for_each(Fn&& fn) const {
    constexpr std::size_t ahead = 16;
    const std::size_t n = slots_.size();
    for (std::size_t i = 0; i < n; ++i) {
      if (i + ahead < n && slots_[i + ahead].key_offset != empty_slot)
        __builtin_prefetch(keys_.data() + slots_[i + ahead].key_offset);
      const slot& s = slots_[i];
      if (s.key_offset == empty_slot) continue;
      const key_ref k = key_at(s);
      fn(k.site, k.article, count_at(s));
    }
  }

 private:
  struct alignas(8) slot {  // 8-aligned: eight to a cache line, never split across two
    // The hash's top 32 bits. The slot index is the hash's top bits too (at
    // most 32 of them), so growing re-places a slot from its tag alone,
    // without reading or hashing its key again.
    std::uint32_t tag;
    std::uint32_t key_offset;  // where the key's record starts in keys_, or empty_slot
  };
  static_assert(sizeof(slot) == 8);
  // keys_ starts with a pad no record uses, so offset 0 marks an empty slot
  // (and zeroed memory is an empty table).
  static constexpr std::uint32_t empty_slot = 0;
  static constexpr std::size_t keys_pad_bytes = 8;

  // A key's record in keys_: its count (64 bits), a 32-bit header, the
  // site's number (22 bits) and the article's length (10 bits), then the
  // article's bytes. One compare of the header matches both the site and
  // the length. Records are not aligned: they are read and written with
  // memcpy, which x86-64 and arm64 do as plain loads and stores.
  static constexpr std::size_t count_bytes = 8;
  static constexpr std::size_t header_bytes = 4;
  static constexpr std::size_t record_prefix_bytes = count_bytes + header_bytes;
  static constexpr std::uint32_t no_header = ~std::uint32_t{0};
  static std::uint32_t record_header(std::uint32_t site_number,
                                     std::size_t article_bytes) noexcept {
    return site_number << length_bits | static_cast<std::uint32_t>(article_bytes);
  }
  std::uint32_t header_at(const slot& s) const noexcept {
    return static_cast<std::uint32_t>(detail::load4(keys_.data() + s.key_offset + count_bytes));
  }
  std::uint64_t count_at(const slot& s) const noexcept {
    return detail::load8(keys_.data() + s.key_offset);
  }
  void add_to_count(const slot& s, std::uint64_t n) noexcept {
    const std::uint64_t count = count_at(s) + n;
    std::memcpy(keys_.data() + s.key_offset, &count, count_bytes);
  }
  struct key_ref {
    std::string_view site, article;
  };
  key_ref key_at(const slot& s) const noexcept {
    const std::uint32_t header = header_at(s);
    return {site_names_[header >> length_bits],
            {keys_.data() + s.key_offset + record_prefix_bytes, header & max_article_bytes}};
  }

  static std::uint32_t tag_of(std::uint64_t h) noexcept {
    return static_cast<std::uint32_t>(h >> 32);
  }
  std::size_t index_of(std::uint64_t h) const noexcept {
    return static_cast<std::size_t>(h >> shift_);
  }

  bool matches(const slot& s, std::uint32_t header, std::string_view article) const noexcept {
    return header_at(s) == header && bytes_equal(keys_.data() + s.key_offset + record_prefix_bytes,
                                                 article.data(), article.size());
  }
  // Stores a new key; `i` is the empty slot the probe for it ended on.
  // Numbers the site first if it is new here (site_number == no_site).
  void insert(std::size_t i, std::uint64_t h, std::string_view site, std::uint32_t site_number,
              std::string_view article, std::uint64_t n);
  std::uint32_t add_site(std::string_view site);
  void grow();

  std::vector<slot> slots_;
  std::vector<char> keys_;
  std::size_t mask_;
  unsigned shift_;  // 64 - log2(slot count)
  std::size_t size_ = 0;
  std::uint64_t total_ = 0;
  std::uint64_t seed_;
  std::int32_t day_ = 0;

  // The sites of this table's keys: their bytes (a deque never moves its
  // strings, so the views stay valid), by number, and numbers by name.
  std::deque<std::string> site_storage_;
  std::vector<std::string_view> site_names_;
  std::unordered_map<std::string_view, std::uint32_t, seeded_string_hash> site_numbers_;
  std::size_t site_bytes_ = 0;  // names and an estimate of their bookkeeping
  // find_site_entry's cache: names view site_storage_ (an empty name matches
  // no site: ids have at least one byte).
  struct recent_site {
    std::string_view name;
    std::uint64_t hash = 0;
    std::uint32_t number = no_site;
  };
  std::array<recent_site, 4> recent_sites_{};
  std::size_t next_recent_ = 0;
  limits limits_;
};

}  // namespace pvc
