#include "core/outbox_entry.hpp"

#include <algorithm>

namespace pvc {
namespace {

constexpr char format_version = 2;

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>(v | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

bool get_varint(std::string_view& in, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

void put_bytes(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out += s;
}

bool get_bytes(std::string_view& in, std::string_view& s) {
  std::uint64_t n = 0;
  if (!get_varint(in, n) || n > in.size()) return false;
  s = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

void put_le64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out += static_cast<char>((v >> (8 * i)) & 0xff);
}

bool get_le64(std::string_view& in, std::uint64_t& v) {
  if (in.size() < 8) return false;
  v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  in.remove_prefix(8);
  return true;
}

site_part::day_counts& day_of(site_part& part, day_number d) {
  auto it =
      std::lower_bound(part.days.begin(), part.days.end(), d,
                       [](const site_part::day_counts& c, day_number x) { return c.day < x; });
  if (it == part.days.end() || it->day != d) it = part.days.insert(it, {d, 0, {}});
  return *it;
}

}  // namespace

std::string encode_outbox_entry(std::span<const delta_table* const> tables,
                                const visits_by_site& visits) {
  std::string out(1, format_version);
  std::size_t rows = 0;
  for (const delta_table* t : tables)
    rows += t->size();
  put_varint(out, rows);
  for (const delta_table* t : tables) {
    const std::uint64_t day = zigzag(t->day());
    t->for_each([&](std::string_view site, std::string_view article, std::uint64_t views) {
      put_varint(out, day);
      put_bytes(out, site);
      put_bytes(out, article);
      put_varint(out, views);
    });
  }
  for (const auto& [site, list] : visits) {
    for (const visit& v : list) {
      put_bytes(out, site);
      put_varint(out, zigzag(v.day));
      put_le64(out, v.month_id);
      put_le64(out, v.day_id);
      put_varint(out, zigzag(v.minute));
    }
  }
  return out;
}

bool decode_outbox_entry(std::string_view in, std::map<std::string, site_part, std::less<>>& out) {
  out.clear();
  if (in.empty() || in.front() != format_version) return false;
  in.remove_prefix(1);
  std::uint64_t rows = 0;
  if (!get_varint(in, rows)) return false;
  for (std::uint64_t r = 0; r < rows; ++r) {
    std::uint64_t day = 0, views = 0;
    std::string_view site, article;
    if (!get_varint(in, day) || !get_bytes(in, site) || !get_bytes(in, article) ||
        !get_varint(in, views)) {
      return false;
    }
    site_part::day_counts& d =
        day_of(out[std::string(site)], static_cast<day_number>(unzigzag(day)));
    d.site_views += views;
    auto a = d.articles.find(article);
    if (a == d.articles.end()) a = d.articles.emplace(std::string(article), 0).first;
    a->second += views;
  }
  while (!in.empty()) {
    std::string_view site;
    std::uint64_t day = 0, minute = 0;
    visit v;
    if (!get_bytes(in, site) || !get_varint(in, day) || !get_le64(in, v.month_id) ||
        !get_le64(in, v.day_id) || !get_varint(in, minute)) {
      return false;
    }
    v.day = static_cast<day_number>(unzigzag(day));
    v.minute = unzigzag(minute);
    out[std::string(site)].visits.push_back(v);
  }
  return true;
}

}  // namespace pvc
