#include "ingest/listen_sockets.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

namespace pvc {
namespace {

std::uint16_t port_of(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return a.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port)
                                 : ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
}

void close_all(const std::vector<int>& fds) {
  for (int fd : fds)
    ::close(fd);
}

TEST(ListenSockets, PortZeroGivesEveryThreadTheSamePickedPort) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
    for (const char* host : {"127.0.0.1", "::1"}) {
      SCOPED_TRACE(std::string(host) + (type == SOCK_STREAM ? " tcp" : " udp"));
      std::vector<int> fds;
      endpoint bound;
      ASSERT_EQ(open_listen_sockets(3, {host, 0}, type, -1, fds, bound), "");
      ASSERT_EQ(fds.size(), 3u);
      EXPECT_NE(bound.port, 0);
      for (int fd : fds)
        EXPECT_EQ(port_of(fd), bound.port);
      close_all(fds);
    }
  }
}

TEST(ListenSockets, AFixedPortHeldByAnotherSocketIsRefusedWithTheAddress) {
  std::vector<int> first;
  endpoint bound;
  ASSERT_EQ(open_listen_sockets(1, {"127.0.0.1", 0}, SOCK_STREAM, -1, first, bound), "");
  std::vector<int> second;
  endpoint again;
  const std::string err =
      open_listen_sockets(2, {"127.0.0.1", bound.port}, SOCK_STREAM, -1, second, again);
  EXPECT_EQ(err.rfind("cannot listen on 127.0.0.1:" + std::to_string(bound.port) + ": ", 0), 0u)
      << err;
  EXPECT_NE(err.find("(another process listens there)"), std::string::npos) << err;
  EXPECT_TRUE(second.empty());
  close_all(first);
}

TEST(ListenSockets, AnInheritedSocketIsSharedThroughItsOwnDescriptorPerThread) {
  std::vector<int> own;
  endpoint bound;
  ASSERT_EQ(open_listen_sockets(1, {"127.0.0.1", 0}, SOCK_DGRAM, -1, own, bound), "");
  std::vector<int> fds;
  endpoint inherited;
  ASSERT_EQ(open_listen_sockets(3, {"0.0.0.0", 9}, SOCK_DGRAM, own[0], fds, inherited), "");
  ASSERT_EQ(fds.size(), 3u);
  EXPECT_EQ(fds[0], own[0]);
  EXPECT_NE(fds[1], fds[0]);
  EXPECT_NE(fds[2], fds[1]);
  EXPECT_EQ(inherited.host, "127.0.0.1");  // what the socket is bound to, not the config
  EXPECT_EQ(inherited.port, bound.port);
  close_all(fds);
}

TEST(ListenSockets, ABadAddressIsNamed) {
  std::vector<int> fds;
  endpoint bound;
  EXPECT_EQ(open_listen_sockets(1, {"localhost", 80}, SOCK_STREAM, -1, fds, bound),
            "bad address localhost");
  EXPECT_TRUE(fds.empty());
}

}  // namespace
}  // namespace pvc
