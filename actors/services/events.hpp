// Events: listings (from the listing cache), reads, and admin writes that every node's caches
// and event actors learn of before the write is answered.
//
// Protocol (events_actor), each message carrying the caller's reply:
//   (list_atom, query, reply<rendered_page>)        a listing that missed the published board
//   (find_atom, id, reply<event>)
//   (create_atom, draft, origin, reply<event>)      then broadcast, then answer
//   (update_atom, id, draft, origin, reply<event>)  then broadcast, then answer
//   (delete_atom, id, origin, reply<unit>)          then broadcast, then answer
//   (attendees_atom, id, paging, reply<page<attendee>>)
//   (create_atom, event id, type draft, origin, reply<ticket_type_view>)  then broadcast, answer
//   (find_atom, event id, type id, reply<ticket_type_view>)
//   (update_atom, event id, type id, type draft, origin, reply<ticket_type_view>)   likewise
//   (delete_atom, event id, type id, origin, reply<unit>)                 then broadcast, answer
// Every write records its audit entry (origin: who, which request, from where) in its own
// transaction.
// A ticket type's write is broadcast as a change of its event: listings and event actors
// (whose memo holds the types' figures) learn of it as of any event write.
#pragma once

#include "actors/cluster.hpp"
#include "actors/db_pool.hpp"
#include "actors/listing_board.hpp"
#include "actors/listing_cache.hpp"
#include "actors/options.hpp"
#include "actors/services/boundary.hpp"
#include "domain/services.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <memory>

namespace eventhub::actors {

using events_actor = caf::typed_actor<
    caf::reacts_to<list_atom, domain::event_query, domain::reply<domain::rendered_page>>,
    caf::reacts_to<find_atom, std::int64_t, domain::reply<domain::event>>,
    caf::reacts_to<create_atom, domain::event_draft, domain::origin, domain::reply<domain::event>>,
    caf::reacts_to<update_atom, std::int64_t, domain::event_draft, domain::origin,
                   domain::reply<domain::event>>,
    caf::reacts_to<delete_atom, std::int64_t, domain::origin, domain::reply<domain::unit>>,
    caf::reacts_to<attendees_atom, std::int64_t, domain::page_request,
                   domain::reply<domain::page<domain::attendee>>>,
    caf::reacts_to<create_atom, std::int64_t, domain::ticket_type_draft, domain::origin,
                   domain::reply<domain::ticket_type_view>>,
    caf::reacts_to<find_atom, std::int64_t, std::int64_t, domain::reply<domain::ticket_type_view>>,
    caf::reacts_to<update_atom, std::int64_t, std::int64_t, domain::ticket_type_draft,
                   domain::origin, domain::reply<domain::ticket_type_view>>,
    caf::reacts_to<delete_atom, std::int64_t, std::int64_t, domain::origin,
                   domain::reply<domain::unit>>>;

struct events_deps {
  db_pool_actor db_pool;
  listing_cache_actor cache;
  broadcaster cluster;
};

events_actor spawn_events(caf::actor_system& sys, events_deps deps, const service_options& options);

/// domain::event_service: listing hits straight from the board (no thread hop), everything else
/// as messages to an events actor.
class events_service final : public domain::event_service {
 public:
  events_service(events_actor actor, listing_cache_actor cache,
                 std::shared_ptr<const listing_board> board)
      : actor_(std::move(actor)), cache_(std::move(cache)), board_(std::move(board)) {}

  std::optional<domain::rendered_page> fresh_listing(const domain::event_query& query) override;
  void list_events(domain::event_query query, domain::reply<domain::rendered_page> done) override;
  void find_event(std::int64_t id, domain::reply<domain::event> done) override;
  void create_event(domain::event_draft draft, domain::origin by,
                    domain::reply<domain::event> done) override;
  void update_event(std::int64_t id, domain::event_draft draft, domain::origin by,
                    domain::reply<domain::event> done) override;
  void delete_event(std::int64_t id, domain::origin by, domain::reply<domain::unit> done) override;
  void list_attendees(std::int64_t event_id, domain::page_request paging,
                      domain::reply<domain::page<domain::attendee>> done) override;
  void create_ticket_type(std::int64_t event_id, domain::ticket_type_draft draft, domain::origin by,
                          domain::reply<domain::ticket_type_view> done) override;
  void find_ticket_type(std::int64_t event_id, std::int64_t type_id,
                        domain::reply<domain::ticket_type_view> done) override;
  void update_ticket_type(std::int64_t event_id, std::int64_t type_id,
                          domain::ticket_type_draft draft, domain::origin by,
                          domain::reply<domain::ticket_type_view> done) override;
  void delete_ticket_type(std::int64_t event_id, std::int64_t type_id, domain::origin by,
                          domain::reply<domain::unit> done) override;

 private:
  events_actor actor_;
  listing_cache_actor cache_;
  std::shared_ptr<const listing_board> board_;
};

} // namespace eventhub::actors
