// Purchases and holds: commands to the seller (the event registry, or lock-per-request) and
// their reads.
//
// Protocol (purchases_actor), each message carrying the caller's reply:
//   (purchase_atom, purchase_request, reply<purchase_outcome>)   a purchase or a new hold (the
//        request's kind), decided by the seller actor
//   (settle_atom, purchase_request, caller, reply<purchase_outcome>)   confirm or release a hold:
//        its event and owner are read first, then the seller decides
//   (cancel_atom, purchase_request, caller, reply<purchase_outcome>)   cancel tickets of a
//        purchase: its event and owner are read first (someone else's is not_found unless
//        ADMIN), then the seller decides
//   (find_atom, id, caller, reply<purchase>)       someone else's is not_found unless ADMIN
//   (find_atom, id, caller, reply<hold>)           the same for holds
//   (purchases_of_atom, participant id, paging, reply<page<purchase>>)
//   (holds_of_atom, participant id, paging, reply<page<hold>>)
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
    caf::reacts_to<settle_atom, domain::purchase_request, domain::principal,
                   domain::reply<domain::purchase_outcome>>,
    caf::reacts_to<cancel_atom, domain::purchase_request, domain::principal,
                   domain::reply<domain::purchase_outcome>>,
    caf::reacts_to<find_atom, std::int64_t, domain::principal, domain::reply<domain::purchase>>,
    caf::reacts_to<find_atom, std::int64_t, domain::principal, domain::reply<domain::hold>>,
    caf::reacts_to<purchases_of_atom, std::int64_t, domain::page_request,
                   domain::reply<domain::page<domain::purchase>>>,
    caf::reacts_to<holds_of_atom, std::int64_t, domain::page_request,
                   domain::reply<domain::page<domain::hold>>>>;

struct purchases_deps {
  db_pool_actor db_pool;
  purchase_handler seller; // the event registry, or the lock-per-request seller
};

purchases_actor spawn_purchases(caf::actor_system& sys, purchases_deps deps,
                                const service_options& options);

/// domain::purchase_service and domain::hold_service as messages to a purchases actor.
class purchases_service final : public domain::purchase_service, public domain::hold_service {
 public:
  explicit purchases_service(purchases_actor actor) : actor_(std::move(actor)) {}

  void purchase(domain::purchase_request req,
                domain::reply<domain::purchase_outcome> done) override;
  void find_purchase(std::int64_t id, domain::principal caller,
                     domain::reply<domain::purchase> done) override;
  void list_purchases(std::int64_t participant_id, domain::page_request paging,
                      domain::reply<domain::page<domain::purchase>> done) override;
  void cancel_purchase(domain::purchase_request req, domain::principal caller,
                       domain::reply<domain::purchase_outcome> done) override;

  void create_hold(domain::purchase_request req,
                   domain::reply<domain::purchase_outcome> done) override;
  void settle_hold(domain::purchase_request req, domain::principal caller,
                   domain::reply<domain::purchase_outcome> done) override;
  void find_hold(std::int64_t id, domain::principal caller,
                 domain::reply<domain::hold> done) override;
  void list_holds(std::int64_t participant_id, domain::page_request paging,
                  domain::reply<domain::page<domain::hold>> done) override;

 private:
  purchases_actor actor_;
};

} // namespace eventhub::actors
