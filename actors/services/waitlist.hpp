// The waitlist: joins and leaves as commands to the seller (the event registry, or
// lock-per-request), so the event's actor decides them in its batch with the event's other
// inventory changes, and the entry reads.
//
// Protocol (waitlist_actor), each message carrying the caller's reply:
//   (purchase_atom, purchase_request, reply<purchase_outcome>)   join (the request's kind is
//        join), decided by the seller
//   (leave_atom, purchase_request, caller, reply<purchase_outcome>)   leave entry_id: its event
//        and owner are read first (anyone else's is not_found), then the seller decides
//   (find_atom, id, caller, reply<waitlist_entry>)   someone else's is not_found unless ADMIN
//   (entries_of_atom, participant id, paging, reply<page<waitlist_entry>>)   newest first
//   (event_entries_atom, event id, paging, reply<page<waitlist_entry>>)   arrival order
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

using waitlist_actor =
    caf::typed_actor<caf::reacts_to<purchase_atom, domain::purchase_request,
                                    domain::reply<domain::purchase_outcome>>,
                     caf::reacts_to<leave_atom, domain::purchase_request, domain::principal,
                                    domain::reply<domain::purchase_outcome>>,
                     caf::reacts_to<find_atom, std::int64_t, domain::principal,
                                    domain::reply<domain::waitlist_entry>>,
                     caf::reacts_to<entries_of_atom, std::int64_t, domain::page_request,
                                    domain::reply<domain::page<domain::waitlist_entry>>>,
                     caf::reacts_to<event_entries_atom, std::int64_t, domain::page_request,
                                    domain::reply<domain::page<domain::waitlist_entry>>>>;

struct waitlist_deps {
  db_pool_actor db_pool;
  purchase_handler seller; // the event registry, or the lock-per-request seller
};

waitlist_actor spawn_waitlist(caf::actor_system& sys, waitlist_deps deps,
                              const service_options& options);

/// domain::waitlist_service as messages to a waitlist actor.
class waitlist_service final : public domain::waitlist_service {
 public:
  explicit waitlist_service(waitlist_actor actor) : actor_(std::move(actor)) {}

  void join_waitlist(domain::purchase_request req,
                     domain::reply<domain::purchase_outcome> done) override;
  void leave_waitlist(domain::purchase_request req, domain::principal caller,
                      domain::reply<domain::purchase_outcome> done) override;
  void find_entry(std::int64_t id, domain::principal caller,
                  domain::reply<domain::waitlist_entry> done) override;
  void list_entries_of(std::int64_t participant_id, domain::page_request paging,
                       domain::reply<domain::page<domain::waitlist_entry>> done) override;
  void list_event_entries(std::int64_t event_id, domain::page_request paging,
                          domain::reply<domain::page<domain::waitlist_entry>> done) override;

 private:
  waitlist_actor actor_;
};

} // namespace eventhub::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::reply<eventhub::domain::waitlist_entry>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
    eventhub::domain::reply<eventhub::domain::page<eventhub::domain::waitlist_entry>>)
