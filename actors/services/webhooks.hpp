// Webhook endpoints over the API (ADMIN). The webhooks actor owns nothing but its handles: the
// endpoints are rows in PostgreSQL, and after each change it tells the notifier, whose
// deliverers follow the rows (other nodes' notifiers notice at their next sweep).
//
// Protocol (webhooks_actor), each message carrying the caller's reply:
//   (create_atom, webhook_draft, origin, reply<webhook_endpoint>)   resolves the URL's host,
//   refuses
//        (unprocessable, naming url) a private target; the answer carries the secret, once
//   (list_all_atom, paging, reply<page<webhook_endpoint>>)  by id
//   (find_atom, id, reply<webhook_endpoint>)
//   (delete_atom, id, origin, reply<unit>)                   conflict for the configured one
// Creating and deleting record their audit entries (never the secret) in their transactions.
//   (deliveries_atom, id, paging, reply<page<delivery_attempt>>)   newest first
#pragma once

#include "actors/db_pool.hpp"
#include "actors/notifier.hpp"
#include "actors/options.hpp"
#include "actors/services/boundary.hpp"
#include "domain/services.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <memory>

namespace eventhub::security {
class key_sealer;
}

namespace eventhub::actors {

using webhooks_actor = caf::typed_actor<
    caf::reacts_to<create_atom, domain::webhook_draft, domain::origin,
                   domain::reply<domain::webhook_endpoint>>,
    caf::reacts_to<list_all_atom, domain::page_request,
                   domain::reply<domain::page<domain::webhook_endpoint>>>,
    caf::reacts_to<find_atom, std::int64_t, domain::reply<domain::webhook_endpoint>>,
    caf::reacts_to<delete_atom, std::int64_t, domain::origin, domain::reply<domain::unit>>,
    caf::reacts_to<deliveries_atom, std::int64_t, domain::page_request,
                   domain::reply<domain::page<domain::delivery_attempt>>>>;

struct webhooks_deps {
  db_pool_actor db_pool;
  notifier_actor notifier;
  std::shared_ptr<const security::key_sealer> sealer;
  bool allow_private_targets = false;
};

webhooks_actor spawn_webhooks(caf::actor_system& sys, webhooks_deps deps,
                              const service_options& options);

/// domain::webhook_service as messages to a webhooks actor.
class webhooks_service final : public domain::webhook_service {
 public:
  explicit webhooks_service(webhooks_actor actor) : actor_(std::move(actor)) {}

  void create_webhook(domain::webhook_draft draft, domain::origin by,
                      domain::reply<domain::webhook_endpoint> done) override;
  void list_webhooks(domain::page_request paging,
                     domain::reply<domain::page<domain::webhook_endpoint>> done) override;
  void find_webhook(std::int64_t id, domain::reply<domain::webhook_endpoint> done) override;
  void delete_webhook(std::int64_t id, domain::origin by,
                      domain::reply<domain::unit> done) override;
  void list_deliveries(std::int64_t id, domain::page_request paging,
                       domain::reply<domain::page<domain::delivery_attempt>> done) override;

 private:
  webhooks_actor actor_;
};

} // namespace eventhub::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::webhook_draft)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::reply<eventhub::domain::webhook_endpoint>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
    eventhub::domain::reply<eventhub::domain::page<eventhub::domain::webhook_endpoint>>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
    eventhub::domain::reply<eventhub::domain::page<eventhub::domain::delivery_attempt>>)
