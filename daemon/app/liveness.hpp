#pragma once
// Proves the I/O loops are alive to systemd's watchdog (a wedged loop never
// answers, so WATCHDOG=1 stops and systemd restarts pvcd), and keeps the
// unit's STATUS= line current with the ingest rates.
//
// Thread-safety: start/stop from the main thread; it runs on its own thread.
#include <array>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace pvc {

class io_threads;
class counter_table;

class liveness_reporter {
 public:
  liveness_reporter(io_threads& io, const counter_table& table) : io_(io), table_(table) {}
  ~liveness_reporter() { stop(); }

  void start();
  void stop();

 private:
  void run();
  // Accepted HTTP hits, accepted UDP hits, rejected hits, since start.
  std::array<double, 3> totals() const;

  io_threads& io_;
  const counter_table& table_;
  std::chrono::milliseconds period_{5000};
  bool watchdog_ = false;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace pvc
