#include "ingest/beacon_gates.hpp"

#include <fstream>
#include <sstream>

#include "app/embedded.hpp"
#include "core/beacon_token.hpp"
#include "core/title_text.hpp"
#include "ingest/beacon_titles.hpp"

namespace pvc {

std::string load_bot_list(const std::string& path, bot_list& out) {
  std::string text;
  if (path.empty()) {
    text.assign(embedded::bots_txt());
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "bot_list_file: cannot read " + path;
    std::ostringstream buf;
    buf << in.rdbuf();
    text = buf.str();
  }
  if (auto err = bot_list::parse(text, out); !err.empty()) {
    return "bot_list_file: " + (path.empty() ? std::string("built-in list") : path) + ": " + err;
  }
  return {};
}

std::optional<reject_reason> bot_gate::admit(const hit&, const http_request_view&,
                                             const client_info& client, std::size_t shard) {
  if (lists_(shard).matches(client.user_agent)) return reject_reason::bot;
  return std::nullopt;
}

std::string signature_gate::load_secret(const std::string& path, std::string& secret) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return "beacon_secret_file: cannot read " + path;
  const auto first = line.find_first_not_of(" \t\r");
  const auto last = line.find_last_not_of(" \t\r");
  if (first == std::string::npos) return "beacon_secret_file: " + path + " is empty";
  secret = line.substr(first, last - first + 1);
  if (secret.size() < 16)
    return "beacon_secret_file: the secret in " + path + " is shorter than 16 bytes";
  return {};
}

std::optional<reject_reason> signature_gate::admit(const hit& h, const http_request_view& req,
                                                   const client_info&, std::size_t) {
  std::string_view path, query;
  split_target(req.target, path, query);
  const std::string_view token = beacon_token_field(req, query);
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(now_().time_since_epoch()).count();
  // A token minted with the page's title signs the title too; one without
  // it signs the view alone (the title is then refused, beacon_titles.hpp).
  if (const auto raw_title = raw_beacon_title(req, query)) {
    std::string title;
    if (decode_title(*raw_title, title).empty() &&
        verify_beacon_token(secret_, h.site, h.article, token, now, title) == token_status::ok) {
      return std::nullopt;
    }
  }
  if (verify_beacon_token(secret_, h.site, h.article, token, now) == token_status::ok) {
    return std::nullopt;
  }
  return reject_reason::signature;
}

std::optional<reject_reason> rate_limit_gate::admit(const hit&, const http_request_view&,
                                                    const client_info& client, std::size_t) {
  if (limiter_.allow(client.ip, std::chrono::steady_clock::now())) return std::nullopt;
  return reject_reason::rate_limit;
}

}  // namespace pvc
