#pragma once
// The cluster's 16384 slots and who serves them: for each slot, the shard
// (one master and its replicas) that owns it, read from a CLUSTER SLOTS
// reply. In RESP2 that reply is an array of ranges:
//
//   [ [first_slot, last_slot, [host, port, id, ...], [host, port, id, ...] ...], ... ]
//      the first node is the master, the others its replicas
//
// Redis 7 adds a fourth element per node (a map of hostnames; ignored). An
// empty or nil host means "the host you asked", and "?" an unknown endpoint
// (that node is left out: it cannot be reached).
//
// Pure; not thread-safe (a cluster_client's map belongs to its thread).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/key_slot.hpp"
#include "cluster/node_address.hpp"
#include "cluster/redis_reply.hpp"

namespace pvc::cluster {

struct shard {
  node_address master;
  std::vector<node_address> replicas;
  bool operator==(const shard&) const = default;
};

class slot_map {
 public:
  slot_map();

  // Replaces the map with the one a CLUSTER SLOTS reply describes.
  // `asked_host` fills in empty hosts. Returns "" on success, else what is
  // wrong with the reply (the map is left as it was).
  std::string assign_from_cluster_slots(const redis_reply& reply, std::string_view asked_host);

  // The shard serving `slot`, or nullptr when no node serves it.
  const shard* shard_of(std::uint16_t slot) const;

  // A MOVED redirect: `slot` is now served by `master`. Its replicas are
  // known only if `master` already masters another range (else none until
  // the next full refresh).
  void move_slot(std::uint16_t slot, const node_address& master);

  // Every distinct master serving at least one slot, in shard order.
  std::vector<node_address> masters() const;
  // Masters, then replicas, each once.
  std::vector<node_address> nodes() const;
  // How many slots have a master.
  std::size_t served_slots() const;
  bool empty() const { return served_slots() == 0; }

  bool operator==(const slot_map&) const = default;

 private:
  static constexpr std::uint16_t no_shard = 0xFFFF;
  std::vector<shard> shards_;
  std::vector<std::uint16_t> owner_;  // per slot: an index into shards_, or no_shard
};

}  // namespace pvc::cluster
