#include "app/cluster_mode.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "core/cluster_keys.hpp"
#include "core/thread_name.hpp"
#include "core/visitor_id.hpp"
#include "core/visitors.hpp"
#include "flush/flusher.hpp"

namespace pvc {
namespace {

std::string read_password(const std::string& path, std::string& out) {
  if (path.empty()) return {};
  std::ifstream in(path);
  if (!in) return "redis_password_file: cannot read " + path;
  std::getline(in, out);
  while (!out.empty() && (out.back() == '\r' || out.back() == ' '))
    out.pop_back();
  if (out.empty()) return "redis_password_file: " + path + " holds no password on its first line";
  return {};
}

}  // namespace

std::unique_ptr<cluster_mode> cluster_mode::open(const config& cfg, store& db,
                                                 const counter_table& table,
                                                 visitor_counter& visitors, std::string& error) {
  std::unique_ptr<cluster_mode> m(new cluster_mode());
  m->node_name_ = cfg.node_name;
  cluster::client_options options;
  for (const std::string& seed : cfg.redis_cluster) {
    if (auto a = cluster::parse_node_address(seed)) options.seeds.push_back(*a);
  }
  if ((error = read_password(cfg.redis_password_file, options.password)); !error.empty()) {
    return nullptr;
  }
  options.connect_timeout = cfg.redis_timeout;
  options.command_timeout = cfg.redis_timeout;
  m->outbox_ = outbox::open(db, cfg.outbox_max_bytes, error);
  if (!m->outbox_) {
    error = "data_dir: cannot open the cluster outbox: " + error;
    return nullptr;
  }
  m->ship_client_ = std::make_unique<cluster::cluster_client>(options);
  m->visits_ = std::make_unique<visitor_batch>(cfg.threads);
  // One salt per period for the whole cluster: the first node's candidate
  // wins (SET NX), every node reads the winner. Kept a few days, so a node
  // that starts late in the period finds it.
  cluster::client_options salt_options = options;
  salt_options.max_attempts = 2;
  m->salt_client_ = std::make_unique<cluster::cluster_client>(salt_options);
  visitors.set_salt_agreement(
      [c = m->salt_client_.get()](bool is_day, std::int32_t period,
                                  const salt& candidate) -> std::optional<salt> {
        const std::string key =
            is_day ? cluster_keys::day_salt(period) : cluster_keys::month_salt(period);
        const std::string ttl = std::to_string(is_day ? 3 * 86400 : 63 * 86400);
        const auto r =
            c->pipeline(key, {{"SET", key, encode_salt(candidate), "NX", "EX", ttl}, {"GET", key}});
        if (r.size() != 2 || !r[1].ok() || r[1].reply.type != cluster::reply_type::string) {
          return std::nullopt;
        }
        return decode_salt(r[1].reply.text);
      });
  shipper_options ship;
  ship.wait_replicas = static_cast<int>(cfg.redis_wait_replicas);
  // WAIT may take as long as a command; the shipper's thread is the only one waiting.
  ship.wait_timeout = cfg.redis_timeout;
  ship.max_flushes_per_second = cfg.outbox_drain_rate;
  ship.online_ttl =
      std::chrono::duration_cast<std::chrono::seconds>(cfg.online_window) + std::chrono::minutes(2);
  m->shipper_ = std::make_unique<shipper>(*m->outbox_, *m->ship_client_, ship);
  cluster::client_options read_options = options;
  read_options.read_from_replicas = cfg.redis_read_replicas;
  // A read cache's round trip must not hold the refresher long.
  read_options.max_attempts = 3;
  m->reader_ = std::make_unique<cluster_reader>(
      read_options, table, std::chrono::duration_cast<std::chrono::seconds>(cfg.online_window));
  m->reader_->set_unsent(m->outbox_.get());
  spdlog::info("event=cluster_mode node={} incarnation={} seeds={} outbox_flushes={}",
               m->node_name_, m->outbox_->incarnation(), cfg.redis_cluster.size(),
               m->outbox_->depth());
  return m;
}

cluster_mode::~cluster_mode() {
  stop(std::chrono::milliseconds(0));
}

void cluster_mode::attach(flusher& flush) {
  // The flush's visitors ride in its outbox entry; a failed write puts them back.
  flush.set_outbox(
      {[this](std::span<const delta_table* const> tables, std::uint64_t seq, key_writes& out) {
         visits_->take(in_flight_visits_);
         return outbox_->add(tables, in_flight_visits_, seq, out);
       },
       [this](std::uint64_t seq, bool ok) {
         outbox_->added(seq, ok);
         if (ok) {
           in_flight_visits_.clear();
           shipper_->notify();
         } else {
           visits_->put_back(std::move(in_flight_visits_));
           in_flight_visits_.clear();
         }
       }});
}

void cluster_mode::start() {
  reader_->start();
  if (!ship_thread_.joinable())
    ship_thread_ = std::thread([this] {
      name_this_thread("pvcd-ship");
      shipper_->run();
    });
}

void cluster_mode::stop(std::chrono::milliseconds grace) {
  const auto until = std::chrono::steady_clock::now() + grace;
  while (outbox_ && outbox_->depth() > 0 && std::chrono::steady_clock::now() < until) {
    shipper_->notify();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (shipper_) shipper_->stop();
  if (ship_thread_.joinable()) ship_thread_.join();
  if (reader_) reader_->stop();
}

}  // namespace pvc
