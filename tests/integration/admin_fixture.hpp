#pragma once
// Shared by the admin_*_test.cpp files: pvctl run against a real pvcd, with
// no system config file in the way, and small file helpers.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "pvcd_fixture.hpp"

namespace pvc::test {

class admin_test : public pvcd_test {
 protected:
  static std::string server_of(const daemon_process& d) {
    return "http://127.0.0.1:" + std::to_string(d.ports().admin);
  }

  // pvctl --server (d's admin listener) --config "" ARGS, with `env`
  // ("NAME=value") added to its environment.
  static command_result pvctl(const daemon_process& d, std::vector<std::string> args,
                              const std::vector<std::string>& env = {},
                              std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    return pvctl_at(server_of(d), std::move(args), env, timeout);
  }
  static command_result pvctl_at(const std::string& server, std::vector<std::string> args,
                                 const std::vector<std::string>& env = {},
                                 std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::vector<std::string> argv;
    if (!env.empty()) {
      argv.push_back("/usr/bin/env");
      argv.insert(argv.end(), env.begin(), env.end());
    }
    argv.insert(argv.end(), {pvctl_binary(), "--server", server, "--config", ""});
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, timeout);
  }

  // Runs pvctl and expects exit 0; returns its stdout.
  static std::string ok(const command_result& r) {
    EXPECT_EQ(r.spawn_error, "");
    EXPECT_TRUE(r.status.ok()) << r.status.describe() << "\nstderr: " << r.err;
    return r.out;
  }

  std::filesystem::path write_file(const std::string& name, const std::string& content,
                                   mode_t mode = 0600) const {
    const auto p = dir_.path() / name;
    std::ofstream(p, std::ios::binary) << content;
    ::chmod(p.c_str(), mode);
    return p;
  }

  // Waits until the site's all-time total (as the read API shows it) is `n`.
  static bool total_becomes(const daemon_process& d, const std::string& site, std::uint64_t n) {
    return wait_until([&] { return fetch_views(d.ports().http, site).total == n; });
  }
};

}  // namespace pvc::test
