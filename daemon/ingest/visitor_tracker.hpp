#pragma once
// Distinct visitors from beacons: the visitor gate (it computes a beacon's
// visitor ids and applies reload de-duplication, dedupe_window) and the
// visitor listener (it adds a counted beacon to the site's sketches, and to
// "online now"). It owns the visitor sketches (core/visitors.hpp), which the
// read layer reads, and hands their changes to the flusher.
//
// Thread-safety: the gate and the listener run on the I/O threads with
// per-thread state; restore() before they start; collect/written on the
// flusher thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/dedupe.hpp"
#include "core/visitor_batch.hpp"
#include "core/visitors.hpp"
#include "serve/routes.hpp"

namespace pvc {

class store;

struct visitor_options {
  std::chrono::seconds online_window{300};
  std::chrono::seconds dedupe_window{0};             // 0 = off
  visitor_counter::salt_fn make_salt = random_salt;  // tests make salts predictable
};

class visitor_tracker {
 public:
  // Steady time in whole seconds ("online now", de-duplication); tests inject it.
  using clock_fn = std::function<std::int64_t()>;

  visitor_tracker(const counter_table& table, std::size_t threads, visitor_options options,
                  clock_fn now = {});

  // Start-up, before the I/O threads: restores salts and visitor sketches
  // from `db` and tidies what expired while pvcd was down. "" or an error.
  std::string restore(store& db);

  hit_gate& gate() noexcept { return gate_; }
  hit_listener& listener() noexcept { return listener_; }
  visitor_counter& visitors() noexcept { return visitors_; }
  std::size_t dedupe_memory_bytes() const noexcept { return dedupe_ ? dedupe_->memory_bytes() : 0; }

  // The flusher's extra writes (flusher::set_extra_writes).
  void collect(key_writes& out, day_number today) {
    visitors_.collect(today, out, now_(), stopping_.load(std::memory_order_relaxed));
  }
  void written(bool ok) { visitors_.written(ok); }
  // Cluster mode: every counted browser view's visitor ids also go to
  // `batch`, on their way to the cluster's HyperLogLogs. Set before the I/O
  // threads start.
  void set_cluster_batch(visitor_batch* batch) { cluster_batch_ = batch; }
  // From now on the flushes (the last one) write every changed sketch.
  void stopping() { stopping_.store(true, std::memory_order_relaxed); }

 private:
  // The visitor ids of the beacon being handled on each thread: computed by
  // the gate, used again by the listener for the same beacon.
  struct alignas(64) memo {
    const char* ip = nullptr;
    const char* user_agent = nullptr;
    const char* site = nullptr;
    std::size_t ip_len = 0, user_agent_len = 0, site_len = 0;
    day_number day = 0;
    visitor_ids ids;
  };
  class visitor_gate final : public hit_gate {
   public:
    explicit visitor_gate(visitor_tracker& t) : t_(t) {}
    std::optional<reject_reason> admit(const hit& h, const http_request_view& req,
                                       const client_info& client, std::size_t shard) override;

   private:
    visitor_tracker& t_;
  };
  class visitor_listener final : public hit_listener {
   public:
    explicit visitor_listener(visitor_tracker& t) : t_(t) {}
    void counted(const hit& h, const client_info& client, std::size_t shard) override;

   private:
    visitor_tracker& t_;
  };

  const visitor_ids& ids_for(const hit& h, const client_info& client, std::size_t shard,
                             day_number day);

  const counter_table& table_;
  clock_fn now_;
  visitor_counter visitors_;
  std::unique_ptr<dedupe_table> dedupe_;
  visitor_batch* cluster_batch_ = nullptr;
  std::vector<memo> memos_;
  visitor_gate gate_{*this};
  visitor_listener listener_{*this};
  std::atomic<bool> stopping_{false};
};

}  // namespace pvc
