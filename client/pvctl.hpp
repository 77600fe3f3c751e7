#pragma once
// pvctl's shared pieces: exit codes, where the server and the token come
// from, the request helpers every command uses, and the command groups
// (one file each: commands_read.cpp, commands_change.cpp,
// commands_data.cpp, commands_backup.cpp).
//
// Thread-safety: single-threaded program.
#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http_client.hpp"

namespace pvc::ctl {

// Exit codes (documented in --help and the README).
inline constexpr int exit_ok = 0;
inline constexpr int exit_usage = 2;       // bad arguments, unreadable input file
inline constexpr int exit_connection = 3;  // cannot reach the server
inline constexpr int exit_server = 4;      // the server refused the request or failed
inline constexpr int exit_auth = 5;        // 401/403: missing or wrong admin token
inline constexpr int exit_local = 6;       // backup verification, restore refused or failed

inline constexpr std::string_view exit_codes_help =
    "Exit codes: 0 ok, 2 usage error, 3 cannot reach the server, 4 the server refused the\n"
    "request or failed (one line on stderr), 5 not authorized (missing or wrong admin token),\n"
    "6 a local operation failed (backup verification, restore).";

// Ends the command: the message goes to stderr as "pvctl: MESSAGE".
struct failure {
  int code;
  std::string message;
};

// Global options and what was resolved from them.
struct context {
  // As given: --server, --token-file, --config, --json, --by.
  std::string server_flag;
  std::string token_file_flag;
  std::optional<std::string> config_flag;
  bool json = false;
  std::string by;

  // Resolved by resolve(): flag, then environment, then the config file.
  client::server_url server;
  std::string token;
  std::string token_source;  // for error hints: "--token-file", "PVCTL_TOKEN", ...

  // Reads the environment and the config file; throws failure (exit_usage).
  void resolve();

  // Sends one request; throws failure unless the answer is 2xx.
  client::http_result call(std::string_view method, const std::string& path,
                           std::string_view body = {}, std::string_view content_type = {}) const;
  // call() and parse the answer as a JSON object.
  boost::json::object call_json(std::string_view method, const std::string& path,
                                std::string_view body = {},
                                std::string_view content_type = {}) const;
  // Polls /admin/v1/jobs until the job ends; returns its result object, or
  // throws failure (exit_server) with the job's error.
  boost::json::object wait_job(const std::string& job) const;
};

// A command: its CLI11 subcommand and what it does once parsed.
struct command {
  CLI::App* app;
  bool needs_server;  // false: runs locally (restore, backup --verify)
  std::function<void(context&)> run;
  // For commands whose need of a server depends on their options.
  std::function<bool()> local_only = {};
};

void add_read_commands(CLI::App& app, std::vector<command>& out);    // total get top stats audit
void add_change_commands(CLI::App& app, std::vector<command>& out);  // hit adjust rename merge
void add_data_commands(CLI::App& app, std::vector<command>& out);    // import export
void add_backup_commands(CLI::App& app, std::vector<command>& out);  // backup restore

// Helpers for the commands.
std::string q(std::string_view s);  // URL-encodes a query value
std::uint64_t number(const boost::json::object& o, std::string_view key);
std::uint64_t count_of(const boost::json::value& v);  // a non-negative integer, else 0
std::string string_of(const boost::json::object& o, std::string_view key);
void print_json(const boost::json::value& v);  // one line on stdout
std::string default_caller();                  // USER@HOST

}  // namespace pvc::ctl
