#include "core/client_ip.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace pvc {
namespace {

// Parses a numeric address into the 16-byte form; false if it is not one.
bool to_bytes(std::string_view text, std::array<std::uint8_t, 16>& out) {
  if (text.empty() || text.size() > 45) return false;
  const std::string s(text);
  in_addr v4{};
  if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out = {};
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return true;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return true;
  }
  return false;
}

bool matches(const cidr& net, const std::array<std::uint8_t, 16>& a) {
  int bits = net.prefix;
  for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((a[i] & mask) != (net.bytes[i] & mask)) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// The address in one Forwarded element's for= parameter, without quotes,
// brackets or port ("for=\"[2001:db8::1]:4711\"" -> "2001:db8::1").
std::string_view forwarded_for(std::string_view element) {
  while (!element.empty()) {
    const std::size_t semi = element.find(';');
    std::string_view pair = trim(element.substr(0, semi));
    element = semi == std::string_view::npos ? std::string_view{} : element.substr(semi + 1);
    if (pair.size() < 4) continue;
    const std::string_view key = pair.substr(0, 4);
    if (!(key[0] == 'f' || key[0] == 'F') || !(key[1] == 'o' || key[1] == 'O') ||
        !(key[2] == 'r' || key[2] == 'R') || key[3] != '=') {
      continue;
    }
    std::string_view v = pair.substr(4);
    if (!v.empty() && v.front() == '"') v = v.substr(1, v.find('"', 1) - 1);
    if (!v.empty() && v.front() == '[') return v.substr(1, v.find(']') - 1);
    const std::size_t colon = v.find(':');
    // One colon: IPv4 with a port. More: a bare IPv6 (unusual without brackets).
    if (colon != std::string_view::npos && v.find(':', colon + 1) == std::string_view::npos) {
      v = v.substr(0, colon);
    }
    return v;
  }
  return {};
}

}  // namespace

std::optional<cidr> parse_cidr(std::string_view text) {
  text = trim(text);
  cidr out;
  const std::size_t slash = text.find('/');
  if (!to_bytes(text.substr(0, slash), out.bytes)) return std::nullopt;
  const bool v4 = text.substr(0, slash).find(':') == std::string_view::npos;
  int prefix = v4 ? 32 : 128;
  if (slash != std::string_view::npos) {
    std::string_view p = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (ec != std::errc{} || end != p.data() + p.size() || prefix < 0 || prefix > (v4 ? 32 : 128)) {
      return std::nullopt;
    }
  }
  out.prefix = v4 ? prefix + 96 : prefix;
  return out;
}

std::string trusted_proxies::parse(const std::vector<std::string>& entries, trusted_proxies& out) {
  std::vector<cidr> nets;
  for (const auto& e : entries) {
    auto c = parse_cidr(e);
    if (!c) return "trusted_proxies: '" + e + "' is not an address or CIDR network";
    nets.push_back(*c);
  }
  out = trusted_proxies(std::move(nets));
  return {};
}

bool trusted_proxies::contains(std::string_view address) const {
  std::array<std::uint8_t, 16> a{};
  if (!to_bytes(trim(address), a)) return false;
  for (const cidr& n : nets_) {
    if (matches(n, a)) return true;
  }
  return false;
}

std::string_view trusted_proxies::client(std::string_view peer, std::string_view x_forwarded_for,
                                         std::string_view forwarded, std::string& scratch) const {
  if (nets_.empty() || !contains(peer)) return peer;
  // Collect the chain, client first; prefer the standard Forwarded header.
  std::vector<std::string_view> chain;
  if (!forwarded.empty()) {
    while (!forwarded.empty()) {
      const std::size_t comma = forwarded.find(',');
      chain.push_back(forwarded_for(forwarded.substr(0, comma)));
      forwarded =
          comma == std::string_view::npos ? std::string_view{} : forwarded.substr(comma + 1);
    }
  } else {
    while (!x_forwarded_for.empty()) {
      const std::size_t comma = x_forwarded_for.find(',');
      chain.push_back(trim(x_forwarded_for.substr(0, comma)));
      x_forwarded_for =
          comma == std::string_view::npos ? std::string_view{} : x_forwarded_for.substr(comma + 1);
    }
  }
  // From the right: skip our own proxies; the first other address is the client.
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    std::array<std::uint8_t, 16> a{};
    if (!to_bytes(*it, a)) return peer;  // garbage in the chain: trust nothing in it
    if (!contains(*it)) {
      scratch.assign(*it);
      return scratch;
    }
  }
  // Every hop is a trusted proxy: the left-most is as close to the client as we get.
  if (!chain.empty()) {
    scratch.assign(chain.front());
    return scratch;
  }
  return peer;
}

}  // namespace pvc
