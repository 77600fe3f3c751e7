#include "cluster/slot_map.hpp"

#include <algorithm>

namespace pvc::cluster {
namespace {

// One node of a range: [host, port, id, ...]. False when it is malformed;
// `usable` false for an unknown endpoint ("?").
bool read_node(const redis_reply& r, std::string_view asked_host, node_address& out, bool& usable) {
  if (r.type != reply_type::array || r.elements.size() < 2) return false;
  const redis_reply& host = r.elements[0];
  const redis_reply& port = r.elements[1];
  if (port.type != reply_type::integer || port.integer <= 0 || port.integer > 65535) return false;
  if (host.type != reply_type::string && !host.is_nil()) return false;
  usable = host.text != "?";
  out.host = host.text.empty() ? std::string(asked_host) : host.text;
  out.port = static_cast<std::uint16_t>(port.integer);
  return true;
}

}  // namespace

slot_map::slot_map() : owner_(slot_count, no_shard) {}

std::string slot_map::assign_from_cluster_slots(const redis_reply& reply,
                                                std::string_view asked_host) {
  if (reply.type != reply_type::array) return "CLUSTER SLOTS replied " + reply.describe();
  std::vector<shard> shards;
  std::vector<std::uint16_t> owner(slot_count, no_shard);
  for (const redis_reply& range : reply.elements) {
    if (range.type != reply_type::array || range.elements.size() < 3 ||
        range.elements[0].type != reply_type::integer ||
        range.elements[1].type != reply_type::integer) {
      return "CLUSTER SLOTS: malformed range " + range.describe();
    }
    const long long first = range.elements[0].integer;
    const long long last = range.elements[1].integer;
    if (first < 0 || last < first || last >= slot_count) {
      return "CLUSTER SLOTS: slot range out of bounds " + range.describe();
    }
    shard s;
    bool master_usable = false;
    if (!read_node(range.elements[2], asked_host, s.master, master_usable)) {
      return "CLUSTER SLOTS: malformed node " + range.elements[2].describe();
    }
    if (!master_usable) continue;  // slots with an unreachable master stay unserved
    for (std::size_t i = 3; i < range.elements.size(); ++i) {
      node_address replica;
      bool usable = false;
      if (!read_node(range.elements[i], asked_host, replica, usable)) {
        return "CLUSTER SLOTS: malformed node " + range.elements[i].describe();
      }
      if (usable) s.replicas.push_back(std::move(replica));
    }
    // A master owning several ranges is one shard.
    auto it = std::find_if(shards.begin(), shards.end(),
                           [&](const shard& x) { return x.master == s.master; });
    if (it == shards.end()) {
      shards.push_back(std::move(s));
      it = shards.end() - 1;
    }
    const auto index = static_cast<std::uint16_t>(it - shards.begin());
    std::fill(owner.begin() + first, owner.begin() + last + 1, index);
  }
  shards_ = std::move(shards);
  owner_ = std::move(owner);
  return {};
}

const shard* slot_map::shard_of(std::uint16_t slot) const {
  if (slot >= slot_count || owner_[slot] == no_shard) return nullptr;
  return &shards_[owner_[slot]];
}

void slot_map::move_slot(std::uint16_t slot, const node_address& master) {
  if (slot >= slot_count) return;
  auto it = std::find_if(shards_.begin(), shards_.end(),
                         [&](const shard& x) { return x.master == master; });
  if (it == shards_.end()) {
    shards_.push_back(shard{master, {}});
    it = shards_.end() - 1;
  }
  owner_[slot] = static_cast<std::uint16_t>(it - shards_.begin());
}

std::vector<node_address> slot_map::masters() const {
  std::vector<bool> used(shards_.size(), false);
  for (const std::uint16_t o : owner_) {
    if (o != no_shard) used[o] = true;
  }
  std::vector<node_address> out;
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    if (used[i]) out.push_back(shards_[i].master);
  }
  return out;
}

std::vector<node_address> slot_map::nodes() const {
  std::vector<node_address> out = masters();
  for (const shard& s : shards_) {
    for (const node_address& r : s.replicas) {
      if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
    }
  }
  return out;
}

std::size_t slot_map::served_slots() const {
  return static_cast<std::size_t>(
      std::count_if(owner_.begin(), owner_.end(), [](std::uint16_t o) { return o != no_shard; }));
}

}  // namespace pvc::cluster
