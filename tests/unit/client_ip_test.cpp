#include "core/client_ip.hpp"

#include <gtest/gtest.h>

namespace pvc {
namespace {

trusted_proxies make(std::vector<std::string> entries) {
  trusted_proxies p;
  EXPECT_EQ(trusted_proxies::parse(entries, p), "");
  return p;
}

std::string client(const trusted_proxies& p, std::string_view peer, std::string_view xff,
                   std::string_view fwd = {}) {
  std::string scratch;
  return std::string(p.client(peer, xff, fwd, scratch));
}

TEST(ClientIp, SpoofedForwardingHeadersFromAnUntrustedPeerAreIgnored) {
  const trusted_proxies local = make({"127.0.0.1/32", "::1/128"});
  // A client talking to pvcd directly cannot pick its address.
  EXPECT_EQ(client(local, "203.0.113.9", "1.2.3.4"), "203.0.113.9");
  EXPECT_EQ(client(local, "203.0.113.9", "", "for=1.2.3.4"), "203.0.113.9");
  EXPECT_EQ(client(local, "2001:db8::5", "127.0.0.1, 1.2.3.4"), "2001:db8::5");
  // With no trusted proxies at all, the peer is always the client.
  const trusted_proxies none;
  EXPECT_EQ(client(none, "127.0.0.1", "1.2.3.4"), "127.0.0.1");
}

TEST(ClientIp, ATrustedProxyNamesTheClient) {
  const trusted_proxies local = make({"127.0.0.1/32", "10.0.0.0/8"});
  EXPECT_EQ(client(local, "127.0.0.1", "198.51.100.7"), "198.51.100.7");
  // The right-most untrusted address wins: what the client prepended is skipped.
  EXPECT_EQ(client(local, "127.0.0.1", "6.6.6.6, 198.51.100.7"), "198.51.100.7");
  EXPECT_EQ(client(local, "127.0.0.1", "6.6.6.6, 198.51.100.7, 10.1.2.3"), "198.51.100.7");
  EXPECT_EQ(client(local, "10.9.9.9", "", "for=192.0.2.60;proto=http, for=10.0.0.1"), "192.0.2.60");
  EXPECT_EQ(client(local, "127.0.0.1", "", "for=\"[2001:db8::1]:4711\""), "2001:db8::1");
  // No header: the proxy itself.
  EXPECT_EQ(client(local, "127.0.0.1", ""), "127.0.0.1");
  // Garbage in the chain: nothing in it is believed.
  EXPECT_EQ(client(local, "127.0.0.1", "not-an-address"), "127.0.0.1");
}

TEST(ClientIp, ParsingTheProxyList) {
  struct row {
    const char* text;
    bool ok;
  };
  const row rows[] = {
      {"127.0.0.1", true},
      {"127.0.0.1/32", true},
      {"10.0.0.0/8", true},
      {"::1", true},
      {"2001:db8::/32", true},
      {"0.0.0.0/0", true},
      {"10.0.0.0/33", false},
      {"::/129", false},
      {"localhost", false},
      {"10.0.0/8", false},
      {"", false},
      {"1.2.3.4/x", false},
  };
  for (const row& r : rows) {
    SCOPED_TRACE(r.text);
    EXPECT_EQ(parse_cidr(r.text).has_value(), r.ok);
  }
  trusted_proxies p;
  EXPECT_NE(trusted_proxies::parse({"127.0.0.1", "nginx"}, p), "");
  const trusted_proxies nets = make({"192.168.0.0/16", "2001:db8::/32"});
  EXPECT_TRUE(nets.contains("192.168.44.1"));
  EXPECT_FALSE(nets.contains("192.169.0.1"));
  EXPECT_TRUE(nets.contains("2001:db8:1::7"));
  EXPECT_FALSE(nets.contains("2001:db9::1"));
  // An IPv4 network never matches an IPv6 peer of the same bits, and back.
  EXPECT_FALSE(make({"0.0.0.0/0"}).contains("::1"));
}

}  // namespace
}  // namespace pvc
