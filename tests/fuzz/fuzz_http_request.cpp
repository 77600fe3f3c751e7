// libFuzzer target: raw bytes as one HTTP connection's input, through the
// same Beast request parser, limits and routers as a pvcd session
// (pvc::handle_raw_requests in daemon/ingest/http_request_reader.cpp), without sockets.
//
// Input: one selector byte, then the bytes a peer sends.
//   selector bit 0: the admin router (else the public one)
//   selector bit 1: beacon checks on (signed beacons with a fixed secret and
//                   clock, and a per-client rate limit)
// The routes read a real RocksDB store in a temp dir (empty: nothing is ever
// flushed) and count into a real one-shard counter table, drained every
// 4096 inputs so memory stays flat.
//
// Checks, besides "no crash, no sanitizer report, no uncaught exception":
//   - every answer starts "HTTP/1.1 NNN " and its Content-Length, when
//     present, is the size of the body that follows;
//   - no request counts more than once: pvcd_hits_accepted_total grows by
//     at most the number of answers.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/calendar.hpp"
#include "core/counter_table.hpp"
#include "core/site_registry.hpp"
#include "fuzz_check.hpp"
#include "ingest/beacon_gates.hpp"
#include "ingest/http_request_reader.hpp"
#include "ingest/http_server.hpp"
#include "ingest/visitor_tracker.hpp"
#include "read/embedded_reader.hpp"
#include "read/top_lists.hpp"
#include "serve/routes.hpp"
#include "store/store.hpp"

using namespace pvc;

namespace {

struct world {
  std::filesystem::path dir;
  std::unique_ptr<store> db;
  site_registry sites{1000};
  std::unique_ptr<counter_table> table;
  std::unique_ptr<visitor_tracker> visitors;
  std::unique_ptr<top_lists> tops;
  std::unique_ptr<embedded_reader> reads;
  std::unique_ptr<route_context> plain, gated;
  std::unique_ptr<router> plain_public, plain_admin, gated_public, gated_admin;
  std::unique_ptr<signature_gate> signature;
  std::unique_ptr<rate_limit_gate> rate;
  http_limits limits;
  std::size_t runs = 0;

  world() {
    spdlog::set_level(spdlog::level::off);
    char tmpl[] = "/tmp/pvcd-fuzz-http-XXXXXX";
    if (!::mkdtemp(tmpl)) std::abort();
    dir = tmpl;
    std::string error;
    db = store::open((dir / "data").string(), {false}, error);
    if (!db) {
      std::fprintf(stderr, "cannot open the store: %s\n", error.c_str());
      std::abort();
    }
    table = std::make_unique<counter_table>(1, sites, 20000);
    visitors = std::make_unique<visitor_tracker>(*table, 1, visitor_options{});
    tops = std::make_unique<top_lists>(
        *db, [this] { return table->current_day(); }, std::chrono::seconds(10));
    reads = std::make_unique<embedded_reader>(*db, *table, visitors->visitors(), *tops);
    plain = std::make_unique<route_context>(
        route_context{*reads, *table, [] { return std::string("up 1\n"); }});
    gated = std::make_unique<route_context>(
        route_context{*reads, *table, [] { return std::string("up 1\n"); }});
    // A fixed clock: a token's validity depends on the input only.
    signature = std::make_unique<signature_gate>("fuzz-secret-0123456789", [] {
      return std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
    });
    rate = std::make_unique<rate_limit_gate>(100.0, 20.0);
    gated->gates = {signature.get(), rate.get()};
    gated->ready = [] { return false; };  // /readyz answers 503 in this world
    plain_public = std::make_unique<router>(router::role::public_api, *plain);
    plain_admin = std::make_unique<router>(router::role::admin, *plain);
    gated_public = std::make_unique<router>(router::role::public_api, *gated);
    gated_admin = std::make_unique<router>(router::role::admin, *gated);
    limits.body_bytes = 16 * 1024;
  }
  ~world() {
    plain_public.reset();
    plain_admin.reset();
    gated_public.reset();
    gated_admin.reset();
    reads.reset();
    tops.reset();
    db.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

world* w = nullptr;

// Every answer in `out`: "HTTP/1.1 NNN ...", and a Content-Length that matches.
std::size_t check_answers(std::string_view out, bool head_possible) {
  std::size_t answers = 0;
  while (!out.empty()) {
    FUZZ_CHECK(out.substr(0, 9) == "HTTP/1.1 ");
    const std::size_t end = out.find("\r\n\r\n");
    FUZZ_CHECK(end != std::string_view::npos);
    const std::string_view head = out.substr(0, end + 4);
    ++answers;
    std::size_t length = 0;
    const std::size_t cl = head.find("\r\nContent-Length: ");
    if (cl != std::string_view::npos) length = std::strtoul(head.data() + cl + 18, nullptr, 10);
    out.remove_prefix(head.size());
    // After HEAD the body is left out: then the next answer (if any) follows at once.
    if (head_possible && (out.empty() || out.substr(0, 9) == "HTTP/1.1 ")) continue;
    FUZZ_CHECK(out.size() >= length);
    out.remove_prefix(length);
  }
  return answers;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  w = new world();
  std::atexit([] { delete w; });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t selector = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool admin = selector & 1;
  const bool gated = selector & 2;
  const router& routes = admin ? (gated ? *w->gated_admin : *w->plain_admin)
                               : (gated ? *w->gated_public : *w->plain_public);
  counter_shard& shard = w->table->shard(0);
  const transport kind = admin ? transport::admin : transport::http;
  const std::uint64_t before = shard.stats().hits_accepted[static_cast<std::size_t>(kind)].get();

  std::string out;
  handle_raw_requests(bytes, routes, shard, kind, w->limits.header_bytes, w->limits.body_bytes,
                      out);

  const bool head_possible = bytes.find("HEAD") != std::string_view::npos;
  const std::size_t answers = check_answers(out, head_possible);
  const std::uint64_t after = shard.stats().hits_accepted[static_cast<std::size_t>(kind)].get();
  FUZZ_CHECK(after >= before);
  FUZZ_CHECK(after - before <= answers);

  if (++w->runs % 4096 == 0) {
    std::vector<std::unique_ptr<delta_table>> drained;
    shard.drain(drained);
  }
  return 0;
}
