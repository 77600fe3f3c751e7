#pragma once
// HTTP/1.1 listener over Asio: one SO_REUSEPORT acceptor per I/O thread,
// keep-alive sessions that live and die on the thread that accepted them,
// requests read by Beast's parser (http_request_reader.hpp) and answers sent
// at once.
//
// Limits on every read, each for a reason:
//   - header bytes: 8 KiB, what nginx allows by default; beacons need ~1 KiB
//   - body bytes: http_max_body (16 KiB default); a sendBeacon body is tiny
//   - idle/slow: a request must arrive within the idle timeout of the
//     previous one (or of the connection), which also ends slowloris drips
//   - connections: http_max_connections per listener (least active evicted)
//
// Thread-safety: start/stop from the main thread; sessions run on their thread.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/config_values.hpp"
#include "core/reject_reason.hpp"

namespace pvc {

class io_threads;
class router;
class counter_table;
class counter_shard;

struct http_limits {
  std::size_t header_bytes = 8 * 1024;
  std::size_t body_bytes = 16 * 1024;
  std::chrono::milliseconds idle_timeout{30'000};
  // Open connections per listener; past it, the least recently active one
  // is closed to make room, so a connection flood cannot lock out fresh clients.
  std::size_t max_connections = 10'000;
};

class http_listener {
 public:
  // Binds and starts accepting on every I/O thread, or uses `inherited_fd`
  // (a listening socket from systemd) when it is >= 0. Returns null and sets
  // `error` (naming the address) when the address cannot be bound.
  static std::unique_ptr<http_listener> start(io_threads& threads, const endpoint& where,
                                              const router& routes, counter_table& table,
                                              transport kind, const http_limits& limits,
                                              int inherited_fd, std::string& error);
  ~http_listener();

  // The address actually bound (the real port when 0 was asked).
  const endpoint& bound() const noexcept;
  // Stops accepting and closes idle connections; busy ones close after
  // their current response.
  void stop();
  // Closes every connection still open (after the shutdown grace period).
  void close_all();

  struct impl;

 private:
  explicit http_listener(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace pvc
