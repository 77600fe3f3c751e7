#pragma once
// The fixture every integration test shares: a temp directory per test, a
// data dir inside it, and, when the test fails, every pvcd log written
// there printed to the test output (the directory is removed afterwards).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "support/daemon_process.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/pvcd_api.hpp"

namespace pvc::test {

class pvcd_test : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!HasFailure()) return;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path(), ec)) {
      if (entry.path().extension() != ".log") continue;
      std::ifstream in(entry.path());
      std::ostringstream text;
      text << in.rdbuf();
      std::cerr << "---- " << entry.path().filename().string() << " ----\n"
                << text.str() << "---- end ----\n";
    }
  }

  std::filesystem::path data_dir() const { return dir_.path() / "data"; }

  daemon_options options(std::string flush_interval = "100ms") const {
    daemon_options o;
    o.data_dir = data_dir();
    o.flush_interval = std::move(flush_interval);
    return o;
  }

  temp_dir dir_;
};

// Counts for the metrics series of one transport and reason.
inline std::string rejected_series(std::string_view reason, std::string_view transport) {
  return "pvcd_hits_rejected_total{reason=\"" + std::string(reason) + "\",transport=\"" +
         std::string(transport) + "\"}";
}
inline std::string accepted_series(std::string_view transport) {
  return "pvcd_hits_accepted_total{transport=\"" + std::string(transport) + "\"}";
}
inline std::string views_series(std::string_view transport) {
  return "pvcd_views_accepted_total{transport=\"" + std::string(transport) + "\"}";
}

inline constexpr std::string_view all_reasons[] = {"malformed", "bad_site", "bad_article",
                                                   "bad_count", "site_limit"};
inline constexpr std::string_view all_transports[] = {"http", "udp", "admin"};

}  // namespace pvc::test
