#include "core/hit_parser.hpp"

namespace pvc {
namespace {

hit_result reject(reject_reason reason, std::string_view detail) {
  hit_result r;
  r.reason = reason;
  r.detail = detail;
  return r;
}

std::string_view site_detail(id_status s) {
  switch (s) {
    case id_status::empty:
      return "site is empty";
    case id_status::too_long:
      return "site is longer than 200 bytes";
    case id_status::bad_byte:
      return "site has a byte outside visible ASCII";
    case id_status::bad_escape:
      return "site has a bad %-escape";
    case id_status::ok:
      break;
  }
  return "site is invalid";
}

std::string_view article_detail(id_status s) {
  switch (s) {
    case id_status::empty:
      return "article is empty";
    case id_status::too_long:
      return "article is longer than 200 bytes";
    case id_status::bad_byte:
      return "article has a byte outside visible ASCII";
    case id_status::bad_escape:
      return "article has a bad %-escape";
    case id_status::ok:
      break;
  }
  return "article is invalid";
}

// Decodes raw site/article into `scratch` and builds the hit.
hit_result make_hit(std::string_view raw_site, std::string_view raw_article, std::uint32_t count,
                    hit_scratch& scratch) {
  decoded_id site = decode_id(raw_site, scratch.site);
  if (site.status != id_status::ok)
    return reject(reject_reason::bad_site, site_detail(site.status));
  decoded_id article = decode_id(raw_article, scratch.article);
  if (article.status != id_status::ok) {
    return reject(reject_reason::bad_article, article_detail(article.status));
  }
  hit_result r;
  r.ok = true;
  r.value = {site.value, article.value, count};
  return r;
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
  if (duplicate) return reject(reject_reason::malformed, "a field is given twice");
  if (!have_article) return reject(reject_reason::bad_article, "article (a=) is missing");
  if (!have_site) raw_site = default_site;
  return make_hit(raw_site, raw_article, 1, scratch);
}

hit_result parse_udp_line(std::string_view line, hit_scratch& scratch) {
  if (line.empty()) return reject(reject_reason::malformed, "empty line");
  std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos)
    return reject(reject_reason::malformed, "expected SITE ARTICLE [COUNT]");
  std::string_view raw_site = line.substr(0, sp1);
  std::string_view rest = line.substr(sp1 + 1);
  std::size_t sp2 = rest.find(' ');
  std::string_view raw_article = rest.substr(0, sp2);
  std::uint32_t count = 1;
  if (raw_site.empty() || raw_article.empty()) {
    return reject(reject_reason::malformed, "fields must be separated by one space");
  }
  if (sp2 != std::string_view::npos) {
    std::string_view raw_count = rest.substr(sp2 + 1);
    if (raw_count.find(' ') != std::string_view::npos) {
      return reject(reject_reason::malformed, "expected SITE ARTICLE [COUNT]");
    }
    if (!parse_count(raw_count, max_hit_count, count)) {
      return reject(reject_reason::bad_count, "count must be an integer in 1..1000000");
    }
  }
  return make_hit(raw_site, raw_article, count, scratch);
}

}  // namespace pvc
