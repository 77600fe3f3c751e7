#include "core/udp_datagram.hpp"

#include <bit>
#include <cstdint>
#include <utility>

#include "core/ids.hpp"
#include "core/udp_classify.hpp"

namespace pvc {
namespace {

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
// `any_unusual`: whether the datagram has any unusual byte at all.
bool take_plain_line(std::string_view d, const udp_batch& b, bool any_unusual, const line_shape& l,
                     hit& h) {
  if (l.spaces == 0 || l.spaces > 2) return false;
  const std::size_t sp1 = l.space[0];
  const std::size_t article_end = l.spaces == 2 ? l.space[1] : l.end;
  if (sp1 == l.begin || article_end == sp1 + 1) return false;
  if (sp1 - l.begin > max_id_bytes || article_end - sp1 - 1 > max_id_bytes) return false;
  // The whole line, COUNT too: an unusual byte there fails parse_count anyway.
  if (any_unusual && any_bit(b.unusual.data(), l.begin, l.end)) return false;
  std::uint32_t count = 1;
  if (l.spaces == 2 &&
      !parse_count(d.substr(article_end + 1, l.end - article_end - 1), max_hit_count, count)) {
    return false;
  }
  // In bounds by construction (the separators are inside d): no substr checks.
  h.site = std::string_view(d.data() + l.begin, sp1 - l.begin);
  h.article = std::string_view(d.data() + sp1 + 1, article_end - sp1 - 1);
  h.count = count;
  return true;
}

}  // namespace

void udp_counter::add() {
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
    batch_.hits[waiting_] = r.value;
    add();
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
  if (classifier_ != byte_classifier::none && datagram.size() <= max_classified_datagram) {
    const std::size_t size = datagram.size();
    const std::size_t words = (size + 63) / 64;
    const bool any_unusual =
        classify_bytes(classifier_, datagram, batch_.separators.data(), batch_.unusual.data());
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
      // Parsed straight into the batch's next place; it counts once add()ed.
      if (take_plain_line(datagram, batch_, any_unusual, line, batch_.hits[waiting_])) {
        add();
      } else {
        parse_slow(datagram.substr(begin, line.end - begin));
      }
      begin = lf + 1;
    }
    return;
  }
  for_each_udp_line(datagram, [&](std::string_view line) { parse_slow(line); });
}

void count_udp_datagram(std::string_view datagram, counter_shard& shard, udp_batch& batch) {
  udp_counter counter(shard, batch);
  counter.count(datagram);
  counter.finish();
}

}  // namespace pvc
