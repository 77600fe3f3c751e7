#include "core/udp_classify.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

namespace pvc {
namespace {

// The masks as udp_classify.hpp defines them, a byte at a time.
struct masks {
  std::vector<std::uint64_t> separators, unusual;
  bool any_unusual = false;
  bool operator==(const masks&) const = default;
};

masks by_definition(std::string_view d) {
  masks m;
  m.separators.assign((d.size() + 63) / 64, 0);
  m.unusual.assign((d.size() + 63) / 64, 0);
  for (std::size_t i = 0; i < d.size(); ++i) {
    const auto c = static_cast<unsigned char>(d[i]);
    const std::uint64_t bit = std::uint64_t{1} << (i % 64);
    if (c == ' ' || c == '\n') {
      m.separators[i / 64] |= bit;
    } else if (c < 0x21 || c > 0x7E || c == '%' || c == '+') {
      m.unusual[i / 64] |= bit;
      m.any_unusual = true;
    }
  }
  return m;
}

masks classified(byte_classifier c, std::string_view d) {
  // An exact-size copy, so a read past the end is a sanitizer report.
  std::unique_ptr<char[]> exact(new char[d.size()]);
  std::copy(d.begin(), d.end(), exact.get());
  masks m;
  m.separators.assign((d.size() + 63) / 64, ~std::uint64_t{0});
  m.unusual.assign((d.size() + 63) / 64, ~std::uint64_t{0});
  m.any_unusual = classify_bytes(c, {exact.get(), d.size()}, m.separators.data(), m.unusual.data());
  return m;
}

// The classifiers this CPU runs: SSE2 on every x86-64, AVX2 when it has it.
std::vector<byte_classifier> runnable() {
  std::vector<byte_classifier> v;
  for (byte_classifier c : {byte_classifier::sse2, byte_classifier::avx2})
    if (cpu_runs(c)) v.push_back(c);
  return v;
}

const char* name(byte_classifier c) {
  return c == byte_classifier::avx2 ? "avx2" : "sse2";
}

TEST(UdpClassify, TheCpuRunsItsBestAndTheNarrowerOnes) {
  EXPECT_TRUE(cpu_runs(byte_classifier::none));
  EXPECT_TRUE(cpu_runs(best_byte_classifier()));
  if (best_byte_classifier() == byte_classifier::avx2) {
    EXPECT_TRUE(cpu_runs(byte_classifier::sse2));
  } else {
    EXPECT_FALSE(cpu_runs(byte_classifier::avx2));
  }
}

TEST(UdpClassify, EveryByteValueAtEveryPlaceOfAWord) {
  if (runnable().empty()) GTEST_SKIP() << "no SIMD classifier on this CPU";
  // Each of the 256 values at each of the 64 places of the first word, in
  // datagrams that end at, before and after that place: every step (16 or 32
  // bytes), the padded tail, and the word's end.
  for (byte_classifier c : runnable()) {
    for (int value = 0; value < 256; ++value) {
      for (std::size_t at = 0; at < 64; ++at) {
        for (std::size_t size : {at + 1, at + 2, std::size_t{64}, std::size_t{65}, at + 70}) {
          std::string d(size, 'a');
          d[at] = static_cast<char>(value);
          ASSERT_EQ(classified(c, d), by_definition(d))
              << name(c) << ", byte " << value << " at " << at << " of " << size;
        }
      }
    }
  }
}

TEST(UdpClassify, RandomDatagramsOfEveryLength) {
  if (runnable().empty()) GTEST_SKIP() << "no SIMD classifier on this CPU";
  std::mt19937 rng(20261128);
  // Mostly id bytes, with separators and the odd unusual byte, as real lines.
  const std::string alphabet = "abz/-09  \n\n%+\x01\x7f\x80\xff\r~!";
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  for (std::size_t size = 1; size <= 1500; ++size) {
    std::string d(size, 'a');
    for (char& ch : d)
      ch = alphabet[pick(rng)];
    const masks expected = by_definition(d);
    for (byte_classifier c : runnable())
      ASSERT_EQ(classified(c, d), expected) << name(c) << ", " << size << " bytes";
  }
}

TEST(UdpClassify, AnyUnusualIsFalseForPlainLines) {
  if (runnable().empty()) GTEST_SKIP() << "no SIMD classifier on this CPU";
  const std::string d = "news /tin-tuc/2026/11/bai-viet-1 3\nnews /a\n";
  for (byte_classifier c : runnable()) {
    const masks m = classified(c, d);
    EXPECT_FALSE(m.any_unusual) << name(c);
    EXPECT_EQ(m, by_definition(d)) << name(c);
  }
}

}  // namespace
}  // namespace pvc
