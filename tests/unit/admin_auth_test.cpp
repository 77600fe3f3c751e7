#include "admin/admin_auth.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <string>

#include "core/sha256.hpp"
#include "test_support.hpp"

namespace pvc {
namespace {

TEST(ConstantTimeEquals, AgreesWithEquality) {
  const std::string token = "s3cret-admin-token-0123456789";
  struct row {
    std::string a, b;
    bool equal;
  };
  const row table[] = {
      {token, token, true},
      {"", "", true},
      {token, token + "x", false},                        // a longer guess
      {token, token.substr(0, token.size() - 1), false},  // a prefix
      {token, "", false},
      {"", token, false},
      {token, "S3cret-admin-token-0123456789", false},  // first byte
      {token, "s3cret-admin-token-012345678X", false},  // last byte
      {std::string("a\0b", 3), std::string("a\0c", 3), false},
      {std::string("ab\0", 3), "ab", false},  // padding with 0 must not make them equal
  };
  for (const auto& r : table) {
    SCOPED_TRACE(test::printable(r.a) + " vs " + test::printable(r.b));
    EXPECT_EQ(constant_time_equal(r.a, r.b), r.equal);
    EXPECT_EQ(constant_time_equal(r.b, r.a), r.equal);
  }
}

// The time must not depend on where the first difference is. A timing test
// cannot be exact on a shared machine, so this compares the two extremes
// over many runs and allows a wide margin: an early-exit compare differs by
// the whole length (64 KiB here, ~1000x), far outside it.
TEST(ConstantTimeEquals, TakesAsLongForAnEarlyAsForALateDifference) {
  const std::string secret(64 * 1024, 'k');
  std::string early = secret, late = secret;
  early.front() = 'x';
  late.back() = 'x';
  auto time_of = [&](const std::string& guess) {
    using clock = std::chrono::steady_clock;
    auto best = clock::duration::max();
    for (int round = 0; round < 50; ++round) {
      const auto start = clock::now();
      const bool eq = constant_time_equal(secret, guess);
      const auto took = clock::now() - start;
      EXPECT_FALSE(eq);
      best = std::min(best, took);
    }
    return std::chrono::duration<double>(best).count();
  };
  const double t_early = time_of(early);
  const double t_late = time_of(late);
  EXPECT_LT(t_late / t_early, 4.0) << "early=" << t_early << "s late=" << t_late << "s";
  EXPECT_LT(t_early / t_late, 4.0) << "early=" << t_early << "s late=" << t_late << "s";
}

TEST(BearerCredentials, ParsesTheHeader) {
  struct row {
    std::string header, token;
  };
  const row table[] = {
      {"Bearer abc", "abc"},
      {"bearer abc", "abc"},
      {"BEARER abc", "abc"},
      {"Bearer   abc  ", "abc"},
      {"  Bearer\tabc", "abc"},
      {"Bearer", ""},
      {"Bearer ", ""},
      {"Bearerabc", ""},
      {"Basic YWxhZGRpbjpvcGVu", ""},
      {"", ""},
      {"Token abc", ""},
  };
  for (const auto& r : table) {
    SCOPED_TRACE(r.header);
    EXPECT_EQ(bearer_credentials(r.header), r.token);
  }
}

TEST(IsLoopbackAddress, KnowsLoopbackFromTheRest) {
  for (const char* yes : {"127.0.0.1", "127.1.2.3", "127.255.255.254", "::1", "::ffff:127.0.0.1",
                          "0:0:0:0:0:0:0:1"}) {
    EXPECT_TRUE(is_loopback_address(yes)) << yes;
  }
  for (const char* no :
       {"10.0.0.1", "192.168.1.5", "0.0.0.0", "::", "128.0.0.1", "::2", "::ffff:10.0.0.1",
        "fe80::1", "", "localhost", "127.0.0.1 ", "127.0.0.1:80", "1.127.0.0"}) {
    EXPECT_FALSE(is_loopback_address(no)) << no;
  }
}

TEST(CheckAdminAccess, DecidesEveryCase) {
  const std::string token = "s3cret-admin-token-0123456789";
  struct row {
    std::string configured, authorization, peer;
    admin_access want;
  };
  const row table[] = {
      // No token configured: loopback only.
      {"", "", "127.0.0.1", admin_access::loopback},
      {"", "", "::1", admin_access::loopback},
      {"", "Bearer anything", "127.0.0.1", admin_access::loopback},
      {"", "", "10.0.0.7", admin_access::not_loopback},
      {"", "Bearer " + token, "192.168.1.5", admin_access::not_loopback},
      // A token configured: required from everyone, loopback too.
      {token, "Bearer " + token, "127.0.0.1", admin_access::token},
      {token, "Bearer " + token, "10.0.0.7", admin_access::token},
      {token, "bearer " + token, "10.0.0.7", admin_access::token},
      {token, "", "127.0.0.1", admin_access::missing_token},
      {token, "Basic " + token, "127.0.0.1", admin_access::missing_token},
      {token, "Bearer wrong", "127.0.0.1", admin_access::wrong_token},
      {token, "Bearer " + token + "x", "127.0.0.1", admin_access::wrong_token},
      {token, "Bearer " + token.substr(1), "127.0.0.1", admin_access::wrong_token},
  };
  for (const auto& r : table) {
    SCOPED_TRACE(r.authorization + " from " + r.peer);
    const admin_access got = check_admin_access(r.configured, r.authorization, r.peer);
    EXPECT_EQ(got, r.want) << name_of(got);
    EXPECT_EQ(allowed(got), r.want == admin_access::token || r.want == admin_access::loopback);
  }
}

class LoadAdminToken : public ::testing::Test {
 protected:
  std::string write(const std::string& content, mode_t mode = 0600) {
    const std::string path = (dir_.path() / ("token" + std::to_string(n_++))).string();
    std::ofstream(path, std::ios::binary) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }
  test::temp_dir dir_;
  int n_ = 0;
};

TEST_F(LoadAdminToken, AcceptsOneLineAndTrimsIt) {
  std::string token, warning;
  EXPECT_EQ(load_admin_token(write("0123456789abcdef\n"), token, warning), "");
  EXPECT_EQ(token, "0123456789abcdef");
  EXPECT_EQ(warning, "");
  EXPECT_EQ(load_admin_token(write("  \r\nLong-Token_with.punct!0123\r\n\n"), token, warning), "");
  EXPECT_EQ(token, "Long-Token_with.punct!0123");
  EXPECT_EQ(load_admin_token(write(std::string(1024, 'z')), token, warning), "");
  EXPECT_EQ(token.size(), 1024u);
}

TEST_F(LoadAdminToken, RefusesBadFilesWithoutShowingTheToken) {
  struct row {
    std::string content;
    std::string error_end;
  };
  const row table[] = {
      {"", "the file is empty"},
      {" \n\n", "the file is empty"},
      {"Zq9-tiny", "the token is shorter than 16 bytes"},
      {std::string(1025, 'z'), "the token is longer than 1024 bytes"},
      {"two words-0123456789", "the token must be one line of visible ASCII (no spaces)"},
      {"line-one-01234567\nline-two-01234567",
       "the token must be one line of visible ASCII (no spaces)"},
  };
  for (const auto& r : table) {
    SCOPED_TRACE(test::printable(r.content));
    const std::string path = write(r.content);
    std::string token = "unchanged", warning;
    const std::string err = load_admin_token(path, token, warning);
    EXPECT_EQ(err, "admin_token_file: " + path + ": " + r.error_end);
    EXPECT_EQ(token, "unchanged");
    if (r.content.size() > 3) {
      EXPECT_EQ(err.find(r.content.substr(0, 5)), std::string::npos) << "the token leaked";
    }
  }
  std::string token, warning;
  const std::string missing = (dir_.path() / "missing").string();
  EXPECT_EQ(load_admin_token(missing, token, warning)
                .rfind("admin_token_file: " + missing + ": cannot read", 0),
            0u);
}

TEST_F(LoadAdminToken, WarnsWhenOthersMayReadTheFile) {
  std::string token, warning;
  EXPECT_EQ(load_admin_token(write("0123456789abcdef", 0644), token, warning), "");
  EXPECT_EQ(warning, "the file is readable by group or others; chmod 600 it");
  EXPECT_EQ(load_admin_token(write("0123456789abcdef", 0400), token, warning), "");
  EXPECT_EQ(warning, "");
}

}  // namespace
}  // namespace pvc
