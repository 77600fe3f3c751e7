#pragma once
// UDP listener: one SO_REUSEPORT socket per I/O thread. Each wakes on
// readiness (async_wait), then drains the kernel queue with recvmmsg in
// batches, parsing and counting lines in place: no copy, no allocation, one
// syscall per batch. While datagrams keep coming, a worker that has emptied
// its queue waits 1 ms before the next drain rather than a wake-up per
// datagram (udp_listener.cpp, "Gathering"). Kernel drops come from
// SO_MEMINFO, read every 100 ms.
//
// Thread-safety: start/stop from the main thread; receiving on the I/O threads.
#include <memory>
#include <string>

#include "core/config_values.hpp"

namespace pvc {

class io_threads;
class counter_table;

struct udp_options {
  std::size_t receive_buffer = 64u << 20;
};

class udp_listener {
 public:
  // Binds one socket per I/O thread, or shares `inherited_fd` (a socket from
  // systemd) when it is >= 0.
  static std::unique_ptr<udp_listener> start(io_threads& threads, const endpoint& where,
                                             counter_table& table, const udp_options& options,
                                             int inherited_fd, std::string& error);
  ~udp_listener();

  const endpoint& bound() const noexcept;
  // Reads what is already queued in the kernel, then closes the sockets.
  void stop();

  struct impl;

 private:
  explicit udp_listener(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace pvc
