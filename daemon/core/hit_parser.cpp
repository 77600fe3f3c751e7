#include "core/hit_parser.hpp"

#include <cstring>

namespace pvc {
namespace {

// Every parser below fills one hit_result in place and returns it from every
// exit (named return value), so the 64-byte result is never copied: on the
// hot path those copies cost more than the parsing.
void set_reject(hit_result& r, reject_reason reason, std::string_view detail) {
  r.ok = false;
  r.reason = reason;
  r.detail = detail;
}

// Decodes raw site/article into `scratch` and completes the hit in `r`.
void make_hit(hit_result& r, std::string_view raw_site, std::string_view raw_article,
              std::uint32_t count, hit_scratch& scratch) {
  const id_status site = decode_id_to(raw_site, scratch.site, r.value.site);
  if (site != id_status::ok)
    return set_reject(r, reject_reason::bad_site, id_status_detail(id_field::site, site));
  const id_status article = decode_id_to(raw_article, scratch.article, r.value.article);
  if (article != id_status::ok) {
    return set_reject(r, reject_reason::bad_article, id_status_detail(id_field::article, article));
  }
  r.ok = true;
  r.value.count = count;
}

}  // namespace

bool parse_count(std::string_view text, std::uint32_t max, std::uint32_t& out) noexcept {
  if (text.empty() || text.size() > 10) return false;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v == 0 || v > max) return false;
  out = static_cast<std::uint32_t>(v);
  return true;
}

hit_result parse_http_hit(std::string_view query, std::string_view body, hit_scratch& scratch) {
  hit_result r;
  std::string_view raw_site;
  std::string_view raw_article;
  bool have_site = false;
  bool have_article = false;
  bool duplicate = false;
  auto take = [&](std::string_view name, std::string_view value) {
    if (name == "s") {
      duplicate |= have_site;
      have_site = true;
      raw_site = value;
    } else if (name == "a") {
      duplicate |= have_article;
      have_article = true;
      raw_article = value;
    }
  };
  for_each_form_field(query, take);
  for_each_form_field(body, take);
  if (duplicate) {
    set_reject(r, reject_reason::malformed, "a field is given twice");
  } else if (!have_article) {
    set_reject(r, reject_reason::bad_article, "article (a=) is missing");
  } else {
    make_hit(r, have_site ? raw_site : default_site, raw_article, 1, scratch);
  }
  return r;
}

hit_result parse_udp_line(std::string_view line, hit_scratch& scratch) {
  hit_result r;
  const char* begin = line.data();
  const char* end = begin + line.size();
  if (line.empty()) {
    set_reject(r, reject_reason::malformed, "empty line");
    return r;
  }
  const char* sp1 = static_cast<const char*>(std::memchr(begin, ' ', line.size()));
  if (!sp1) {
    set_reject(r, reject_reason::malformed, "expected SITE ARTICLE [COUNT]");
    return r;
  }
  const char* sp2 =
      static_cast<const char*>(std::memchr(sp1 + 1, ' ', static_cast<std::size_t>(end - sp1 - 1)));
  const std::string_view raw_site(begin, static_cast<std::size_t>(sp1 - begin));
  const std::string_view raw_article(sp1 + 1,
                                     static_cast<std::size_t>((sp2 ? sp2 : end) - sp1 - 1));
  std::uint32_t count = 1;
  if (raw_site.empty() || raw_article.empty()) {
    set_reject(r, reject_reason::malformed, "fields must be separated by one space");
    return r;
  }
  if (sp2) {
    const std::string_view raw_count(sp2 + 1, static_cast<std::size_t>(end - sp2 - 1));
    if (std::memchr(raw_count.data(), ' ', raw_count.size())) {
      set_reject(r, reject_reason::malformed, "expected SITE ARTICLE [COUNT]");
      return r;
    }
    if (!parse_count(raw_count, max_hit_count, count)) {
      set_reject(r, reject_reason::bad_count, "count must be an integer in 1..1000000");
      return r;
    }
  }
  make_hit(r, raw_site, raw_article, count, scratch);
  return r;
}

}  // namespace pvc
