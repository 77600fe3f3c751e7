#pragma once
// Settings that SIGHUP may replace (bot list, trusted proxies, CORS origins,
// admin token), read on every request without a lock: each I/O thread reads
// its own pointer, and a reload hands every thread the new value on that
// thread (io_threads::run_on), so no reader ever sees a half-built object.
//
// Thread-safety: get(i) only on thread i; publish() from the main thread.
#include <memory>
#include <vector>

#include "ingest/io_threads.hpp"

namespace pvc {

template <class T>
class per_thread {
 public:
  per_thread(std::size_t threads, std::shared_ptr<const T> initial)
      : slots_(threads, std::move(initial)) {}

  const T& get(std::size_t thread) const noexcept { return *slots_[thread]; }

  void publish(io_threads& io, std::shared_ptr<const T> value) {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      io.run_on(i, [this, i, value] { slots_[i] = value; });
    }
  }

 private:
  std::vector<std::shared_ptr<const T>> slots_;
};

}  // namespace pvc
