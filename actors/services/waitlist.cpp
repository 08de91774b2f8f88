// The waitlist actor. Owns nothing but its handles: a join or leave is one request to the
// seller, whose event actor decides it under the event's row lock; the reads are plain reads.
#include "actors/services/waitlist.hpp"

#include "actors/db_request.hpp"
#include "actors/services/seller.hpp"
#include "observability/metrics.hpp"
#include "persistence/waitlist_repository.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace eventhub::actors {
namespace {

namespace waitlist_db = persistence::waitlist;

/// Joins and leaves by outcome (eventhub_waitlist_total).
void count_step(domain::order_kind kind, const purchase_answer& a) {
  const char* step = kind == domain::order_kind::join ? "join" : "leave";
  const char* outcome = a.ok()                                            ? "ok"
                        : a.err().code == domain::error_code::unavailable ? "unavailable"
                                                                          : "refused";
  metrics::registry::global()
      .get_counter("eventhub_waitlist_total", "Waitlist joins and leaves by outcome",
                   {{"step", step}, {"outcome", outcome}})
      .inc();
}

struct waitlist_state {
  waitlist_deps deps;
  service_options options;

  deadline due() const { return due_in(options.request_timeout); }
};

using waitlist_pointer = waitlist_actor::stateful_pointer<waitlist_state>;

void to_seller(waitlist_pointer self, domain::purchase_request req,
               domain::reply<domain::purchase_outcome> done) {
  const auto kind = req.kind;
  purchase_command cmd;
  cmd.memo_ok = false; // the memo decides only purchases and holds
  cmd.request = std::move(req);
  cmd.due = self->state.due();
  ask_seller(self, self->state.deps.seller, std::move(cmd), "The waitlist request timed out.",
             [done, kind](purchase_answer a) {
               count_step(kind, a);
               done(std::move(a));
             });
}

/// Reads the entry first for its event (which routes the command) and owner: anyone else's
/// entry does not exist for the caller.
void on_leave(waitlist_pointer self, domain::purchase_request& req, domain::principal caller,
              domain::reply<domain::purchase_outcome>& done) {
  auto job = make_tx_job<domain::waitlist_entry>(self->state.due(),
                                                 [id = req.entry_id, caller](persistence::tx& t) {
                                                   auto e = waitlist_db::find(t, id);
                                                   if (e && e->participant_id != caller.id)
                                                     e.reset();
                                                   return found(std::move(e), "waitlist entry");
                                                 });
  req.kind = domain::order_kind::leave;
  req.participant_id = caller.id;
  ask_db<domain::waitlist_entry>(
      self, self->state.deps.db_pool, std::move(job),
      [self, req, done](domain::result<domain::waitlist_entry> e) mutable {
        if (!e.ok()) {
          done(e.err());
          return;
        }
        req.event_id = e->event_id;
        to_seller(self, std::move(req), std::move(done));
      });
}

waitlist_actor::behavior_type waitlist_behavior(waitlist_pointer self, waitlist_deps deps,
                                                service_options options) {
  self->state.deps = std::move(deps);
  self->state.options = options;
  auto pool = [self] { return self->state.deps.db_pool; };
  auto timeout = [self] { return self->state.options.request_timeout; };
  return {
      [=](purchase_atom, domain::purchase_request& req,
          domain::reply<domain::purchase_outcome>& done) {
        req.kind = domain::order_kind::join;
        to_seller(self, std::move(req), std::move(done));
      },
      [=](leave_atom, domain::purchase_request& req, domain::principal caller,
          domain::reply<domain::purchase_outcome>& done) { on_leave(self, req, caller, done); },
      [=](find_atom, std::int64_t id, domain::principal caller,
          domain::reply<domain::waitlist_entry>& done) {
        serve_tx(
            self, pool(), timeout(),
            [id, caller](persistence::tx& t) {
              auto e = waitlist_db::find(t, id);
              if (e && caller.role != domain::role::admin && e->participant_id != caller.id)
                e.reset(); // someone else's entry does not exist for this caller
              return found(std::move(e), "waitlist entry");
            },
            done);
      },
      [=](entries_of_atom, std::int64_t participant_id, domain::page_request paging,
          domain::reply<domain::page<domain::waitlist_entry>>& done) {
        serve_tx(
            self, pool(), timeout(),
            [participant_id, paging](persistence::tx& t) {
              return waitlist_db::list_of(t, participant_id, paging);
            },
            done);
      },
      [=](event_entries_atom, std::int64_t event_id, domain::page_request paging,
          domain::reply<domain::page<domain::waitlist_entry>>& done) {
        serve_tx(
            self, pool(), timeout(),
            [event_id, paging](persistence::tx& t) {
              return found(waitlist_db::list_of_event(t, event_id, paging), "event");
            },
            done);
      },
  };
}

} // namespace

waitlist_actor spawn_waitlist(caf::actor_system& sys, waitlist_deps deps,
                              const service_options& options) {
  return sys.spawn(waitlist_behavior, std::move(deps), options);
}

void waitlist_service::join_waitlist(domain::purchase_request req,
                                     domain::reply<domain::purchase_outcome> done) {
  caf::anon_send(actor_, purchase_atom::value, std::move(req), std::move(done));
}

void waitlist_service::leave_waitlist(domain::purchase_request req, domain::principal caller,
                                      domain::reply<domain::purchase_outcome> done) {
  caf::anon_send(actor_, leave_atom::value, std::move(req), caller, std::move(done));
}

void waitlist_service::find_entry(std::int64_t id, domain::principal caller,
                                  domain::reply<domain::waitlist_entry> done) {
  caf::anon_send(actor_, find_atom::value, id, caller, std::move(done));
}

void waitlist_service::list_entries_of(std::int64_t participant_id, domain::page_request paging,
                                       domain::reply<domain::page<domain::waitlist_entry>> done) {
  caf::anon_send(actor_, entries_of_atom::value, participant_id, paging, std::move(done));
}

void waitlist_service::list_event_entries(
    std::int64_t event_id, domain::page_request paging,
    domain::reply<domain::page<domain::waitlist_entry>> done) {
  caf::anon_send(actor_, event_entries_atom::value, event_id, paging, std::move(done));
}

} // namespace eventhub::actors
