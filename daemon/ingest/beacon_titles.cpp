#include "ingest/beacon_titles.hpp"

#include "core/beacon_token.hpp"
#include "core/hit_parser.hpp"
#include "core/title_text.hpp"

namespace pvc {
namespace {

// The first `name=` of the query, then of a form body.
std::optional<std::string_view> beacon_field(const http_request_view& req, std::string_view query,
                                             std::string_view name) {
  std::optional<std::string_view> found;
  auto find = [&](std::string_view n, std::string_view value) {
    if (!found && n == name) found = value;
  };
  for_each_form_field(query, find);
  if (!found && is_form_body(req.content_type)) for_each_form_field(req.body, find);
  return found;
}

}  // namespace

std::optional<beacon_title_mode> parse_beacon_title_mode(std::string_view text) {
  if (text == "off") return beacon_title_mode::off;
  if (text == "signed") return beacon_title_mode::signed_beacons;
  if (text == "trusted_proxies") return beacon_title_mode::trusted_proxies;
  return std::nullopt;
}

std::optional<std::string_view> raw_beacon_title(const http_request_view& req,
                                                 std::string_view query) {
  auto t = beacon_field(req, query, "title");
  if (t && t->empty()) return std::nullopt;
  return t;
}

std::string_view beacon_token_field(const http_request_view& req, std::string_view query) {
  return beacon_field(req, query, "t").value_or(std::string_view{});
}

beacon_title_intake::beacon_title_intake(beacon_title_mode mode, title_table& titles,
                                         std::string secret, proxies_fn proxies, clock_fn now)
    : mode_(mode),
      titles_(titles),
      secret_(std::move(secret)),
      proxies_(std::move(proxies)),
      now_(std::move(now)) {}

void beacon_title_intake::take(const hit& h, const http_request_view& req, std::string_view query,
                               std::size_t shard) {
  const auto raw = raw_beacon_title(req, query);
  if (!raw) return;  // the common case: nothing to do
  if (mode_ == beacon_title_mode::off) return refuse(beacon_title_refusal::off);
  // Trust before decoding: an untrusted sender's bytes get no further.
  if (mode_ == beacon_title_mode::trusted_proxies && !proxies_(shard).contains(req.peer)) {
    return refuse(beacon_title_refusal::untrusted);
  }
  std::string title;
  if (!decode_title(*raw, title).empty()) return refuse(beacon_title_refusal::invalid);
  const std::int64_t now = now_();
  if (mode_ == beacon_title_mode::signed_beacons &&
      verify_beacon_token(secret_, h.site, h.article, beacon_token_field(req, query), now, title) !=
          token_status::ok) {
    return refuse(beacon_title_refusal::unsigned_);
  }
  titles_.offer(h.site, h.article, title, now);  // the table counts its own refusals
}

}  // namespace pvc
