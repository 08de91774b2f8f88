// Purchases: selling (through the event registry, or lock-per-request) and purchase reads.
//
// Protocol (purchases_actor), each message carrying the caller's reply:
//   (purchase_atom, purchase_request, reply<purchase_outcome>)   sold by the seller actor
//   (find_atom, id, caller, reply<purchase>)       someone else's is not_found unless ADMIN
//   (purchases_of_atom, participant id, paging, reply<page<purchase>>)
#pragma once

#include "actors/db_pool.hpp"
#include "actors/event_actor.hpp"
#include "actors/options.hpp"
#include "actors/services/boundary.hpp"
#include "domain/services.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

namespace eventhub::actors {

using purchases_actor = caf::typed_actor<
    caf::reacts_to<purchase_atom, domain::purchase_request,
                   domain::reply<domain::purchase_outcome>>,
    caf::reacts_to<find_atom, std::int64_t, domain::principal, domain::reply<domain::purchase>>,
    caf::reacts_to<purchases_of_atom, std::int64_t, domain::page_request,
                   domain::reply<domain::page<domain::purchase>>>>;

struct purchases_deps {
  db_pool_actor db_pool;
  purchase_handler seller; // the event registry, or the lock-per-request seller
};

purchases_actor spawn_purchases(caf::actor_system& sys, purchases_deps deps,
                                const service_options& options);

/// domain::purchase_service as messages to a purchases actor.
class purchases_service final : public domain::purchase_service {
 public:
  explicit purchases_service(purchases_actor actor) : actor_(std::move(actor)) {}

  void purchase(domain::purchase_request req,
                domain::reply<domain::purchase_outcome> done) override;
  void find_purchase(std::int64_t id, domain::principal caller,
                     domain::reply<domain::purchase> done) override;
  void list_purchases(std::int64_t participant_id, domain::page_request paging,
                      domain::reply<domain::page<domain::purchase>> done) override;

 private:
  purchases_actor actor_;
};

} // namespace eventhub::actors
