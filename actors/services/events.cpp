// The events actor. Owns no state: each call is a request to the listing cache or the DB pool,
// and an admin write is answered only after the cluster node acknowledged its broadcast, so the
// writer's next listing (on any node) never shows data from before the write.
#include "actors/services/events.hpp"

#include "persistence/event_repository.hpp"
#include "persistence/ticket_type_repository.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace eventhub::actors {
namespace {

namespace events_db = persistence::events;
namespace types_db = persistence::ticket_types;

struct events_state {
  events_deps deps;
  service_options options;

  deadline due() const { return due_in(options.request_timeout); }
  /// Admin edits end with the waitlist's offer step; the outbox sweeper delivers its rows.
  persistence::waitlist::offer_settings offers() const { return {options.offer_ttl, {}}; }
};

using events_pointer = events_actor::stateful_pointer<events_state>;

/// The id of the event a write touched: the one named, or the one it created.
std::int64_t written_id(std::int64_t named, const domain::event& e) {
  return named > 0 ? named : e.id;
}
std::int64_t written_id(std::int64_t named, const domain::unit&) {
  return named;
}
std::int64_t written_id(std::int64_t named, const domain::ticket_type_view&) {
  return named;
}

/// Runs an admin write; once committed, every node learns of it before `done` answers (a
/// broadcast that timed out still answers: the write is committed either way).
template <class T>
void write_then_broadcast(events_pointer self, std::int64_t event_id, db_job job,
                          domain::reply<T> done) {
  ask_db<T>(
      self, self->state.deps.db_pool, std::move(job), [self, event_id, done](domain::result<T> r) {
        if (!r.ok())
          return done(std::move(r));
        const auto id = written_id(event_id, *r);
        self->request(self->state.deps.cluster, self->state.options.request_timeout,
                      broadcast_atom::value, id)
            .then([done, r](invalidated_atom) { done(r); }, [done, r](caf::error&) { done(r); });
      });
}

events_actor::behavior_type events_behavior(events_pointer self, events_deps deps,
                                            service_options options) {
  self->state.deps = std::move(deps);
  self->state.options = options;
  auto pool = [self] { return self->state.deps.db_pool; };
  return {
      [=](list_atom, domain::event_query& query, domain::reply<domain::rendered_page>& done) {
        self->request(self->state.deps.cache, self->state.options.request_timeout, list_atom::value,
                      std::move(query))
            .then([done](listing_answer& page) { done(std::move(page)); },
                  [done](caf::error&) {
                    done(domain::unavailable("The listing did not answer in time."));
                  });
      },
      [=](find_atom, std::int64_t id, domain::reply<domain::event>& done) {
        serve_tx(
            self, pool(), self->state.options.request_timeout,
            [id](persistence::tx& t) { return found(events_db::find(t, id), "event"); }, done);
      },
      [=](create_atom, domain::event_draft& draft, domain::origin& by,
          domain::reply<domain::event>& done) {
        auto job = make_tx_job<domain::event>(self->state.due(), [draft, by](persistence::tx& t) {
          return events_db::insert(t, draft, by);
        });
        write_then_broadcast<domain::event>(self, 0, std::move(job), done);
      },
      [=](update_atom, std::int64_t id, domain::event_draft& draft, domain::origin& by,
          domain::reply<domain::event>& done) {
        auto job = make_tx_job<domain::event>(
            self->state.due(), [id, draft, by, offers = self->state.offers()](persistence::tx& t) {
              return events_db::update(t, id, draft, offers, by);
            });
        write_then_broadcast<domain::event>(self, id, std::move(job), done);
      },
      [=](delete_atom, std::int64_t id, domain::origin& by, domain::reply<domain::unit>& done) {
        auto job = make_tx_job<domain::unit>(self->state.due(), [id, by](persistence::tx& t) {
          return events_db::remove(t, id, by);
        });
        write_then_broadcast<domain::unit>(self, id, std::move(job), done);
      },
      [=](attendees_atom, std::int64_t id, domain::page_request paging,
          domain::reply<domain::page<domain::attendee>>& done) {
        serve_tx(
            self, pool(), self->state.options.request_timeout,
            [id, paging](persistence::tx& t) { return events_db::attendees(t, id, paging); }, done);
      },
      [=](create_atom, std::int64_t event_id, domain::ticket_type_draft& draft, domain::origin& by,
          domain::reply<domain::ticket_type_view>& done) {
        auto job = make_tx_job<domain::ticket_type_view>(
            self->state.due(),
            [event_id, draft, by, offers = self->state.offers()](persistence::tx& t) {
              return types_db::create(t, event_id, draft, offers, by);
            });
        write_then_broadcast<domain::ticket_type_view>(self, event_id, std::move(job), done);
      },
      [=](find_atom, std::int64_t event_id, std::int64_t type_id,
          domain::reply<domain::ticket_type_view>& done) {
        serve_tx(
            self, pool(), self->state.options.request_timeout,
            [event_id, type_id](persistence::tx& t) {
              return types_db::find(t, event_id, type_id);
            },
            done);
      },
      [=](update_atom, std::int64_t event_id, std::int64_t type_id,
          domain::ticket_type_draft& draft, domain::origin& by,
          domain::reply<domain::ticket_type_view>& done) {
        auto job = make_tx_job<domain::ticket_type_view>(
            self->state.due(),
            [event_id, type_id, draft, by, offers = self->state.offers()](persistence::tx& t) {
              return types_db::update(t, event_id, type_id, draft, offers, by);
            });
        write_then_broadcast<domain::ticket_type_view>(self, event_id, std::move(job), done);
      },
      [=](delete_atom, std::int64_t event_id, std::int64_t type_id, domain::origin& by,
          domain::reply<domain::unit>& done) {
        auto job = make_tx_job<domain::unit>(
            self->state.due(),
            [event_id, type_id, by, offers = self->state.offers()](persistence::tx& t) {
              return types_db::remove(t, event_id, type_id, offers, by);
            });
        write_then_broadcast<domain::unit>(self, event_id, std::move(job), done);
      },
  };
}

} // namespace

