#pragma once
// A Redis reply as an owned C++ value, so nothing outside
// redis_connection.cpp holds a hiredis pointer, and the classification of the
// error replies by which a cluster redirects or defers a command:
//
//   -MOVED 3999 127.0.0.1:6381   slot 3999 lives on 127.0.0.1:6381 now: update
//                                the map, send there
//   -ASK 3999 127.0.0.1:6381     slot 3999 is migrating and this key is on the
//                                target already: send ASKING, then the command,
//                                to 127.0.0.1:6381, once; the map stays
//   -TRYAGAIN ...                a multi-key command during a slot's migration:
//                                retry shortly
//   -CLUSTERDOWN ...             the cluster cannot serve the slot (a master is
//                                down and not replaced yet): refresh, back off
//   -LOADING ... / -MASTERDOWN   the node is loading its data after a restart,
//                                or a replica lost its master: retry shortly
//
// (hiredis gives an error's text without its leading '-'; both forms are
// accepted.) Pure and thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/node_address.hpp"

namespace pvc::cluster {

// The five RESP2 reply types (hiredis 0.14 speaks RESP2), and nil.
enum class reply_type { string, array, integer, nil, status, error };

struct redis_reply {
  reply_type type = reply_type::nil;
  std::string text;  // string, status, error
  long long integer = 0;
  std::vector<redis_reply> elements;  // array

  static redis_reply make_string(std::string s) {
    return {reply_type::string, std::move(s), 0, {}};
  }
  static redis_reply make_status(std::string s) {
    return {reply_type::status, std::move(s), 0, {}};
  }
  static redis_reply make_error(std::string s) { return {reply_type::error, std::move(s), 0, {}}; }
  static redis_reply make_integer(long long i) { return {reply_type::integer, {}, i, {}}; }
  static redis_reply make_array(std::vector<redis_reply> e) {
    return {reply_type::array, {}, 0, std::move(e)};
  }

  bool is_error() const { return type == reply_type::error; }
  bool is_nil() const { return type == reply_type::nil; }

  // A one-line rendering for logs and failure messages ("(error) ERR x",
  // "(integer) 3", "[\"a\", (nil)]"); long texts are cut.
  std::string describe() const;
};

enum class error_kind {
  none,         // not an error reply
  moved,        // redirect: the slot has a new owner
  ask,          // redirect: this one command goes to the migration's target
  tryagain,     // retry shortly (TRYAGAIN, LOADING, MASTERDOWN)
  clusterdown,  // the cluster cannot serve the slot now
  other         // any other error: the command's own answer (WRONGTYPE, ERR ...)
};

struct reply_class {
  error_kind kind = error_kind::none;
  // MOVED and ASK: the slot and the node named; the host may be empty (the
  // replying node does not know its address: use the host it was reached at).
  std::uint16_t slot = 0;
  node_address node;
};

// Classifies an error's text. A MOVED or ASK that cannot be parsed (no slot,
// a slot out of range, no port) is `other`: passed to the caller, not followed.
reply_class classify_error(std::string_view error_text);
reply_class classify(const redis_reply& reply);

}  // namespace pvc::cluster
