// Tickets and check-in at the door. The tickets actor owns no inventory: tickets are created and
// cancelled by the event's batch (the event actor), and a check-in changes one ticket, guarded by
// a conditional update under the ticket's row lock, so any node checks tickets in directly, in
// parallel, without asking the event's owner.
//
// Protocol (tickets_actor), each message carrying the caller's reply:
//   (tickets_of_atom, purchase id, caller, reply<vector<ticket>>)   someone else's: not_found
//        unless ADMIN
//   (my_tickets_atom, participant id, event id (0: all), paging, reply<page<ticket>>)
//   (find_atom, ticket id, caller, reply<ticket>)                     as tickets_of_atom
//   (checkin_key_atom, event id, reply<checkin_key>)                  made on first use
//   (check_in_atom, event id, vector<scan>, origin, reply<vector<scan_outcome>>)   one
//        transaction with the check-ins' audit entries; the ticket.checked_in notifications go
//        to the notifier after the commit
//   (checkin_stats_atom, event id, reply<checkin_stats>)
#pragma once

#include "actors/atoms.hpp"
#include "actors/db_pool.hpp"
#include "actors/notifier.hpp"
#include "actors/options.hpp"
#include "actors/services/boundary.hpp"
#include "domain/services.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <memory>
#include <optional>
#include <vector>

namespace eventhub::security {
class key_sealer;
}

namespace eventhub::actors {

using tickets_actor = caf::typed_actor<
    caf::reacts_to<tickets_of_atom, std::int64_t, domain::principal,
                   domain::reply<std::vector<domain::ticket>>>,
    caf::reacts_to<my_tickets_atom, std::int64_t, std::int64_t, domain::page_request,
                   domain::reply<domain::page<domain::ticket>>>,
    caf::reacts_to<find_atom, std::int64_t, domain::principal, domain::reply<domain::ticket>>,
    caf::reacts_to<checkin_key_atom, std::int64_t, domain::reply<domain::checkin_key>>,
    caf::reacts_to<check_in_atom, std::int64_t, std::vector<domain::scan>, domain::origin,
                   domain::reply<std::vector<domain::scan_outcome>>>,
    caf::reacts_to<checkin_stats_atom, std::int64_t, domain::reply<domain::checkin_stats>>>;

struct tickets_deps {
  db_pool_actor db_pool;
  confirmation_sink notifier;
  std::shared_ptr<const security::key_sealer> sealer; // immutable: shared with the DB workers
};

tickets_actor spawn_tickets(caf::actor_system& sys, tickets_deps deps,
                            const service_options& options);

/// domain::ticket_service as messages to a tickets actor.
class tickets_service final : public domain::ticket_service {
 public:
  explicit tickets_service(tickets_actor actor) : actor_(std::move(actor)) {}

  void purchase_tickets(std::int64_t purchase_id, domain::principal caller,
                        domain::reply<std::vector<domain::ticket>> done) override;
  void list_tickets(std::int64_t participant_id, std::optional<std::int64_t> event_id,
                    domain::page_request paging,
                    domain::reply<domain::page<domain::ticket>> done) override;
  void find_ticket(std::int64_t id, domain::principal caller,
                   domain::reply<domain::ticket> done) override;
  void checkin_key(std::int64_t event_id, domain::reply<domain::checkin_key> done) override;
  void check_in(std::int64_t event_id, std::vector<domain::scan> scans, domain::origin by,
                domain::reply<std::vector<domain::scan_outcome>> done) override;
  void checkin_stats(std::int64_t event_id, domain::reply<domain::checkin_stats> done) override;

 private:
  tickets_actor actor_;
};

} // namespace eventhub::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<eventhub::domain::scan>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::reply<std::vector<eventhub::domain::ticket>>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
    eventhub::domain::reply<eventhub::domain::page<eventhub::domain::ticket>>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::reply<eventhub::domain::ticket>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::reply<eventhub::domain::checkin_key>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::reply<std::vector<eventhub::domain::scan_outcome>>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::reply<eventhub::domain::checkin_stats>)
