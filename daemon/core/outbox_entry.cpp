#include "core/outbox_entry.hpp"

#include <algorithm>

namespace pvc {
namespace {

constexpr char format_version = 1;

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

}  // namespace

std::string encode_outbox_entry(std::span<const delta_table* const> tables) {
  std::string out(1, format_version);
  for (const delta_table* t : tables) {
    const std::uint64_t day = zigzag(t->day());
    t->for_each([&](std::string_view site, std::string_view article, std::uint64_t views) {
      put_varint(out, day);
      put_bytes(out, site);
      put_bytes(out, article);
      put_varint(out, views);
    });
  }
  return out;
}

bool decode_outbox_entry(std::string_view in, std::map<std::string, site_part, std::less<>>& out) {
  out.clear();
  if (in.empty() || in.front() != format_version) return false;
  in.remove_prefix(1);
  while (!in.empty()) {
    std::uint64_t day = 0, views = 0;
    std::string_view site, article;
    if (!get_varint(in, day) || !get_bytes(in, site) || !get_bytes(in, article) ||
        !get_varint(in, views)) {
      return false;
    }
    site_part& part = out[std::string(site)];
    const auto d = static_cast<day_number>(unzigzag(day));
    auto it =
        std::lower_bound(part.days.begin(), part.days.end(), d,
                         [](const site_part::day_counts& c, day_number x) { return c.day < x; });
    if (it == part.days.end() || it->day != d) it = part.days.insert(it, {d, 0, {}});
    it->site_views += views;
    auto a = it->articles.find(article);
    if (a == it->articles.end()) a = it->articles.emplace(std::string(article), 0).first;
    a->second += views;
  }
  return true;
}

}  // namespace pvc
