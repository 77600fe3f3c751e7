#include "core/udp_classify.hpp"

#include <cstring>

#if defined(__SSE2__)
#include <immintrin.h>

#include "core/ids.hpp"
#endif

namespace pvc {
namespace {

#if defined(__SSE2__)

// The last (size % 64) bytes of a datagram, padded to a whole word with 'x'
// (an ordinary id byte, so the padding sets no bit): the loads never read
// past the datagram.
struct padded_tail {
  alignas(64) char bytes[64];
  padded_tail(const char* p, std::size_t n) {
    std::memset(bytes, 'x', sizeof bytes);
    std::memcpy(bytes, p, n);
  }
};

// One 64-byte word, 16 bytes per step. `odd` = the id rule's classes
// (ids.hpp), separators included.
void classify_word_sse2(const char* p, std::uint64_t& separators, std::uint64_t& odd) noexcept {
  const __m128i space = _mm_set1_epi8(' '), lf = _mm_set1_epi8('\n');
  std::uint64_t s = 0, o = 0;
  for (int k = 0; k < 4; ++k) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    const __m128i sep = _mm_or_si128(_mm_cmpeq_epi8(v, space), _mm_cmpeq_epi8(v, lf));
    const __m128i rule = _mm_or_si128(detail::invisible_bytes16(v), detail::escape_bytes16(v));
    s |= std::uint64_t{static_cast<std::uint16_t>(_mm_movemask_epi8(sep))} << (16 * k);
    o |= std::uint64_t{static_cast<std::uint16_t>(_mm_movemask_epi8(rule))} << (16 * k);
  }
  separators = s;
  odd = o;
}

// The same, 32 bytes per step. Compiled for AVX2 only here; called only when
// the CPU has it.
__attribute__((target("avx2"))) void classify_word_avx2(const char* p, std::uint64_t& separators,
                                                        std::uint64_t& odd) noexcept {
  const __m256i space = _mm256_set1_epi8(' '), lf = _mm256_set1_epi8('\n');
  const __m256i first_visible = _mm256_set1_epi8(0x21), del = _mm256_set1_epi8(0x7F);
  const __m256i percent = _mm256_set1_epi8('%'), plus = _mm256_set1_epi8('+');
  std::uint64_t s = 0, o = 0;
  for (int k = 0; k < 2; ++k) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * k));
    const __m256i sep = _mm256_or_si256(_mm256_cmpeq_epi8(v, space), _mm256_cmpeq_epi8(v, lf));
    // Signed compare, as in ids.hpp: "< 0x21" also catches 0x80..0xFF.
    const __m256i invisible =
        _mm256_or_si256(_mm256_cmpgt_epi8(first_visible, v), _mm256_cmpeq_epi8(v, del));
    const __m256i escape =
        _mm256_or_si256(_mm256_cmpeq_epi8(v, percent), _mm256_cmpeq_epi8(v, plus));
    const __m256i rule = _mm256_or_si256(invisible, escape);
    s |= std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(sep))} << (32 * k);
    o |= std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(rule))} << (32 * k);
  }
  separators = s;
  odd = o;
}

// The words of a datagram through one word classifier. Inlined into each
// caller below, so each copy of the loop inlines its own word function.
template <void (*ClassifyWord)(const char*, std::uint64_t&, std::uint64_t&) noexcept>
[[gnu::always_inline]] inline bool classify_words(std::string_view d, std::uint64_t* separators,
                                                  std::uint64_t* unusual) noexcept {
  const std::size_t full = d.size() / 64, rest = d.size() % 64;
  std::uint64_t any_unusual = 0;
  auto finish_word = [&](std::size_t w, std::uint64_t sep, std::uint64_t odd) {
    // The separators are invisible bytes too; they are not unusual.
    separators[w] = sep;
    unusual[w] = odd & ~sep;
    any_unusual |= odd & ~sep;
  };
  for (std::size_t w = 0; w < full; ++w) {
    std::uint64_t sep, odd;
    ClassifyWord(d.data() + 64 * w, sep, odd);
    finish_word(w, sep, odd);
  }
  if (rest != 0) {
    const padded_tail tail(d.data() + 64 * full, rest);
    std::uint64_t sep, odd;
    ClassifyWord(tail.bytes, sep, odd);
    finish_word(full, sep, odd);
  }
  return any_unusual != 0;
}

bool classify_sse2(std::string_view d, std::uint64_t* separators, std::uint64_t* unusual) noexcept {
  return classify_words<classify_word_sse2>(d, separators, unusual);
}

__attribute__((target("avx2"))) bool classify_avx2(std::string_view d, std::uint64_t* separators,
                                                   std::uint64_t* unusual) noexcept {
  return classify_words<classify_word_avx2>(d, separators, unusual);
}

#endif  // __SSE2__

}  // namespace

byte_classifier best_byte_classifier() noexcept {
#if defined(__SSE2__)
  static const byte_classifier best = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? byte_classifier::avx2 : byte_classifier::sse2;
  }();
  return best;
#else
  return byte_classifier::none;
#endif
}

static_assert(byte_classifier::none < byte_classifier::sse2 &&
              byte_classifier::sse2 < byte_classifier::avx2);

bool cpu_runs(byte_classifier c) noexcept {
  // The classifiers are ordered by width: a CPU runs its best and the narrower ones.
  return static_cast<int>(c) <= static_cast<int>(best_byte_classifier());
}

bool classify_bytes(byte_classifier c, std::string_view datagram, std::uint64_t* separators,
                    std::uint64_t* unusual) noexcept {
#if defined(__SSE2__)
  if (c == byte_classifier::avx2) return classify_avx2(datagram, separators, unusual);
  return classify_sse2(datagram, separators, unusual);
#else
  (void)c, (void)datagram, (void)separators, (void)unusual;
  return false;
#endif
}

}  // namespace pvc
