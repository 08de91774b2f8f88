// Wiring and lifecycle of the actor core: spawns every actor with only the handles it needs,
// and stops them in an order that loses no queued database work.
#include "actors/core.hpp"

#include "actors/cluster.hpp"
#include "actors/credential_workers.hpp"
#include "actors/db_request.hpp"
#include "actors/event_registry.hpp"
#include "actors/hold_sweeper.hpp"
#include "actors/listing_board.hpp"
#include "actors/listing_cache.hpp"
#include "actors/notifier.hpp"
#include "actors/options.hpp"
#include "actors/retention.hpp"
#include "actors/services/accounts.hpp"
#include "actors/services/audit.hpp"
#include "actors/services/events.hpp"
#include "actors/services/health.hpp"
#include "actors/services/lock_per_request.hpp"
#include "actors/services/purchases.hpp"
#include "actors/services/tickets.hpp"
#include "actors/services/waitlist.hpp"
#include "actors/services/webhooks.hpp"
#include "actors/system_config.hpp"
#include "observability/log.hpp"
#include "security/ticket_codes.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

namespace eventhub::actors {
namespace {

/// Waits until every job queued before this call has run (the pool is FIFO), at most `limit`.
void drain(caf::actor_system& sys, const db_pool_actor& pool, std::chrono::milliseconds limit) {
  caf::scoped_actor self{sys};
  auto job = make_db_job<domain::unit>(std::chrono::steady_clock::now() + limit,
                                       [](persistence::session&) { return domain::unit{}; });
  self->request(pool, limit, run_atom::value, std::move(job))
      .receive([](db_answer&) {}, [](caf::error&) { log::warn("core.drain_timeout"); });
}

} // namespace

struct core::impl {
  explicit impl(const config::settings& s) : cfg(s), system(cfg) {}

