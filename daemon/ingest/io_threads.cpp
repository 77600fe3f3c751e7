#include "ingest/io_threads.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <future>
#include <string>

#include "core/thread_name.hpp"

namespace pvc {

io_threads::io_threads(std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    // Concurrency hint 1: each context is run by one thread, so Asio can
    // skip its internal locking.
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.emplace_back(boost::asio::make_work_guard(*contexts_.back()));
  }
}

io_threads::~io_threads() {
  if (running_) {
    release();
    stop_and_join();
  }
}

void io_threads::start() {
  running_ = true;
  for (std::size_t i = 0; i < contexts_.size(); ++i) {
    threads_.emplace_back([c = contexts_[i].get(), i] {
      name_this_thread("pvcd-io-" + std::to_string(i));
      for (;;) {
        try {
          c->run();
          return;
        } catch (const std::exception& e) {
          // A handler threw: log it and keep the thread serving.
          spdlog::error("event=handler_exception error=\"{}\"", e.what());
        }
      }
    });
  }
}

void io_threads::run_on(std::size_t i, std::function<void()> fn) {
  // Inline when no thread serves the context any more: nothing else touches its shard.
  if (!running_ || contexts_[i]->stopped()) {
    fn();
    return;
  }
  std::promise<void> done;
  auto finished = done.get_future();
  boost::asio::post(*contexts_[i], [&] {
    fn();
    done.set_value();
  });
  finished.wait();
}

void io_threads::release() {
  for (auto& g : guards_)
    g.reset();
}

bool io_threads::wait_idle(std::chrono::milliseconds grace) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (auto& ctx : contexts_) {
    while (!ctx->stopped()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return true;
}

void io_threads::stop_and_join() {
  for (auto& ctx : contexts_)
    ctx->stop();
  for (auto& t : threads_)
    t.join();
  threads_.clear();
  running_ = false;
}

void io_threads::run_leftovers() {
  for (auto& ctx : contexts_) {
    ctx->restart();
    ctx->poll();
  }
}

}  // namespace pvc
