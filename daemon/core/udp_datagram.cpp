#include "core/udp_datagram.hpp"

#include <bit>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace pvc {
namespace {

// Collects hits and hands them to the shard a batch at a time.
class batcher {
 public:
  batcher(counter_shard& shard, udp_batch& batch) : shard_(shard), batch_(batch) {}
  // Counts what is left; call once at the end.
  void finish() {
    if (n_ != 0) shard_.record_batch({batch_.hits.data(), n_}, transport::udp);
    n_ = 0;
  }
  // Where the next slow-lane line may decode its ids.
  hit_scratch& scratch() noexcept { return batch_.scratch[n_]; }
  void add(const hit& h) {
    batch_.hits[n_] = h;
    if (++n_ == batch_.hits.size()) {
      shard_.record_batch(batch_.hits, transport::udp);
      n_ = 0;
    }
  }
  // The slow lane: the format's own parser decides.
  void parse(std::string_view line) {
    const hit_result r = parse_udp_line(line, scratch());
    if (r.ok) {
      add(r.value);
    } else {
      shard_.reject(transport::udp, r.reason);
    }
  }

 private:
  counter_shard& shard_;
  udp_batch& batch_;
  std::size_t n_ = 0;
};

#if defined(__SSE2__)

// Fills the three masks for datagram bytes [0, size); the word after the
// last is zero, so a search may read one word past the end.
void classify(std::string_view d, udp_batch& b) {
  const __m128i space = _mm_set1_epi8(' '), lf = _mm_set1_epi8('\n');
  const __m128i lowest = _mm_set1_epi8(0x21), del = _mm_set1_epi8(0x7F);
  const __m128i pct = _mm_set1_epi8('%'), plus = _mm_set1_epi8('+');
  auto masks16 = [&](__m128i v, std::uint64_t& sp, std::uint64_t& nl, std::uint64_t& odd) {
    sp = static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, space)));
    nl = static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf)));
    // Signed compare: "< 0x21" also takes 0x80..0xFF.
    const __m128i o = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, lowest), _mm_cmpeq_epi8(v, del)),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, pct), _mm_cmpeq_epi8(v, plus)));
    odd = static_cast<std::uint16_t>(_mm_movemask_epi8(o));
  };
  const char* p = d.data();
  const std::size_t size = d.size();
  const std::size_t words = size / 64 + 1;
  for (std::size_t w = 0; w < words; ++w) {
    std::uint64_t sp = 0, nl = 0, odd = 0;
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
      std::uint64_t s16, n16, o16;
      masks16(v, s16, n16, o16);
      sp |= s16 << (k * 16);
      nl |= n16 << (k * 16);
      odd |= o16 << (k * 16);
    }
    b.spaces[w] = sp;
    b.newlines[w] = nl;
    b.unusual[w] = odd;
  }
  b.spaces[words] = b.newlines[words] = b.unusual[words] = 0;
}

// The first set bit of `m` in [from, to), or `to` when there is none.
std::size_t next_bit(const std::uint64_t* m, std::size_t from, std::size_t to) noexcept {
  std::size_t w = from / 64;
  std::uint64_t bits = m[w] & (~std::uint64_t{0} << (from % 64));
  for (;;) {
    if (bits != 0) {
      const std::size_t at = w * 64 + static_cast<std::size_t>(std::countr_zero(bits));
      return at < to ? at : to;
    }
    if (++w * 64 >= to) return to;
    bits = m[w];
  }
}

// The fast lane for line [begin, end) (without CR/LF): true with `h` filled
// when the line is plainly "SITE ARTICLE [COUNT]" with no escapes; false
// when parse_udp_line must decide.
bool take_plain_line(std::string_view d, const udp_batch& b, std::size_t begin, std::size_t end,
                     hit& h) {
  const std::size_t sp1 = next_bit(b.spaces.data(), begin, end);
  if (sp1 == end || sp1 == begin) return false;
  const std::size_t sp2 = next_bit(b.spaces.data(), sp1 + 1, end);
  const std::size_t article_end = sp2;
  if (article_end == sp1 + 1) return false;
  if (sp1 - begin > max_id_bytes || article_end - sp1 - 1 > max_id_bytes) return false;
  if (next_bit(b.unusual.data(), begin, sp1) != sp1) return false;
  if (next_bit(b.unusual.data(), sp1 + 1, article_end) != article_end) return false;
  std::uint32_t count = 1;
  if (sp2 != end) {
    // The count's own checks (digits only, 1..max) are parse_count's; a
    // third space makes it fail them.
    if (!parse_count(d.substr(sp2 + 1, end - sp2 - 1), max_hit_count, count)) return false;
  }
  h.site = d.substr(begin, sp1 - begin);
  h.article = d.substr(sp1 + 1, article_end - sp1 - 1);
  h.count = count;
  return true;
}

#endif  // __SSE2__

}  // namespace

void count_udp_datagram(std::string_view datagram, counter_shard& shard, udp_batch& batch) {
  if (datagram.empty()) {
    // Not even one line: a datagram must hold one or more.
    shard.reject(transport::udp, reject_reason::malformed);
    return;
  }
  batcher out(shard, batch);
#if defined(__SSE2__)
  if (datagram.size() <= max_classified_datagram) {
    classify(datagram, batch);
    const std::size_t size = datagram.size();
    // The same split as for_each_udp_line: lines end at LF (the last one may
    // not), and one CR before the LF is not part of the line.
    for (std::size_t begin = 0; begin < size;) {
      const std::size_t lf = next_bit(batch.newlines.data(), begin, size);
      std::size_t end = lf;
      if (end > begin && datagram[end - 1] == '\r') --end;
      hit h;
      if (take_plain_line(datagram, batch, begin, end, h)) {
        out.add(h);
      } else {
        out.parse(datagram.substr(begin, end - begin));
      }
      begin = lf + 1;
    }
    out.finish();
    return;
  }
#endif
  for_each_udp_line(datagram, [&](std::string_view line) { out.parse(line); });
  out.finish();
}

}  // namespace pvc
