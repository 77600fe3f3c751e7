#pragma once
// The bot list: User-Agent substrings whose beacons are not views (crawlers,
// link previews, monitors, headless browsers). A file of one pattern per
// line, matched case-insensitively (ASCII) anywhere in the User-Agent:
//
//   # comment            blank lines and lines starting with '#' are skipped
//   Googlebot            leading and trailing blanks are trimmed
//   +http                any visible ASCII and inner spaces, 3..200 bytes
//
// The patterns compile into one Aho-Corasick automaton over byte classes, so
// a match costs one table step per User-Agent byte however long the list is
// (a 150-byte User-Agent: ~150 steps, no allocation).
//
// Immutable once built; thread-safe.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pvc {

class bot_list {
 public:
  // An empty list (matches nothing).
  bot_list();

  // Builds a list from the file format above. Returns "" or an error naming
  // the line ("line 3: pattern longer than 200 bytes").
  static std::string parse(std::string_view text, bot_list& out);

  bool matches(std::string_view user_agent) const noexcept {
    std::uint32_t state = 0;  // a row offset into next_ (state * classes_)
    for (const char c : user_agent) {
      state = next_[state + class_of_[static_cast<unsigned char>(c)]];
      if (state & accept_bit) return true;
    }
    return false;
  }

  std::size_t size() const noexcept { return patterns_; }

 private:
  // Transitions hold the next state's row offset (state * classes_), with
  // accept_bit set when a pattern ends there: one load per byte, no multiply.
  static constexpr std::uint32_t accept_bit = 0x80000000u;
  std::array<std::uint16_t, 256> class_of_{};  // byte -> class; 0 = in no pattern
  std::uint32_t classes_ = 1;
  std::vector<std::uint32_t> next_;  // row offset + class -> next row offset | accept_bit
  std::size_t patterns_ = 0;
};

}  // namespace pvc
