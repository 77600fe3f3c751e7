#include "cluster/redis_reply.hpp"

#include <charconv>

#include "cluster/key_slot.hpp"

namespace pvc::cluster {
namespace {

// Enough of a text to recognise it in a log line.
constexpr std::size_t describe_limit = 200;

std::string cut(std::string_view s) {
  if (s.size() <= describe_limit) return std::string(s);
  return std::string(s.substr(0, describe_limit)) + "...";
}

bool starts_with_word(std::string_view text, std::string_view word) {
  return text.substr(0, word.size()) == word &&
         (text.size() == word.size() || text[word.size()] == ' ');
}

// "<slot> <host:port>" after MOVED/ASK.
bool parse_redirect(std::string_view rest, reply_class& out) {
  const std::size_t space = rest.find(' ');
  if (space == std::string_view::npos) return false;
  const std::string_view slot_text = rest.substr(0, space);
  unsigned slot = 0;
  const auto [end, ec] =
      std::from_chars(slot_text.data(), slot_text.data() + slot_text.size(), slot);
  if (ec != std::errc{} || end != slot_text.data() + slot_text.size() || slot >= slot_count) {
    return false;
  }
  std::string_view address = rest.substr(space + 1);
  // Redis 7 may append nothing more, but tolerate trailing words.
  address = address.substr(0, address.find(' '));
  auto node = parse_node_address(address);
  if (!node) return false;
  out.slot = static_cast<std::uint16_t>(slot);
  out.node = std::move(*node);
  return true;
}

}  // namespace

std::string redis_reply::describe() const {
  switch (type) {
    case reply_type::string: {
      std::string s = "\"";
      s += cut(text);
      s += '"';
      return s;
    }
    case reply_type::status:
      return cut(text);
    case reply_type::error:
      return "(error) " + cut(text);
    case reply_type::integer:
      return "(integer) " + std::to_string(integer);
    case reply_type::nil:
      return "(nil)";
    case reply_type::array: {
      std::string s = "[";
      for (std::size_t i = 0; i < elements.size(); ++i) {
        if (i > 0) s += ", ";
        s += elements[i].describe();
        if (s.size() > describe_limit) return s + ", ...]";
      }
      return s + "]";
    }
  }
  return "?";
}

reply_class classify_error(std::string_view text) {
  if (!text.empty() && text.front() == '-') text.remove_prefix(1);
  reply_class c;
  c.kind = error_kind::other;
  if (starts_with_word(text, "MOVED") || starts_with_word(text, "ASK")) {
    const bool moved = text.front() == 'M';
    const std::size_t word = moved ? 5 : 3;
    const std::string_view rest = text.size() > word ? text.substr(word + 1) : std::string_view{};
    reply_class r;
    if (parse_redirect(rest, r)) {
      r.kind = moved ? error_kind::moved : error_kind::ask;
      return r;
    }
    return c;
  }
  if (starts_with_word(text, "TRYAGAIN") || starts_with_word(text, "LOADING") ||
      starts_with_word(text, "MASTERDOWN")) {
    c.kind = error_kind::tryagain;
  } else if (starts_with_word(text, "CLUSTERDOWN")) {
    c.kind = error_kind::clusterdown;
  }
  return c;
}

reply_class classify(const redis_reply& reply) {
  if (!reply.is_error()) return {};
  return classify_error(reply.text);
}

}  // namespace pvc::cluster
