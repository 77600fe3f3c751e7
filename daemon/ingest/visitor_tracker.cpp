#include "ingest/visitor_tracker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/hash.hpp"
#include "store/store.hpp"

namespace pvc {

visitor_tracker::visitor_tracker(const counter_table& table, std::size_t threads,
                                 visitor_options options, clock_fn now)
    : table_(table),
      now_(now ? std::move(now) : clock_fn([] { return steady_seconds(); })),
      visitors_(threads, options.online_window, options.make_salt),
      memos_(std::max<std::size_t>(threads, 1)) {
  if (options.dedupe_window.count() > 0) {
    dedupe_ = std::make_unique<dedupe_table>(options.dedupe_window);
  }
}

std::string visitor_tracker::restore(store& db) {
  const day_number today = table_.current_day();
  std::vector<std::pair<std::string, std::string>> stored;
  if (auto err = db.read_visitor_state(today, stored); !err.empty()) {
    return "data_dir: cannot read the visitor state: " + err;
  }
  const key_writes tidy = visitors_.restore(today, stored);
  if (!tidy.empty()) {
    if (auto err = db.write_keys(tidy); !err.empty()) {
      return "data_dir: cannot tidy the visitor state: " + err;
    }
  }
  spdlog::info("event=visitors_restored sites={} tidied={} dedupe_bytes={}", visitors_.site_count(),
               tidy.put.size() + tidy.erase.size(), dedupe_memory_bytes());
  return {};
}

const visitor_ids& visitor_tracker::ids_for(const hit& h, const client_info& client,
                                            std::size_t shard, day_number day) {
  memo& m = memos_[shard % memos_.size()];
  // The same beacon as the gate saw (the listener runs right after it, on
  // this thread, with the same views): reuse its ids.
  if (m.ip == client.ip.data() && m.ip_len == client.ip.size() &&
      m.user_agent == client.user_agent.data() && m.user_agent_len == client.user_agent.size() &&
      m.site == h.site.data() && m.site_len == h.site.size() && m.day == day && m.ids.valid) {
    return m.ids;
  }
  m.ip = client.ip.data();
  m.ip_len = client.ip.size();
  m.user_agent = client.user_agent.data();
  m.user_agent_len = client.user_agent.size();
  m.site = h.site.data();
  m.site_len = h.site.size();
  m.day = day;
  m.ids = visitors_.ids(day, client.ip, client.user_agent, h.site);
  return m.ids;
}

std::optional<reject_reason> visitor_tracker::visitor_gate::admit(const hit& h,
                                                                  const http_request_view&,
                                                                  const client_info& client,
                                                                  std::size_t shard) {
  const day_number day = t_.table_.current_day();
  // Recompute: a memo from an earlier beacon may share these addresses.
  t_.memos_[shard % t_.memos_.size()].ids.valid = false;
  const visitor_ids& ids = t_.ids_for(h, client, shard, day);
  if (!t_.dedupe_ || !ids.valid) return std::nullopt;
  if (t_.dedupe_->admit(hash_bytes(h.article, ids.month), t_.now_())) return std::nullopt;
  return reject_reason::duplicate;
}

void visitor_tracker::visitor_listener::counted(const hit& h, const client_info& client,
                                                std::size_t shard) {
  const day_number day = t_.table_.current_day();
  const visitor_ids& ids = t_.ids_for(h, client, shard, day);
  t_.visitors_.record(shard, h.site, day, ids, t_.now_());
  if (t_.cluster_batch_) {
    using namespace std::chrono;
    const auto minute = duration_cast<minutes>(system_clock::now().time_since_epoch()).count();
    t_.cluster_batch_->add(shard, h.site, day, ids, minute);
  }
  t_.memos_[shard % t_.memos_.size()].ids.valid = false;  // used: the next beacon computes anew
}

}  // namespace pvc
