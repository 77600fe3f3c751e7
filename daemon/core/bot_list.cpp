#include "core/bot_list.hpp"

#include <deque>

namespace pvc {
namespace {

constexpr std::size_t min_pattern = 3;    // shorter ones would match ordinary browsers
constexpr std::size_t max_pattern = 200;  // longer than any real User-Agent token
// Row offsets (states x classes, < 2^23) stay below the accept bit.
constexpr std::size_t max_states = 1u << 16;  // 65536 pattern bytes: far more than any list

char fold(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

bot_list::bot_list() : next_(1, 0) {}

std::string bot_list::parse(std::string_view text, bot_list& out) {
  std::vector<std::string> patterns;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t lf = text.find('\n');
    std::string_view line = trim(text.substr(0, lf));
    text = lf == std::string_view::npos ? std::string_view{} : text.substr(lf + 1);
    if (line.empty() || line.front() == '#') continue;
    if (line.size() < min_pattern || line.size() > max_pattern) {
      return "line " + std::to_string(line_no) + ": a pattern must be 3..200 bytes";
    }
    std::string p;
    for (char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u > 0x7e) {
        return "line " + std::to_string(line_no) + ": only visible ASCII and spaces";
      }
      p += fold(c);
    }
    patterns.push_back(std::move(p));
  }

  bot_list b;
  // Byte classes: every byte used in a pattern gets one (both cases of a
  // letter share it); all others are class 0 and lead back to the root.
  for (const auto& p : patterns) {
    for (char c : p) {
      const auto u = static_cast<unsigned char>(c);
      if (b.class_of_[u] == 0) {
        b.class_of_[u] = static_cast<std::uint16_t>(b.classes_++);
        if (c >= 'a' && c <= 'z') b.class_of_[u - 32] = b.class_of_[u];
      }
    }
  }
  // The trie, with -1 for "no edge" until the failure links fill the gaps.
  std::vector<std::int64_t> go(b.classes_, -1);
  std::vector<std::uint8_t> accept(1, 0);
  for (const auto& p : patterns) {
    std::size_t s = 0;
    for (char c : p) {
      const std::size_t k = b.class_of_[static_cast<unsigned char>(c)];
      if (go[s * b.classes_ + k] < 0) {
        if (accept.size() == max_states) return "the bot list is too large";
        go[s * b.classes_ + k] = static_cast<std::int64_t>(accept.size());
        accept.push_back(0);
        go.resize(accept.size() * b.classes_, -1);
      }
      s = static_cast<std::size_t>(go[s * b.classes_ + k]);
    }
    accept[s] = 1;
  }
  // Breadth-first: each missing edge takes its failure state's edge, and a
  // state accepts when its failure state does (a pattern ends inside it).
  std::vector<std::size_t> fail(accept.size(), 0);
  std::deque<std::size_t> queue;
  for (std::size_t k = 0; k < b.classes_; ++k) {
    if (go[k] < 0) {
      go[k] = 0;
    } else {
      fail[static_cast<std::size_t>(go[k])] = 0;
      queue.push_back(static_cast<std::size_t>(go[k]));
    }
  }
  while (!queue.empty()) {
    const std::size_t s = queue.front();
    queue.pop_front();
    if (accept[fail[s]]) accept[s] = 1;
    for (std::size_t k = 0; k < b.classes_; ++k) {
      std::int64_t& edge = go[s * b.classes_ + k];
      const std::int64_t via_fail = go[fail[s] * b.classes_ + k];
      if (edge < 0) {
        edge = via_fail;
      } else {
        fail[static_cast<std::size_t>(edge)] = static_cast<std::size_t>(via_fail);
        queue.push_back(static_cast<std::size_t>(edge));
      }
    }
  }
  b.next_.resize(go.size());
  for (std::size_t i = 0; i < go.size(); ++i) {
    const auto to = static_cast<std::uint32_t>(go[i]);
    b.next_[i] = to * b.classes_ | (accept[to] ? accept_bit : 0u);
  }
  b.patterns_ = patterns.size();
  out = std::move(b);
  return {};
}

}  // namespace pvc