events_actor spawn_events(caf::actor_system& sys, events_deps deps,
                          const service_options& options) {
  return sys.spawn(events_behavior, std::move(deps), options);
}

std::optional<domain::rendered_page>
events_service::fresh_listing(const domain::event_query& query) {
  bool refresh = false;
  auto page = board_->lookup(query.cache_key(), refresh);
  if (refresh)
    caf::anon_send(cache_, refresh_ahead_atom::value, query);
  return page;
}

void events_service::list_events(domain::event_query query,
                                 domain::reply<domain::rendered_page> done) {
  // The handler asked fresh_listing first: this is a miss, or a page that just went stale.
  caf::anon_send(actor_, list_atom::value, std::move(query), std::move(done));
}

void events_service::find_event(std::int64_t id, domain::reply<domain::event> done) {
  caf::anon_send(actor_, find_atom::value, id, std::move(done));
}

void events_service::create_event(domain::event_draft draft, domain::origin by,
                                  domain::reply<domain::event> done) {
  caf::anon_send(actor_, create_atom::value, std::move(draft), std::move(by), std::move(done));
}

void events_service::update_event(std::int64_t id, domain::event_draft draft, domain::origin by,
                                  domain::reply<domain::event> done) {
  caf::anon_send(actor_, update_atom::value, id, std::move(draft), std::move(by), std::move(done));
}

void events_service::delete_event(std::int64_t id, domain::origin by,
                                  domain::reply<domain::unit> done) {
  caf::anon_send(actor_, delete_atom::value, id, std::move(by), std::move(done));
}

void events_service::list_attendees(std::int64_t event_id, domain::page_request paging,
                                    domain::reply<domain::page<domain::attendee>> done) {
  caf::anon_send(actor_, attendees_atom::value, event_id, paging, std::move(done));
}

void events_service::create_ticket_type(std::int64_t event_id, domain::ticket_type_draft draft,
                                        domain::origin by,
                                        domain::reply<domain::ticket_type_view> done) {
  caf::anon_send(actor_, create_atom::value, event_id, std::move(draft), std::move(by),
                 std::move(done));
}

void events_service::find_ticket_type(std::int64_t event_id, std::int64_t type_id,
                                      domain::reply<domain::ticket_type_view> done) {
  caf::anon_send(actor_, find_atom::value, event_id, type_id, std::move(done));
}

void events_service::update_ticket_type(std::int64_t event_id, std::int64_t type_id,
                                        domain::ticket_type_draft draft, domain::origin by,
                                        domain::reply<domain::ticket_type_view> done) {
  caf::anon_send(actor_, update_atom::value, event_id, type_id, std::move(draft), std::move(by),
                 std::move(done));
}

void events_service::delete_ticket_type(std::int64_t event_id, std::int64_t type_id,
                                        domain::origin by, domain::reply<domain::unit> done) {
  caf::anon_send(actor_, delete_atom::value, event_id, type_id, std::move(by), std::move(done));
}

} // namespace eventhub::actors
