#pragma once
// Titles sent with beacons (title= on /hit and /hit.gif). A stranger must
// not be able to put words on a portal's front page, so a beacon's title is
// believed only as `beacon_titles` says:
//
//   off              (default) never; titles come from pvctl title / imports
//   signed           when the beacon's token (t=) covers the title: the
//                    portal's CMS signs SITE ARTICLE EXPIRY and the title
//                    (core/beacon_token.hpp) with beacon_secret_file's secret
//   trusted_proxies  when the connection's peer is one of trusted_proxies:
//                    the portal's own server or CDN adds the title
//
// A refused title never refuses the view: the view counts, the title is
// dropped and counted by reason (pvcd_titles_refused_total). A believed one
// still goes through title_table (change interval, caps).
//
// Thread-safety: take() from any I/O thread.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/client_ip.hpp"
#include "core/title_table.hpp"
#include "serve/routes.hpp"

namespace pvc {

enum class beacon_title_mode : std::uint8_t { off, signed_beacons, trusted_proxies };

// "off", "signed", "trusted_proxies"; nullopt for anything else.
std::optional<beacon_title_mode> parse_beacon_title_mode(std::string_view text);

// The raw (still form-encoded) title= of a beacon, from its query or its
// form body; nullopt when there is none (or it is empty).
std::optional<std::string_view> raw_beacon_title(const http_request_view& req,
                                                 std::string_view query);
// Its t= token ("" when none).
std::string_view beacon_token_field(const http_request_view& req, std::string_view query);

// Why a beacon's title was not taken, beside title_table's verdicts.
enum class beacon_title_refusal : std::uint8_t {
  off,        // beacon_titles = off
  unsigned_,  // signed: the token does not cover this title
  untrusted,  // trusted_proxies: the peer is not one
  invalid,    // not a valid title (core/title_text.hpp)
};
inline constexpr std::size_t beacon_title_refusal_count = 4;

class beacon_title_intake {
 public:
  using clock_fn = std::function<std::int64_t()>;  // Unix seconds
  using proxies_fn = std::function<const trusted_proxies&(std::size_t shard)>;

  beacon_title_intake(beacon_title_mode mode, title_table& titles, std::string secret,
                      proxies_fn proxies, clock_fn now);

  // After `h` was counted from `req` on I/O thread `shard`.
  void take(const hit& h, const http_request_view& req, std::string_view query, std::size_t shard);

  std::uint64_t refused(beacon_title_refusal r) const noexcept {
    return refused_[static_cast<std::size_t>(r)].load(std::memory_order_relaxed);
  }

 private:
  void refuse(beacon_title_refusal r) {
    refused_[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }

  beacon_title_mode mode_;
  title_table& titles_;
  std::string secret_;
  proxies_fn proxies_;
  clock_fn now_;
  std::array<std::atomic<std::uint64_t>, beacon_title_refusal_count> refused_{};
};

}  // namespace pvc