  system_config cfg;
  caf::actor_system system;
  db_pool_actor db_pool;
  notifier_actor notifier;
  listing_cache_actor cache;
  event_registry_actor registry;
  cluster_node_actor cluster;
  hold_sweeper_actor hold_sweeper;
  retention_actor retention;
  std::vector<credential_worker_actor> hashers;
  purchase_handler lock_seller; // only in lock-per-request mode
  accounts_actor accounts;
  events_actor events;
  purchases_actor purchases;
  waitlist_actor waitlist;
  tickets_actor tickets;
  webhooks_actor webhooks;
  audit_actor audit;
  health_actor health;
  std::unique_ptr<accounts_service> accounts_facade;
  std::unique_ptr<events_service> events_facade;
  std::unique_ptr<purchases_service> purchases_facade;
  std::unique_ptr<waitlist_service> waitlist_facade;
  std::unique_ptr<tickets_service> tickets_facade;
  std::unique_ptr<webhooks_service> webhooks_facade;
  std::unique_ptr<audit_service> audit_facade;
  std::unique_ptr<health_service> health_facade;
  bool stopped = false;
};

core::core(const config::settings& s, const std::string& conninfo,
           std::shared_ptr<const security::token_service> tokens)
    : impl_(std::make_unique<impl>(s)) {
  const auto o = options_from(s, conninfo);
  auto& i = *impl_;
  auto& sys = i.system;
  i.db_pool = spawn_db_pool(sys, o.db_pool);
  // Immutable, shared with the DB workers: seals event keys and webhook secrets at rest.
  auto sealer = std::make_shared<const security::key_sealer>(o.key_secret);
  i.notifier = spawn_notifier(sys, i.db_pool, sealer, o.notifier);
  auto listings = std::make_shared<listing_board>(o.listing_cache.max_age);
  i.cache = spawn_listing_cache(sys, i.db_pool, o.listing_cache, listings);
  i.registry = spawn_event_registry(sys, registry_deps{i.db_pool, i.notifier, {}}, o.event_actor,
                                    o.registry);
  i.hashers = spawn_credential_workers(sys, o.credentials);
  i.cluster = spawn_cluster_node(sys, i.cache, i.registry, o.cluster);
  i.hold_sweeper = spawn_hold_sweeper(sys, i.db_pool, i.notifier, o.hold_sweeper);
  i.retention = spawn_retention(sys, i.db_pool, o.retention);

  purchase_handler seller = i.registry;
  if (o.services.mode == config::purchase_mode::lock_per_request) {
    i.lock_seller = spawn_lock_per_request(sys, i.db_pool, i.notifier, o.services.redelivery_delay,
                                           o.services.offer_ttl);
    seller = i.lock_seller;
  }
  auto health_reports = std::make_shared<health_board>(o.services.health_ttl);
  i.accounts =
      spawn_accounts(sys, accounts_deps{i.db_pool, i.hashers, std::move(tokens)}, o.services);
  i.events = spawn_events(sys, events_deps{i.db_pool, i.cache, i.cluster}, o.services);
  i.purchases = spawn_purchases(sys, purchases_deps{i.db_pool, seller}, o.services);
  i.waitlist = spawn_waitlist(sys, waitlist_deps{i.db_pool, seller}, o.services);
  i.tickets = spawn_tickets(sys, tickets_deps{i.db_pool, i.notifier, sealer}, o.services);
  i.webhooks = spawn_webhooks(
      sys, webhooks_deps{i.db_pool, i.notifier, sealer, o.notifier.delivery.allow_private_targets},
      o.services);
  i.audit = spawn_audit(sys, i.db_pool, o.audit);
  i.health = spawn_health(sys, health_deps{i.db_pool, i.cluster, health_reports}, o.services);
  i.accounts_facade = std::make_unique<accounts_service>(i.accounts);
  i.events_facade = std::make_unique<events_service>(i.events, i.cache, listings);
  i.purchases_facade = std::make_unique<purchases_service>(i.purchases);
  i.waitlist_facade = std::make_unique<waitlist_service>(i.waitlist);
  i.tickets_facade = std::make_unique<tickets_service>(i.tickets);
  i.webhooks_facade = std::make_unique<webhooks_service>(i.webhooks);
  i.audit_facade = std::make_unique<audit_service>(i.audit);
  i.health_facade = std::make_unique<health_service>(i.health, health_reports);
}

core::~core() {
  stop();
}

domain::services core::services() {
  auto& i = *impl_;
  return {*i.accounts_facade,  *i.events_facade,   *i.purchases_facade,
          *i.purchases_facade, *i.waitlist_facade, *i.tickets_facade,
          *i.webhooks_facade,  *i.audit_facade,    *i.health_facade};
}

void core::stop() {
  if (!impl_ || impl_->stopped)
    return;
  impl_->stopped = true;
  auto& i = *impl_;
  const auto reason = caf::exit_reason::user_shutdown;
  for (const auto& service :
       {caf::actor_cast<caf::actor>(i.accounts), caf::actor_cast<caf::actor>(i.events),
        caf::actor_cast<caf::actor>(i.purchases), caf::actor_cast<caf::actor>(i.waitlist),
        caf::actor_cast<caf::actor>(i.tickets), caf::actor_cast<caf::actor>(i.webhooks),
        caf::actor_cast<caf::actor>(i.audit), caf::actor_cast<caf::actor>(i.health)})
    caf::anon_send_exit(service, reason);
  caf::anon_send_exit(i.cluster, reason);
  caf::anon_send_exit(i.hold_sweeper, reason);
  caf::anon_send_exit(i.retention, reason); // a batch in flight commits or rolls back alone
  caf::anon_send_exit(i.registry, reason);  // takes its event actors along
  if (i.lock_seller)
    caf::anon_send_exit(i.lock_seller, reason);
  caf::anon_send_exit(i.notifier, reason); // queues its last "delivered" marks first
  drain(i.system, i.db_pool, std::chrono::milliseconds{5000});
  caf::anon_send_exit(i.cache, reason);
  for (auto& h : i.hashers)
    caf::anon_send_exit(h, reason);
  caf::anon_send_exit(i.db_pool, reason); // its workers are linked to it
  // The facades hold handles too; the actors have exited, so they do not keep the system
  // waiting. ~actor_system waits for the detached workers to finish.
  i.system.await_all_actors_done();
}

} // namespace eventhub::actors
