#pragma once
// The "lượt truy cập" widget and the numbers behind it (widget_routes.cpp):
//
//   GET /widget.js                 the embed script (widget/widget.js, built in)
//   GET /api/v1/widget?s=&a=       one snapshot for the counter box
//   GET /api/v1/visitors?s=        distinct visitors (also on the admin listener, for pvctl)
//   GET /api/v1/top?s=&period=&n=  most viewed articles ("Tin xem nhiều")
//
// and the beacon hooks: the bot gate (first), the visitor gate (last: it
// computes the visitor ids and applies reload de-duplication) and the
// visitor listener (distinct-visitor sketches, "online now").
//
// Thread-safety: the gates and the listener run on the I/O threads with
// per-thread state; collect/written on the flusher thread; the most-viewed
// lists are refreshed by one background thread (start/stop) and read under a
// mutex by the /api/v1/top handler only.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/bot_list.hpp"
#include "core/dedupe.hpp"
#include "core/visitors.hpp"
#include "routes.hpp"

namespace pvc {

// Reads the bot list from `path`, or the built-in one (data/bots.txt) when
// `path` is "". Returns "" or an error naming the path.
std::string load_bot_list(const std::string& path, bot_list& out);

// Refuses beacons whose User-Agent is on the bot list (reason `bot`). The
// list of thread `shard` comes from `lists` (a per_thread<bot_list>, which
// SIGHUP replaces).
class bot_gate final : public hit_gate {
 public:
  using list_fn = std::function<const bot_list&(std::size_t shard)>;
  explicit bot_gate(list_fn lists) : lists_(std::move(lists)) {}
  std::optional<reject_reason> admit(const hit& h, const http_request_view& req,
                                     const client_info& client, std::size_t shard) override;

 private:
  list_fn lists_;
};

struct widget_options {
  std::vector<std::string> cors_origins{"*"};  // who may read the counts; "*" any
  std::chrono::seconds online_window{300};
  std::chrono::seconds dedupe_window{0};             // 0 = off
  std::chrono::seconds top_refresh{10};              // most-viewed lists are at most this old
  visitor_counter::salt_fn make_salt = random_salt;  // tests make salts predictable
};

// Most viewed articles of one site and period, most viewed first.
enum class top_span : std::uint8_t { day, week, month, all };
struct top_entry {
  std::string id;
  std::uint64_t views = 0;
};

class widget_state {
 public:
  // Steady time in whole seconds ("online now", de-duplication); tests inject it.
  using clock_fn = std::function<std::int64_t()>;
  static constexpr std::size_t max_top = 50;  // longest most-viewed list served

  widget_state(store& db, counter_table& table, std::size_t threads, widget_options options,
               clock_fn now = {});
  ~widget_state();
  widget_state(const widget_state&) = delete;
  widget_state& operator=(const widget_state&) = delete;

  // Start-up, before the I/O threads: restores salts and visitor sketches
  // and tidies what expired while pvcd was down. "" or an error.
  std::string restore();

  hit_gate& visitor_gate() noexcept { return gate_; }
  hit_listener& visitor_listener() noexcept { return listener_; }

  // The flusher's extra writes (flusher::set_extra_writes).
  void collect(key_writes& out, day_number today) {
    visitors_.collect(today, out, now_(), stopping_writes_.load(std::memory_order_relaxed));
  }
  void written(bool ok) { visitors_.written(ok); }

  // The most-viewed refresher thread. stop() also makes the next flush
  // (the last one) write every changed visitor sketch.
  void start();
  void stop();

  // The most-viewed list for (site, span) if one was computed, and asks for
  // it (again) either way. Never reads the store.
  std::shared_ptr<const std::vector<top_entry>> top(std::string_view site, top_span span);
  // One refresh round of every list asked for (the refresher's work; tests call it directly).
  void refresh_top();

  visitor_counter& visitors() noexcept { return visitors_; }
  store& db() noexcept { return db_; }
  counter_table& table() noexcept { return table_; }
  const widget_options& options() const noexcept { return options_; }
  std::int64_t now_seconds() const { return now_(); }
  std::size_t dedupe_memory_bytes() const noexcept { return dedupe_ ? dedupe_->memory_bytes() : 0; }

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
  class gate final : public hit_gate {
   public:
    explicit gate(widget_state& w) : w_(w) {}
    std::optional<reject_reason> admit(const hit& h, const http_request_view& req,
                                       const client_info& client, std::size_t shard) override;

   private:
    widget_state& w_;
  };
  class listener final : public hit_listener {
   public:
    explicit listener(widget_state& w) : w_(w) {}
    void counted(const hit& h, const client_info& client, std::size_t shard) override;

   private:
    widget_state& w_;
  };
  struct top_key {
    std::string site;
    top_span span;
    bool operator<(const top_key& o) const {
      return span != o.span ? span < o.span : site < o.site;
    }
  };
  struct top_state {
    std::int64_t asked_at = 0;
    std::int64_t computed_at = INT64_MIN;
    std::shared_ptr<const std::vector<top_entry>> result;
    // span `all`: the top articles at the last refresh, when and from which day.
    std::vector<top_entry> base;
    std::int64_t base_scanned_at = INT64_MIN;
    day_number base_day = 0;
  };

  const visitor_ids& ids_for(const hit& h, const client_info& client, std::size_t shard,
                             day_number day);
  std::string compute_top(const std::string& site, top_span span, top_state& state,
                          std::vector<top_entry>& out);
  void run_refresher();

  store& db_;
  counter_table& table_;
  widget_options options_;
  clock_fn now_;
  visitor_counter visitors_;
  std::unique_ptr<dedupe_table> dedupe_;
  std::vector<memo> memos_;
  gate gate_{*this};
  listener listener_{*this};

  std::mutex top_mutex_;
  std::condition_variable top_cv_;
  std::map<top_key, top_state> tops_;
  bool stopping_ = false;
  std::thread refresher_;
  std::atomic<bool> stopping_writes_{false};
};

// Registers the widget's routes: all of them on the public listener, the
// read APIs (widget, visitors, top) on the admin listener.
void add_widget_routes(router& r, widget_state& w);

}  // namespace pvc
