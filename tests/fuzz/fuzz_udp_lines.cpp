// libFuzzer target: a UDP datagram through pvc::for_each_udp_line and
// pvc::parse_udp_line, exactly as the UDP listener handles it.
//
// Checks, besides "no crash, no sanitizer report":
//   - the lines handed out, rejoined with LF, are the datagram (modulo one CR
//     before each LF and the last LF): nothing skipped, nothing invented;
//   - an accepted line has two valid ids and COUNT 1..1000000, and its ids
//     agree with the reference decoder; a refusal has a reason text;
//   - an accepted line, written back as "SITE ARTICLE COUNT" with every id
//     byte %-encoded, parses to the same hit.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/hit_parser.hpp"
#include "fuzz_check.hpp"

using namespace pvc;

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
  return 0;
}
