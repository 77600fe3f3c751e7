#pragma once
// One io_context per I/O thread, each run by exactly one thread: everything a
// connection or socket does stays on its thread, so the thread's counter
// shard needs no lock. Thread i owns shard i.
//
// Thread-safety: post/run_on from any thread; start/shutdown from the owner.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace pvc {

class io_threads {
 public:
  explicit io_threads(std::size_t count);
  ~io_threads();

  std::size_t size() const noexcept { return contexts_.size(); }
  boost::asio::io_context& context(std::size_t i) { return *contexts_[i]; }

  void start();
  // Runs fn on thread i and waits for it; runs it inline if the threads are
  // not running (start-up, after shutdown).
  void run_on(std::size_t i, std::function<void()> fn);
  // Ordered shutdown: release() lets each loop end once it has no work left;
  // wait_idle() waits for that; stop_and_join() ends whatever remains.
  void release();
  bool wait_idle(std::chrono::milliseconds grace);
  void stop_and_join();
  // After stop_and_join: runs, on the calling thread, the handlers still
  // queued (aborted operations), so every connection object is released
  // before the listeners that own their state.
  void run_leftovers();

 private:
  using guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<std::optional<guard>> guards_;
  std::vector<std::thread> threads_;
  bool running_ = false;
};

}  // namespace pvc
