#include "cluster/key_slot.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "test_support.hpp"

namespace pvc::cluster {
namespace {

// The specification's definition, one bit at a time: the table-driven
// crc16_xmodem must agree with it on every input.
std::uint16_t crc16_bitwise(std::string_view bytes) {
  std::uint16_t crc = 0;
  for (const char c : bytes) {
    crc ^= static_cast<std::uint16_t>(static_cast<unsigned char>(c) << 8);
    for (int i = 0; i < 8; ++i) {
      crc = static_cast<std::uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    }
  }
  return crc;
}

TEST(KeySlot, Crc16IsXmodem) {
  // The specification's check value.
  EXPECT_EQ(crc16_xmodem("123456789"), 0x31C3);
  EXPECT_EQ(crc16_xmodem(""), 0);
  std::mt19937 rng(19);
  for (int n = 0; n < 500; ++n) {
    std::string s(static_cast<std::size_t>(rng() % 64), '\0');
    for (char& c : s)
      c = static_cast<char>(rng());
    SCOPED_TRACE(test::printable(s));
    EXPECT_EQ(crc16_xmodem(s), crc16_bitwise(s));
  }
}

TEST(KeySlot, HashTagsFollowTheSpecification) {
  struct row {
    std::string_view key;
    std::string_view hashed;
  };
  const row table[] = {
      {"{user1000}.following", "user1000"},
      {"{user1000}.followers", "user1000"},
      {"foo{}{bar}", "foo{}{bar}"},  // the first tag is empty: the whole key
      {"foo{{bar}}zap", "{bar"},     // from the first '{' to the first '}' after it
      {"foo{bar}{zap}", "bar"},      // only the first tag counts
      {"{soctrang.gov.vn}:/tin-tức/bài-1", "soctrang.gov.vn"},
      {"{Giới thiệu}:a", "Giới thiệu"},
      {"no tag", "no tag"},
      {"open{only", "open{only"},
      {"}{x}", "x"},  // a '}' before the first '{' does not close anything
      {"{}", "{}"},
      {"{", "{"},
      {"", ""},
  };
  for (const row& r : table) {
    SCOPED_TRACE(test::printable(r.key));
    EXPECT_EQ(hashed_part(r.key), r.hashed);
  }
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
  EXPECT_EQ(key_slot("foo{bar}{zap}"), key_slot("bar"));
  EXPECT_EQ(key_slot("foo{{bar}}zap"), key_slot("{bar"));
}

TEST(KeySlot, KnownSlotsMatchRedis) {
  // Each value as `redis-cli CLUSTER KEYSLOT <key>` gives it on redis-server
  // 7.0.15 (the integration suite asks a live cluster for many more).
  struct row {
    std::string_view key;
    std::uint16_t slot;
  };
  const row table[] = {
      {"foo", 12182},
      {"bar", 5061},
      {"123456789", 12739},
      {"", 0},
      {"user1000", 3443},
      {"{user1000}.following", 3443},
      {"foo{}{bar}", 8363},
      {"foo{{bar}}zap", 4015},
      {"foo{bar}{zap}", 5061},
      {"{soctrang.gov.vn}:/tin-tức/bài-1", 6377},
      {"/tin-tức/bài-1", 8521},
      {"Giới thiệu", 10258},
      // Binary bytes, and a tag of one non-UTF-8 byte.
      {std::string_view("a\x01\xff\xfe{\x80}z", 8), 4488},
  };
  for (const row& r : table) {
    SCOPED_TRACE(test::printable(r.key));
    EXPECT_EQ(key_slot(r.key), r.slot);
  }
}

TEST(KeySlot, EverySlotIsInRange) {
  std::mt19937 rng(7);
  for (int n = 0; n < 2000; ++n) {
    std::string s(static_cast<std::size_t>(rng() % 40), '\0');
    for (char& c : s)
      c = static_cast<char>(rng());
    EXPECT_LT(key_slot(s), slot_count);
  }
}

}  // namespace
}  // namespace pvc::cluster
