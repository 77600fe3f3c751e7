#pragma once
// Counts one UDP datagram: the listener's whole hot path after recvmmsg,
// kept here (in the core, free of Asio) so the benchmarks and tests run the
// daemon's own code.
//
// Two lanes with one meaning. The fast lane classifies the datagram's bytes
// into bit masks (udp_classify.hpp: separators, and bytes that need a closer
// look) and walks the separators' bits to split lines and fields: no
// per-line scan, no copy, the ids point into the datagram. A line it cannot take as it stands (an
// escape, a byte of UTF-8 or a bad byte, a wrong field count, an id too long, a bad COUNT, an empty
// line) goes to parse_udp_line, the one definition of the format, which accepts or refuses it with
// its reason. Tests and a fuzz target hold the two lanes to the same results.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/counter_table.hpp"
#include "core/hit_parser.hpp"
#include "core/udp_classify.hpp"

namespace pvc {

// The largest datagram the fast lane classifies (above the largest UDP
// payload, 65,527 bytes over IPv6); a longer string, which only a caller
// other than the listener can pass, is counted line by line.
inline constexpr std::size_t max_classified_datagram = 65536;

// Scratch for counting datagrams: one batch of parsed lines (their hits and
// the buffers %-decoded ids live in) and the byte-class masks of the current
// datagram. About 30 KB; keep one per thread and reuse it.
struct udp_batch {
  static constexpr std::size_t mask_words = max_classified_datagram / 64;

  std::array<hit, counter_shard::max_batch> hits;
  std::array<hit_scratch, counter_shard::max_batch> scratch;
  // Bit i of word i/64: byte i is a space or an LF (the separators); byte i
  // is outside 0x21..0x7E (but not a separator) or '%' or '+' (an id with
  // such a byte, UTF-8 included, takes the slow lane, which validates it).
  std::array<std::uint64_t, mask_words> separators;
  std::array<std::uint64_t, mask_words> unusual;
};

// Parses every line of each datagram given to count() and counts it into
// `shard`: valid lines go in batches of up to counter_shard::max_batch
// through record_batch, invalid ones are rejected with their reason. An
// empty datagram is one malformed hit. Lines wait in `batch` until it is
// full or finish() runs, so one recvmmsg batch of one-line datagrams is one
// record_batch call; the datagrams' bytes must stay put until then. Call
// finish() after the last count(): the destructor does not count (it may
// run while an exception unwinds, after part of a batch was counted).
class udp_counter {
 public:
  udp_counter(counter_shard& shard, udp_batch& batch,
              byte_classifier classifier = best_byte_classifier())
      : shard_(shard), batch_(batch), classifier_(classifier) {}
  udp_counter(const udp_counter&) = delete;
  udp_counter& operator=(const udp_counter&) = delete;

  void count(std::string_view datagram);
  // Counts the lines still waiting.
  void finish();

 private:
  // Takes batch_.hits[waiting_], filled by the caller, into the batch.
  void add();
  void parse_slow(std::string_view line);

  counter_shard& shard_;
  udp_batch& batch_;
  byte_classifier classifier_;
  std::size_t waiting_ = 0;
};

// One datagram on its own: udp_counter's count() then finish().
void count_udp_datagram(std::string_view datagram, counter_shard& shard, udp_batch& batch);

}  // namespace pvc
