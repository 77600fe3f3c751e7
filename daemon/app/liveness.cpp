#include "app/liveness.hpp"

#include <fmt/format.h>

#include "app/systemd.hpp"
#include "core/counter_table.hpp"
#include "core/thread_name.hpp"
#include "ingest/io_threads.hpp"

namespace pvc {

void liveness_reporter::start() {
  const auto watchdog = systemd::watchdog_interval();
  period_ = watchdog.count() > 0
                ? std::min<std::chrono::milliseconds>(
                      std::chrono::duration_cast<std::chrono::milliseconds>(watchdog / 2),
                      std::chrono::seconds(5))
                : std::chrono::milliseconds(5000);
  watchdog_ = watchdog.count() > 0;
  thread_ = std::thread([this] {
    name_this_thread("pvcd-liveness");
    run();
  });
}

void liveness_reporter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void liveness_reporter::run() {
  auto last = totals();
  auto last_time = std::chrono::steady_clock::now();
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (cv_.wait_for(lock, period_, [this] { return stopping_; })) return;
    }
    // A loop that runs this empty task is not wedged.
    for (std::size_t i = 0; i < io_.size(); ++i)
      io_.run_on(i, [] {});
    if (watchdog_) systemd::notify("WATCHDOG=1");
    const auto now_totals = totals();
    const auto now = std::chrono::steady_clock::now();
    const double secs = std::chrono::duration<double>(now - last_time).count();
    systemd::notify(fmt::format("STATUS=counting: http {:.0f}/s, udp {:.0f}/s, rejected {:.0f}/s",
                                (now_totals[0] - last[0]) / secs, (now_totals[1] - last[1]) / secs,
                                (now_totals[2] - last[2]) / secs));
    last = now_totals;
    last_time = now;
  }
}

std::array<double, 3> liveness_reporter::totals() const {
  std::array<double, 3> t{};
  for (std::size_t s = 0; s < table_.shard_count(); ++s) {
    const auto& st = table_.shard(s).stats();
    t[0] += static_cast<double>(st.hits_accepted[0].get());
    t[1] += static_cast<double>(st.hits_accepted[1].get());
    for (const auto& per_transport : st.hits_rejected) {
      for (const auto& c : per_transport)
        t[2] += static_cast<double>(c.get());
    }
  }
  return t;
}

}  // namespace pvc
