// libFuzzer target: a UDP datagram through pvc::for_each_udp_line and
// pvc::parse_udp_line, exactly as the UDP listener handles it.
//
// Checks, besides "no crash, no sanitizer report":
//   - the lines handed out, rejoined with LF, are the datagram (modulo one CR
//     before each LF and the last LF): nothing skipped, nothing invented;
//   - an accepted line has two valid ids (well-formed UTF-8, no space,
//     whitespace or control character) and COUNT 1..1000000, and its ids
//     agree with the reference decoder; a refusal has a reason text;
//   - an accepted line, written back as "SITE ARTICLE COUNT" with every id
//     byte %-encoded, parses to the same hit;
//   - count_udp_datagram (the listener's fast lane) leaves a shard exactly as
//     the lines above, recorded one by one, do: same counts, same refusals;
//     so does a udp_counter with each byte classifier this CPU runs (none,
//     SSE2, AVX2), and one udp_counter given the datagram's two halves.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <memory>
#include <tuple>
#include <vector>

#include "core/hit_parser.hpp"
#include "core/udp_datagram.hpp"
#include "fuzz_check.hpp"

using namespace pvc;

namespace {

// What a shard holds after counting: drained counts plus its UDP stats.
using shard_view = std::tuple<std::vector<std::tuple<std::string, std::string, std::uint64_t>>,
                              std::uint64_t, std::uint64_t, std::vector<std::uint64_t>>;

shard_view observe(counter_shard& shard) {
  constexpr auto udp = static_cast<std::size_t>(transport::udp);
  shard_view v;
  std::get<1>(v) = shard.stats().hits_accepted[udp].get();
  std::get<2>(v) = shard.stats().views_accepted[udp].get();
  for (const auto& n : shard.stats().hits_rejected[udp])
    std::get<3>(v).push_back(n.get());
  std::vector<std::unique_ptr<delta_table>> tables;
  shard.drain(tables);
  for (const auto& t : tables) {
    t->for_each([&](std::string_view s, std::string_view a, std::uint64_t n) {
      std::get<0>(v).emplace_back(std::string(s), std::string(a), n);
    });
  }
  std::sort(std::get<0>(v).begin(), std::get<0>(v).end());
  return v;
}

// The reference: a datagram's lines parsed and recorded one at a time.
void record_line_by_line(std::string_view datagram, counter_shard& shard) {
  if (datagram.empty()) shard.reject(transport::udp, reject_reason::malformed);
  for_each_udp_line(datagram, [&](std::string_view line) {
    hit_scratch scratch;
    const hit_result r = parse_udp_line(line, scratch);
    if (r.ok) {
      shard.record(r.value, transport::udp);
    } else {
      shard.reject(transport::udp, r.reason);
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view datagram(reinterpret_cast<const char*>(data), size);
  std::size_t consumed = 0;  // bytes of the datagram accounted for by the lines so far
  std::string ref;
  for_each_udp_line(datagram, [&](std::string_view line) {
    // The line is the datagram's next bytes, up to an optional CR and LF.
    FUZZ_CHECK(line.data() == datagram.data() + consumed);
    consumed += line.size();
    if (consumed < datagram.size() && datagram[consumed] == '\r') ++consumed;
    if (consumed < datagram.size()) {
      FUZZ_CHECK(datagram[consumed] == '\n');
      ++consumed;
    }
    FUZZ_CHECK(line.find('\n') == std::string_view::npos);

    hit_scratch scratch;
    const hit_result r = parse_udp_line(line, scratch);
    if (!r.ok) {
      FUZZ_CHECK(!r.detail.empty());
      return;
    }
    fuzz::check_valid_id(r.value.site);
    fuzz::check_valid_id(r.value.article);
    FUZZ_CHECK(r.value.count >= 1 && r.value.count <= max_hit_count);
    // The ids are the decoded first two fields.
    const std::size_t sp = line.find(' ');
    FUZZ_CHECK(sp != std::string_view::npos);
    const decoded_id site = fuzz::reference_decode(line.substr(0, sp), ref);
    FUZZ_CHECK(site.status == id_status::ok && site.value == r.value.site);
    const std::size_t sp2 = line.find(' ', sp + 1);
    const decoded_id article = fuzz::reference_decode(
        line.substr(sp + 1, sp2 == std::string_view::npos ? sp2 : sp2 - sp - 1), ref);
    FUZZ_CHECK(article.status == id_status::ok && article.value == r.value.article);

    const std::string again = fuzz::encode_all(r.value.site) + " " +
                              fuzz::encode_all(r.value.article) + " " +
                              std::to_string(r.value.count);
    hit_scratch scratch2;
    const hit_result r2 = parse_udp_line(again, scratch2);
    FUZZ_CHECK(r2.ok);
    FUZZ_CHECK(r2.value.site == r.value.site && r2.value.article == r.value.article);
    FUZZ_CHECK(r2.value.count == r.value.count);
  });
  FUZZ_CHECK(consumed == datagram.size());

  // The fast lane against the lines recorded one by one (few sites allowed,
  // so site_limit refusals are compared too).
  static auto batch = std::make_unique<udp_batch>();
  site_registry fast_sites(2), slow_sites(2);
  counter_table fast(1, fast_sites, 20787), slow(1, slow_sites, 20787);
  count_udp_datagram(datagram, fast.shard(0), *batch);
  record_line_by_line(datagram, slow.shard(0));
  const shard_view want = observe(slow.shard(0));
  FUZZ_CHECK(observe(fast.shard(0)) == want);
  for (byte_classifier c : {byte_classifier::none, byte_classifier::sse2, byte_classifier::avx2}) {
    if (!cpu_runs(c)) continue;
    site_registry each_sites(2);
    counter_table each(1, each_sites, 20787);
    udp_counter counter(each.shard(0), *batch, c);
    counter.count(datagram);
    counter.finish();
    FUZZ_CHECK(observe(each.shard(0)) == want);
  }

  // The same bytes as two datagrams, cut in the middle, through one
  // udp_counter (as the listener counts one recvmmsg batch: hits and decoded
  // ids wait in the batch across datagrams), against their lines one by one.
  const std::size_t cut = datagram.size() / 2;
  const std::string_view halves[] = {datagram.substr(0, cut), datagram.substr(cut)};
  site_registry together_sites(2), apart_sites(2);
  counter_table together(1, together_sites, 20787), apart(1, apart_sites, 20787);
  udp_counter counter(together.shard(0), *batch);
  for (std::string_view half : halves) {
    counter.count(half);
    record_line_by_line(half, apart.shard(0));
  }
  counter.finish();
  FUZZ_CHECK(observe(together.shard(0)) == observe(apart.shard(0)));
  return 0;
}
