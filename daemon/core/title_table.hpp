#pragma once
// The titles pvcd knows, in memory: the bounds on how many there are and how
// often a beacon may change one. The titles themselves live in the store
// (keys::article_title); this table keeps what the checks need.
//
//   caps      max_titles in all and max_titles_per_site per site; a title
//             for an article without one past either cap is refused (admin
//             changes too: the caps bound memory, whoever asks).
//   interval  a beacon's title replaces the article's title only when the
//             last change (by beacon or admin) is at least
//             title_change_interval old; the first title of an article is
//             taken at once. Admin changes are never held back, and they
//             start the interval, so a beacon cannot undo an editor's fix
//             at once.
//
// Beacon titles are written by the flusher with its next batch (collect /
// written, like the visitor sketches); admin changes are written by the
// admin route itself and only noted here (and written once more with the
// next flush when a beacon title was in a flush's batch meanwhile, so the
// admin's change is the last write either way).
//
// Memory: per title a 64-bit fingerprint of (site, article), a 64-bit hash
// of the title and its change time in an unordered_map node (memory_bytes()
// reports the estimate, README states it), plus one count per site. A beacon
// title waiting for its flush also holds its strings until the flush.
// Fingerprints are 64-bit hashes with a per-process seed, as in key_guard:
// two articles sharing one (about 1 in 2^64 per pair) would share a rate.
//
// Thread-safety: all members; offer() takes a shared lock when the title is
// unchanged (the common case for a page's every view), exclusive otherwise.
#include <atomic>
#include <cstdint>
#include <functional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/widget_keys.hpp"

namespace pvc {

struct title_limits {
  std::size_t max_titles = 1'000'000;
  std::size_t max_per_site = 100'000;
  std::int64_t change_interval_seconds = 3600;
};

enum class title_verdict : std::uint8_t {
  taken,      // new or changed: written with the next flush (beacons)
  unchanged,  // the article has this title already
  too_soon,   // changed less than the interval ago
  site_full,  // the site has max_titles_per_site titles
  all_full,   // pvcd has max_titles titles
};

class title_table {
 public:
  explicit title_table(title_limits limits);

  // A stored title, at start-up or just imported (`changed_unix`: when it
  // was set); it replaces a beacon title not yet written. False
  // when past a cap: it stays in the store and is served, but is not
  // tracked (a beacon then cannot add a title while the table is full).
  bool preload(std::string_view site, std::string_view article, std::string_view title,
               std::int64_t changed_unix);

  // A beacon's title (already checked valid and trusted) at `now_unix`.
  title_verdict offer(std::string_view site, std::string_view article, std::string_view title,
                      std::int64_t now_unix);

  // Admin changes. room_for: taken when a title may be set now (no
  // interval), or the cap that refuses it. noted_set/noted_clear: after the
  // change is written; they drop a beacon title still waiting for its flush.
  title_verdict room_for(std::string_view site, std::string_view article) const;
  void noted_set(std::string_view site, std::string_view article, std::string_view title,
                 std::int64_t now_unix);
  void noted_clear(std::string_view site, std::string_view article, std::int64_t now_unix = 0);

  // Cluster mode: told every title written to the store (admin changes and
  // beacon titles once their flush landed; "" = removed), with its time, so
  // the cluster gets it too. Set before any change.
  using change_fn = std::function<void(std::string_view site, std::string_view article,
                                       std::string_view title, std::int64_t changed_unix)>;
  void set_change_listener(change_fn fn) { changed_ = std::move(fn); }
  bool shares_changes() const noexcept { return static_cast<bool>(changed_); }

  // The flusher: the beacon titles taken since the last call, as key puts
  // (then `written` with the outcome: what failed is collected again).
  void collect(key_writes& out);
  void written(bool ok);

  std::size_t size() const;
  std::size_t memory_bytes() const;
  std::uint64_t refused(title_verdict v) const noexcept {
    return refused_[static_cast<std::size_t>(v)].load(std::memory_order_relaxed);
  }
  const title_limits& limits() const noexcept { return limits_; }

  // Estimated bytes of one tracked title (node, bucket, fingerprint, hash, time).
  static constexpr std::size_t bytes_per_title = 64;

 private:
  struct entry {
    std::uint64_t title_hash = 0;
    std::int64_t changed_unix = 0;
  };
  struct pending_title {
    std::string site, article, title;
    std::int64_t changed_unix = 0;
    bool remove = false;  // an admin removal written again (supersede_locked)
  };

  // Under an exclusive lock: a new entry when the caps allow it.
  title_verdict add_locked(std::uint64_t fp, std::string_view site);
  title_verdict room_locked(std::uint64_t fp, std::string_view site) const;
  // Under an exclusive lock, after an admin change or import of the title
  // (`title` "" = removed) was written: no beacon title may undo it.
  void supersede_locked(std::uint64_t fp, std::string_view site, std::string_view article,
                        std::string_view title, std::int64_t changed_unix);

  const title_limits limits_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::uint64_t, entry> entries_;
  std::unordered_map<std::string, std::size_t> per_site_;
  std::unordered_map<std::uint64_t, pending_title> pending_;    // taken, not yet collected
  std::unordered_map<std::uint64_t, pending_title> in_flight_;  // collected, outcome unknown
  mutable std::atomic<std::uint64_t> refused_[5]{};             // room_for (const) counts too
  change_fn changed_;
};

}  // namespace pvc
