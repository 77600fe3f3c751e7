#pragma once
// Helpers shared by the unit tests: readable names for inputs with
// unprintable bytes, a scratch directory that removes itself, and UTC
// instants built from civil fields.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>

namespace pvc::test {

// The input with bytes outside 0x20..0x7E shown as \xNN, for SCOPED_TRACE.
inline std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c <= 0x7E) {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  if (out.size() > 60) out = out.substr(0, 28) + "..." + out.substr(out.size() - 28);
  return "\"" + out + "\" (" + std::to_string(s.size()) + " bytes)";
}

// A fresh directory under the system temp dir, removed with everything in it.
class temp_dir {
 public:
  temp_dir() {
    static std::atomic<unsigned> counter{0};
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("pvc-unit-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
             std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// The instant y-m-d h:mi:s UTC.
inline std::chrono::system_clock::time_point utc(int y, unsigned m, unsigned d, int h = 0,
                                                 int mi = 0, int s = 0) {
  using namespace std::chrono;
  return sys_days{year{y} / month{m} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

}  // namespace pvc::test
