#pragma once
// One blocking connection to one Redis node, over hiredis 0.14: connect with
// a timeout, AUTH and READONLY when asked, then exchanges of pipelined
// commands (all sent, then all replies read: one round trip), or the two
// halves apart. The only file
// that includes hiredis; replies come back as owned redis_reply values.
//
// After an I/O error (a timeout, a reset, EOF) the connection is broken for
// good: hiredis cannot tell which replies were lost, so the owner drops it
// and opens a new one. A command sent on a connection that then broke may or
// may not have run.
//
// Thread-safety: one thread at a time.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cluster/node_address.hpp"
#include "cluster/redis_reply.hpp"

struct redisContext;

namespace pvc::cluster {

// A command and its arguments, as bytes (binary-safe, UTF-8 as it is).
using command = std::vector<std::string>;

struct connection_options {
  std::chrono::milliseconds connect_timeout{1000};
  // Bounds each send and each reply's wait (SO_SNDTIMEO / SO_RCVTIMEO).
  std::chrono::milliseconds command_timeout{1000};
  std::string username;   // with a password: AUTH username password (Redis 6+ ACL)
  std::string password;   // empty: no AUTH
  bool readonly = false;  // send READONLY: a replica then serves reads of its slots
};

class redis_connection {
 public:
  // Connects and authenticates. nullptr, with `error` saying why (refused,
  // timed out, AUTH refused), when the node cannot be used.
  static std::unique_ptr<redis_connection> open(const node_address& node,
                                                const connection_options& options,
                                                std::string& error);
  ~redis_connection();
  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;

  // Sends `commands` in one write and reads one reply for each into
  // `replies` (error replies included: they are answers). False on an I/O
  // error, with `error` set; the connection is then broken().
  bool exchange(const std::vector<const command*>& commands, std::vector<redis_reply>& replies,
                std::string& error);
  // The two halves of exchange, so that a caller can write to several nodes
  // before reading from any: send writes all of `commands` (false on an I/O
  // error), receive reads `count` replies.
  bool send(const std::vector<const command*>& commands, std::string& error);
  bool receive(std::size_t count, std::vector<redis_reply>& replies, std::string& error);
  // One command, one reply.
  bool exchange(const command& c, redis_reply& reply, std::string& error);

  bool broken() const { return broken_; }
  const node_address& node() const { return node_; }

 private:
  redis_connection(redisContext* context, node_address node);

  redisContext* context_;
  node_address node_;
  bool broken_ = false;
};

}  // namespace pvc::cluster
