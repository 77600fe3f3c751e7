#pragma once
// A Redis node's address as the cluster names it ("127.0.0.1:7001" in
// CLUSTER SLOTS, MOVED and ASK replies) and as the configuration lists seed
// nodes. Pure and thread-safe.
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pvc::cluster {

struct node_address {
  std::string host;  // a name or an IP; empty only in a redirect that names no host
  std::uint16_t port = 0;

  std::string to_string() const;  // "host:port"; "[v6]:port" for an IPv6 address
  auto operator<=>(const node_address&) const = default;
};

// "HOST:PORT", "[IPV6]:PORT", or an unbracketed IPv6 "::1:7001" as Redis
// writes it in redirects (the port follows the last ':'). The host may be
// empty (":7001", a redirect from a node that does not know its own
// address); the port must be 1..65535. Empty when the text is not an address.
std::optional<node_address> parse_node_address(std::string_view text);

}  // namespace pvc::cluster
