#include "support/pvcd_api.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <thread>

#include "http_client.hpp"
#include "support/net.hpp"

namespace pvc::test {
namespace {

namespace json = boost::json;

// What /api/v1/views accepts in one request.
constexpr std::size_t max_ids_per_request = 100;

bool read_count(const json::object& o, std::string_view key, std::uint64_t& out) {
  const json::value* v = o.if_contains(key);
  if (!v) return false;
  if (v->is_uint64()) {
    out = v->as_uint64();
    return true;
  }
  if (v->is_int64() && v->as_int64() >= 0) {
    out = static_cast<std::uint64_t>(v->as_int64());
    return true;
  }
  return false;
}

}  // namespace

views_reply fetch_views(std::uint16_t port, std::string_view site,
                        const std::vector<std::string>& articles) {
  views_reply out;
  std::string target = "/api/v1/views?s=" + client::url_encode(site);
  for (const auto& a : articles)
    target += "&a=" + client::url_encode(a);
  const http_reply r = http_once(port, "GET", target);
  if (r.status != 200) {
    out.error = r.status == 0 ? r.error : "status " + std::to_string(r.status) + ": " + r.body;
    return out;
  }
  boost::system::error_code ec;
  const json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) {
    out.error = "not a JSON object: " + r.body;
    return out;
  }
  const json::object& o = v.as_object();
  const json::value* s = o.if_contains("site");
  if (!s || !s->is_string()) {
    out.error = "no \"site\" string: " + r.body;
    return out;
  }
  out.site = std::string(s->as_string());
  if (!read_count(o, "total", out.total) || !read_count(o, "today", out.today) ||
      !read_count(o, "yesterday", out.yesterday) || !read_count(o, "this_month", out.this_month)) {
    out.error = "a site count is missing or not a non-negative integer: " + r.body;
    return out;
  }
  const json::value* arts = o.if_contains("articles");
  if (!arts || !arts->is_object()) {
    out.error = "no \"articles\" object: " + r.body;
    return out;
  }
  for (const auto& [key, value] : arts->as_object()) {
    article_counts c;
    if (!value.is_object() || !read_count(value.as_object(), "total", c.total) ||
        !read_count(value.as_object(), "today", c.today)) {
      out.error = "bad article entry in: " + r.body;
      return out;
    }
    out.articles[std::string(key)] = c;
  }
  return out;
}

std::map<std::string, article_counts> fetch_article_counts(std::uint16_t port,
                                                           std::string_view site,
                                                           const std::vector<std::string>& ids,
                                                           std::string& error) {
  std::map<std::string, article_counts> all;
  for (std::size_t i = 0; i < ids.size(); i += max_ids_per_request) {
    const std::size_t end = std::min(ids.size(), i + max_ids_per_request);
    const std::vector<std::string> batch(ids.begin() + static_cast<std::ptrdiff_t>(i),
                                         ids.begin() + static_cast<std::ptrdiff_t>(end));
    views_reply v = fetch_views(port, site, batch);
    if (!v.error.empty()) {
      error = "views batch " + std::to_string(i / max_ids_per_request) + ": " + v.error;
      return all;
    }
    all.merge(v.articles);
  }
  return all;
}

std::string fetch_metrics(std::uint16_t admin_port) {
  const http_reply r = http_once(admin_port, "GET", "/metrics");
  return r.status == 200 ? r.body : std::string{};
}

std::optional<double> metric_value(const std::string& metrics_text, std::string_view series) {
  std::size_t start = 0;
  while (start < metrics_text.size()) {
    std::size_t end = metrics_text.find('\n', start);
    if (end == std::string::npos) end = metrics_text.size();
    const std::string_view line(metrics_text.data() + start, end - start);
    start = end + 1;
    if (line.size() > series.size() && line.substr(0, series.size()) == series &&
        line[series.size()] == ' ') {
      return std::strtod(std::string(line.substr(series.size() + 1)).c_str(), nullptr);
    }
  }
  return std::nullopt;
}

std::optional<double> scrape(std::uint16_t admin_port, std::string_view series) {
  const std::string text = fetch_metrics(admin_port);
  if (text.empty()) return std::nullopt;
  return metric_value(text, series);
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

}  // namespace pvc::test
