// libFuzzer target: the HTTP beacon parser (pvc::parse_http_hit) and the id
// decoder under it (pvc::decode_id), against a byte-by-byte oracle.
//
// Input: QUERY 0x00 BODY (no 0x00: all query, empty body).
// Checks, besides "no crash, no sanitizer report":
//   - decode_id agrees with the slow reference on every field value seen;
//   - an accepted hit has two valid ids (well-formed UTF-8, no space,
//     whitespace or control character) and count 1; a refusal has a reason text;
//   - an accepted hit, written back fully %-encoded, parses to the same hit.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/hit_parser.hpp"
#include "fuzz_check.hpp"

using namespace pvc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = in.find('\0');
  const std::string_view query = in.substr(0, nul);
  const std::string_view body =
      nul == std::string_view::npos ? std::string_view{} : in.substr(nul + 1);

  // The decoder against the oracle, on every field value of both parts.
  std::string ref;
  auto compare = [&](std::string_view, std::string_view value) {
    id_buffer buf;
    const decoded_id fast = decode_id(value, buf);
    const decoded_id slow = fuzz::reference_decode(value, ref);
    FUZZ_CHECK(fast.status == slow.status);
    if (fast.status == id_status::ok) FUZZ_CHECK(fast.value == slow.value);
  };
  for_each_form_field(query, compare);
  for_each_form_field(body, compare);

  hit_scratch scratch;
  const hit_result r = parse_http_hit(query, body, scratch);
  if (!r.ok) {
    FUZZ_CHECK(!r.detail.empty());
    return 0;
  }
  fuzz::check_valid_id(r.value.site);
  fuzz::check_valid_id(r.value.article);
  FUZZ_CHECK(r.value.count == 1);

  // Round trip through the wire format.
  const std::string again =
      "s=" + fuzz::encode_all(r.value.site) + "&a=" + fuzz::encode_all(r.value.article);
  hit_scratch scratch2;
  const hit_result r2 = parse_http_hit(again, {}, scratch2);
  FUZZ_CHECK(r2.ok);
  FUZZ_CHECK(r2.value.site == r.value.site);
  FUZZ_CHECK(r2.value.article == r.value.article);
  return 0;
}
