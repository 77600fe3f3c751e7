#include "app/cluster_stats.hpp"

#include <cmath>

#include "app/cluster_mode.hpp"

namespace pvc {

boost::json::object cluster_stats(const cluster_mode& c) {
  // Ages to the millisecond, like the rest of /admin/v1/stats.
  auto milli = [](double x) { return std::round(x * 1000) / 1000; };
  const outbox& box = c.box();
  const shipper_stats& ship = c.ship().stats();
  const cluster::client_counters& shipping = c.ship_client().counters();
  const cluster::client_counters& reading = c.cluster_reads().client_counters();
  return {
      {"node", c.node_name()},
      {"incarnation", box.incarnation()},
      {"outbox",
       {{"flushes", box.depth()},
        {"bytes", box.bytes()},
        {"max_bytes", box.max_bytes()},
        {"oldest_age_seconds", milli(box.oldest_age_seconds())}}},
      {"shipped_flushes", ship.flushes.load()},
      {"shipped_keys", ship.keys.load()},
      {"duplicates", ship.duplicates.load()},
      {"gaps", ship.gaps.load()},
      {"ship_errors", ship.errors.load()},
      {"failing", ship.failing.load()},
      {"redirects",
       {{"moved", shipping.moved + reading.moved}, {"ask", shipping.ask + reading.ask}}},
      {"read_cache",
       {{"hits", c.cluster_reads().cache_hits()}, {"misses", c.cluster_reads().cache_misses()}}},
      {"read_stale_seconds", milli(c.cluster_reads().stale_seconds())},
  };
}

}  // namespace pvc
