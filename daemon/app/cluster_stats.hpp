#pragma once
// Cluster mode's part of /admin/v1/stats (pvctl stats): this node's outbox,
// shipper, Redis redirects and read cache, as one JSON object. The admin API
// gets it through a callback (admin_api::set_cluster_stats), so it needs no
// cluster types; the same figures are on /metrics as pvcd_cluster_*.
//
// Thread-safety: any thread (every figure is an atomic or behind its lock).
#include <boost/json/object.hpp>

namespace pvc {

class cluster_mode;

boost::json::object cluster_stats(const cluster_mode& c);

}  // namespace pvc
