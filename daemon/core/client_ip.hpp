#pragma once
// Which address a beacon came from. Portals sit behind nginx or a CDN, so
// the peer is often a proxy; its X-Forwarded-For / Forwarded header names the
// client, but anyone can send those headers. They are believed only when the
// peer is in the configured trusted_proxies list, and then only up to the
// first address that is not itself a trusted proxy (walking from the right,
// the proxies' end of the list), so a client cannot spoof its way past them.
//
//   X-Forwarded-For: client, proxy1, proxy2        (proxy2 is the peer's predecessor)
//   Forwarded: for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"
//
// Pure functions; thread-safe once built.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvc {

// An IPv4 or IPv6 network, "10.0.0.0/8", "::1/128"; a bare address is /32 or /128.
struct cidr {
  std::array<std::uint8_t, 16> bytes{};  // IPv4 stored as ::ffff:a.b.c.d
  int prefix = 0;                        // over the 128-bit form
};

std::optional<cidr> parse_cidr(std::string_view text);

class trusted_proxies {
 public:
  trusted_proxies() = default;
  explicit trusted_proxies(std::vector<cidr> nets) : nets_(std::move(nets)) {}
  // Parses a list; returns an error naming the bad entry, or "".
  static std::string parse(const std::vector<std::string>& entries, trusted_proxies& out);

  bool empty() const noexcept { return nets_.empty(); }
  bool contains(std::string_view address) const;

  // The client's address: the peer, or the right-most untrusted address of
  // the forwarding headers when the peer is a trusted proxy. `scratch` holds
  // the result when it is not a view of the inputs.
  std::string_view client(std::string_view peer, std::string_view x_forwarded_for,
                          std::string_view forwarded, std::string& scratch) const;

 private:
  std::vector<cidr> nets_;
};

}  // namespace pvc
