#pragma once
// Parsers for the two beacon wire formats. Pure functions over string_view:
// no allocation, no I/O; decoded ids land in caller-owned buffers.
//
// HTTP: the query string and/or a form or text/plain body (what
// navigator.sendBeacon sends), both in form encoding:
//
//     s=SITE&a=ARTICLE[&other=ignored...]
//     |      |         '- unknown fields (cache busters) are ignored
//     |      '- required, 1-200 bytes of UTF-8 after %-decoding (core/ids.hpp)
//     '- optional, defaults to "default"
//
//   A field given twice (in the query, the body, or across both) is
//   `malformed`: we refuse to guess which one the page meant.
//
// UDP: a datagram holds one or more lines, each terminated by LF (the last LF
// may be missing; a CR before the LF is tolerated):
//
//     SITE SP ARTICLE [SP COUNT] LF
//     COUNT = 1..1000000 in decimal, default 1
//
//   Fields are separated by exactly one space. Ids are %-decoded like HTTP.
#include <cstdint>
#include <string_view>

#include "core/ids.hpp"
#include "core/reject_reason.hpp"

namespace pvc {

inline constexpr std::string_view default_site = "default";
inline constexpr std::uint32_t max_hit_count = 1'000'000;

struct hit {
  std::string_view site;
  std::string_view article;
  std::uint32_t count = 1;
};

// Either a hit or the reason it was refused, with a one-line human detail
// (a string literal, safe to keep).
struct hit_result {
  bool ok = false;
  hit value;
  reject_reason reason = reject_reason::malformed;
  std::string_view detail;
};

// Decode buffers for one hit; keep it alive as long as the hit is used.
struct hit_scratch {
  id_buffer site;
  id_buffer article;
};

// Calls fn(name, raw_value) for each `name=value` pair of a form-encoded
// string. Empty segments ("a=1&&b=2") are skipped; a pair without '=' gets an
// empty value. Returns nothing; names are compared raw (not decoded).
template <class Fn>
void for_each_form_field(std::string_view form, Fn&& fn) {
  while (!form.empty()) {
    std::size_t amp = form.find('&');
    std::string_view pair = form.substr(0, amp);
    form = amp == std::string_view::npos ? std::string_view{} : form.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      fn(pair, std::string_view{});
    } else {
      fn(pair.substr(0, eq), pair.substr(eq + 1));
    }
  }
}

// HTTP beacon: `query` is the part after '?', `body` the request body when it
// is form-encoded or text/plain (pass "" otherwise).
hit_result parse_http_hit(std::string_view query, std::string_view body, hit_scratch& scratch);

// One UDP line without its terminating LF.
hit_result parse_udp_line(std::string_view line, hit_scratch& scratch);

// Parses a decimal COUNT in 1..max; false on anything else.
bool parse_count(std::string_view text, std::uint32_t max, std::uint32_t& out) noexcept;

// Splits a datagram into lines and calls fn(line) for each (without LF/CR).
template <class Fn>
void for_each_udp_line(std::string_view datagram, Fn&& fn) {
  while (!datagram.empty()) {
    std::size_t lf = datagram.find('\n');
    std::string_view line = datagram.substr(0, lf);
    datagram = lf == std::string_view::npos ? std::string_view{} : datagram.substr(lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    fn(line);
  }
}

}  // namespace pvc
