// Wiring and lifecycle of the actor core.
#include "actors/core.hpp"

#include "actors/cluster.hpp"
#include "actors/credential_workers.hpp"
#include "actors/db_pool.hpp"
#include "actors/event_registry.hpp"
#include "actors/hub.hpp"
#include "actors/listing_board.hpp"
#include "actors/listing_cache.hpp"
#include "actors/messages.hpp"
#include "actors/notifier.hpp"
#include "actors/system_config.hpp"
#include "observability/log.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include <future>

namespace eventhub::actors {
namespace {

db_pool_options pool_options(const config::settings& s, const std::string& conninfo) {
  db_pool_options o;
  o.connection = {conninfo, s.db_connect_timeout, s.db_statement_timeout, s.db_lock_timeout,
                  std::make_shared<persistence::recovery_signal>()};
  o.size = s.db_pool_size;
  o.queue_max = s.db_queue_max;
  return o;
}

/// Waits until every job queued before this call has run (FIFO), at most `limit`.
void drain(const caf::actor& pool, std::chrono::milliseconds limit) {
  auto finished = std::make_shared<std::promise<void>>();
  auto future = finished->get_future();
  db_job job;
  job.due = std::chrono::steady_clock::now() + limit;
  job.run = [finished](persistence::session&) { finished->set_value(); };
  job.fail = [finished](const domain::error&) { finished->set_value(); };
  submit(pool, std::move(job));
  if (future.wait_for(limit) != std::future_status::ready)
    log::warn("core.drain_timeout");
}

} // namespace

struct core::impl {
  explicit impl(const config::settings& s) : cfg(s), system(cfg) {}

  system_config cfg;
  caf::actor_system system;
  caf::actor db_pool, notifier, cache, registry, cluster;
  std::vector<caf::actor> hashers;
  std::unique_ptr<hub> services_impl;
  bool stopped = false;
};

core::core(const config::settings& s, const std::string& conninfo,
           std::shared_ptr<const security::token_service> tokens)
    : impl_(std::make_unique<impl>(s)) {
  auto& sys = impl_->system;
  impl_->db_pool = spawn_db_pool(sys, pool_options(s, conninfo));
  impl_->notifier = spawn_notifier(
      sys, impl_->db_pool,
      notifier_options{s.notify_webhook_url, s.notify_sweep_interval, s.notify_retry_max});
  auto listings = std::make_shared<listing_board>(s.listing_max_age);
  impl_->cache = spawn_listing_cache(
      sys, impl_->db_pool,
      listing_cache_options{s.listing_max_age, s.http_request_timeout,
                            static_cast<std::size_t>(s.listing_max_memory_mib) << 20,
                            static_cast<std::size_t>(std::max(1, s.db_pool_size / 2)),
                            static_cast<std::size_t>(s.listing_max_queued_reads)},
      listings);
  event_actor_options event_options{s.purchase_batch_max, s.purchase_idle_timeout,
                                    s.notify_redelivery_delay};
  impl_->registry =
      spawn_event_registry(sys, impl_->db_pool, impl_->notifier, event_options,
                           registry_options{s.cluster_enabled(), s.cluster_forward_timeout});
  impl_->hashers = spawn_credential_workers(
      sys, s.hash_threads,
      security::argon2_cost{static_cast<unsigned long long>(s.argon2_iterations),
                            static_cast<std::size_t>(s.argon2_memory_kib)});
  cluster_options cluster{s.cluster_enabled(),   s.cluster_host,  s.cluster_port,
                          s.cluster_bind,        s.cluster_seeds, s.cluster_connection_timeout,
                          s.http_request_timeout};
  impl_->cluster = spawn_cluster_node(sys, impl_->cache, impl_->registry, cluster);

  auto ctx = std::make_shared<hub_context>();
  ctx->db_pool = impl_->db_pool;
  ctx->registry = impl_->registry;
  ctx->cache = impl_->cache;
  ctx->cluster = impl_->cluster;
  ctx->notifier = impl_->notifier;
  ctx->hashers = impl_->hashers;
  ctx->tokens = std::move(tokens);
  ctx->mode = s.purchase_mode;
  ctx->request_timeout = s.http_request_timeout;
  ctx->redelivery_delay = s.notify_redelivery_delay;
  ctx->throttle = {s.login_max_failures, s.login_max_failures_per_address, s.login_failure_window,
                   s.login_lockout};
  ctx->listings = listings;
  ctx->cluster_enabled = s.cluster_enabled();
  ctx->health_ttl = s.health_cache_ttl;
  impl_->services_impl = std::make_unique<hub>(std::move(ctx));
}

core::~core() {
  stop();
}

domain::services core::services() {
  return impl_->services_impl->services();
}

void core::stop() {
  if (!impl_ || impl_->stopped)
    return;
  impl_->stopped = true;
  auto& i = *impl_;
  const auto reason = caf::exit_reason::user_shutdown;
  caf::anon_send_exit(i.cluster, reason);
  caf::anon_send_exit(i.registry, reason); // takes its event actors along
  caf::anon_send_exit(i.notifier, reason); // queues its last "delivered" marks first
  drain(i.db_pool, std::chrono::milliseconds{5000});
  caf::anon_send_exit(i.cache, reason);
  for (auto& h : i.hashers)
    caf::anon_send_exit(h, reason);
  caf::anon_send_exit(i.db_pool, reason); // its workers are linked to it
  // The hub's context holds handles too; the actors have exited, so they do not keep the
  // system waiting. ~actor_system waits for the detached workers to finish.
  i.system.await_all_actors_done();
}

} // namespace eventhub::actors
