#include "core/hash.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace pvc {
namespace {

TEST(HashBytes, SameInputSameSeedSameHash) {
  EXPECT_EQ(hash_bytes("news/a", 1), hash_bytes(std::string("news/a"), 1));
  EXPECT_EQ(process_hash_seed(), process_hash_seed());
}

TEST(HashBytes, SeedChangesTheHash) {
  EXPECT_NE(hash_bytes("news/a", 1), hash_bytes("news/a", 2));
}

TEST(HashBytes, EveryLengthAndEveryByteMatters) {
  // Lengths 0..64 cover the 8-byte loop and every tail size; changing any
  // single byte (in the words or the tail) must change the hash.
  std::set<std::uint64_t> seen;
  std::size_t inputs = 0;
  for (std::size_t len = 0; len <= 64; ++len) {
    const std::string base(len, 'a');
    seen.insert(hash_bytes(base, 42));
    ++inputs;
    for (std::size_t i = 0; i < len; ++i) {
      std::string changed = base;
      changed[i] = 'b';
      seen.insert(hash_bytes(changed, 42));
      ++inputs;
    }
  }
  EXPECT_EQ(seen.size(), inputs);
}

TEST(BytesEqual, EveryLengthAndEveryPosition) {
  // Lengths around each load width (1, 4, 8, 16 and the 8- and 16-byte
  // loops), a difference at every position, and equal inputs at distinct
  // addresses.
  for (std::size_t n = 0; n <= 70; ++n) {
    const std::string a(n, 'k');
    std::string b = a;
    EXPECT_TRUE(bytes_equal(a.data(), b.data(), n)) << n;
    for (std::size_t i = 0; i < n; ++i) {
      b[i] = 'K';
      EXPECT_FALSE(bytes_equal(a.data(), b.data(), n)) << n << " differ at " << i;
      b[i] = 'k';
    }
  }
}

TEST(HashKey, SplitPointMatters) {
  EXPECT_NE(hash_key("ab", "c", 7), hash_key("a", "bc", 7));
  EXPECT_NE(hash_key("blog", "x", 7), hash_key("news", "x", 7));
  EXPECT_EQ(hash_key("blog", "x", 7), hash_key("blog", "x", 7));
}

}  // namespace
}  // namespace pvc
