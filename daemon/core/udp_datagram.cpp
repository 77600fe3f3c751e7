#include "core/udp_datagram.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <utility>

#include "core/ids.hpp"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace pvc {
namespace {

#if defined(__SSE2__)

// Fills the two masks for datagram bytes [0, size), size >= 1, and returns
// how many words hold them.
std::size_t classify(std::string_view d, udp_batch& b) {
  const __m128i space = _mm_set1_epi8(' '), lf = _mm_set1_epi8('\n');
  const char* p = d.data();
  const std::size_t size = d.size();
  const std::size_t words = (size + 63) / 64;
  for (std::size_t w = 0; w < words; ++w) {
    std::uint64_t separators = 0, unusual = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const std::size_t at = w * 64 + k * 16;
      if (at >= size) break;
      __m128i v;
      if (size - at >= 16) {
        v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
      } else {
        // The last few bytes, padded with 'x' (an ordinary id byte, so the
        // padding sets no bit), never read past the datagram.
        alignas(16) char tail[16];
        std::memset(tail, 'x', sizeof tail);
        std::memcpy(tail, p + at, size - at);
        v = _mm_load_si128(reinterpret_cast<const __m128i*>(tail));
      }
      const __m128i sep = _mm_or_si128(_mm_cmpeq_epi8(v, space), _mm_cmpeq_epi8(v, lf));
      // The id rule's classes (ids.hpp); the separators are invisible bytes
      // too, and are masked out again.
      const __m128i odd = _mm_or_si128(detail::invisible_bytes16(v), detail::escape_bytes16(v));
      separators |= std::uint64_t{static_cast<std::uint16_t>(_mm_movemask_epi8(sep))} << (k * 16);
      unusual |=
          std::uint64_t{static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_andnot_si128(sep, odd)))}
          << (k * 16);
    }
    b.separators[w] = separators;
    b.unusual[w] = unusual;
  }
  return words;
}

// The set bits of a mask, in order.
class bit_cursor {
 public:
  bit_cursor(const std::uint64_t* words, std::size_t count)
      : words_(words), count_(count), bits_(words[0]) {}
  // The next set bit's position, or SIZE_MAX after the last.
  std::size_t next() noexcept {
    while (bits_ == 0) {
      if (++w_ >= count_) return SIZE_MAX;
      bits_ = words_[w_];
    }
    const std::size_t at = w_ * 64 + static_cast<std::size_t>(std::countr_zero(bits_));
    bits_ &= bits_ - 1;
    return at;
  }

 private:
  const std::uint64_t* words_;
  std::size_t count_;
  std::size_t w_ = 0;
  std::uint64_t bits_;
};

// Some bit of `m` set in [begin, end), end > begin.
bool any_bit(const std::uint64_t* m, std::size_t begin, std::size_t end) noexcept {
  const std::size_t first = begin / 64, last = (end - 1) / 64;
  const std::uint64_t from = ~std::uint64_t{0} << (begin % 64);
  const std::uint64_t to = ~std::uint64_t{0} >> (63 - (end - 1) % 64);
  if (first == last) return (m[first] & from & to) != 0;
  if ((m[first] & from) != 0) return true;
  for (std::size_t w = first + 1; w < last; ++w)
    if (m[w] != 0) return true;
  return (m[last] & to) != 0;
}

// One line as the separators split it: [begin, end) without CR/LF, and the
// positions of its first two spaces (`spaces` counts them all).
struct line_shape {
  std::size_t begin, end;
  std::size_t space[2];
  std::size_t spaces;
};

// The fast lane: true with `h` filled when the line is plainly
// "SITE ARTICLE [COUNT]" (one space each, no byte needing a closer look, ids
// within 200 bytes, a valid COUNT); false when parse_udp_line must decide.
bool take_plain_line(std::string_view d, const udp_batch& b, const line_shape& l, hit& h) {
  if (l.spaces == 0 || l.spaces > 2) return false;
  const std::size_t sp1 = l.space[0];
  const std::size_t article_end = l.spaces == 2 ? l.space[1] : l.end;
  if (sp1 == l.begin || article_end == sp1 + 1) return false;
  if (sp1 - l.begin > max_id_bytes || article_end - sp1 - 1 > max_id_bytes) return false;
  // The whole line, COUNT too: an unusual byte there fails parse_count anyway.
  if (any_bit(b.unusual.data(), l.begin, l.end)) return false;
  std::uint32_t count = 1;
  if (l.spaces == 2 &&
      !parse_count(d.substr(article_end + 1, l.end - article_end - 1), max_hit_count, count)) {
    return false;
  }
  h.site = d.substr(l.begin, sp1 - l.begin);
  h.article = d.substr(sp1 + 1, article_end - sp1 - 1);
  h.count = count;
  return true;
}

#endif  // __SSE2__

}  // namespace

void udp_counter::add(const hit& h) {
  batch_.hits[waiting_] = h;
  if (++waiting_ == batch_.hits.size()) finish();
}

void udp_counter::finish() {
  // Emptied first: if record_batch throws part-way (out of memory), the
  // hits it counted are not offered again.
  const std::size_t n = std::exchange(waiting_, 0);
  if (n != 0) shard_.record_batch({batch_.hits.data(), n}, transport::udp);
}

// The slow lane: the format's own parser decides. A decoded id lives in the
// scratch of the batch slot the hit takes.
void udp_counter::parse_slow(std::string_view line) {
  const hit_result r = parse_udp_line(line, batch_.scratch[waiting_]);
  if (r.ok) {
    add(r.value);
  } else {
    shard_.reject(transport::udp, r.reason);
  }
}

void udp_counter::count(std::string_view datagram) {
  if (datagram.empty()) {
    // Not even one line: a datagram must hold one or more.
    shard_.reject(transport::udp, reject_reason::malformed);
    return;
  }
#if defined(__SSE2__)
  if (datagram.size() <= max_classified_datagram) {
    const std::size_t words = classify(datagram, batch_);
    const std::size_t size = datagram.size();
    bit_cursor separators(batch_.separators.data(), words);
    // The same split as for_each_udp_line: lines end at LF (the last one may
    // not), and one CR before the LF is not part of the line.
    for (std::size_t begin = 0; begin < size;) {
      line_shape line{begin, size, {0, 0}, 0};
      for (;;) {
        const std::size_t at = separators.next();
        if (at >= size) break;
        if (datagram[at] == '\n') {
          line.end = at;
          break;
        }
        if (line.spaces < 2) line.space[line.spaces] = at;
        ++line.spaces;
      }
      const std::size_t lf = line.end;
      if (line.end > begin && datagram[line.end - 1] == '\r') --line.end;
      hit h;
      if (take_plain_line(datagram, batch_, line, h)) {
        add(h);
      } else {
        parse_slow(datagram.substr(begin, line.end - begin));
      }
      begin = lf + 1;
    }
    return;
  }
#endif
  for_each_udp_line(datagram, [&](std::string_view line) { parse_slow(line); });
}

void count_udp_datagram(std::string_view datagram, counter_shard& shard, udp_batch& batch) {
  udp_counter counter(shard, batch);
  counter.count(datagram);
  counter.finish();
}

}  // namespace pvc
