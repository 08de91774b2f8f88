// The tickets actor. It owns nothing but its handles and the key sealer (immutable, shared with
// the DB workers): every ticket's state is in PostgreSQL, changed only under its row lock.
#include "actors/services/tickets.hpp"

#include "actors/services/boundary.hpp"
#include "actors/services/ticket_work.hpp"
#include "observability/metrics.hpp"
#include "persistence/purchase_repository.hpp"
#include "persistence/ticket_repository.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace eventhub::actors {
namespace {

namespace tickets_db = persistence::tickets;

struct tickets_state {
  tickets_deps deps;
  service_options options;
};

using tickets_pointer = tickets_actor::stateful_pointer<tickets_state>;

/// Scans by result (eventhub_checkins_total).
void count(const std::vector<domain::scan_outcome>& outcomes) {
  for (const auto& o : outcomes)
    metrics::registry::global()
        .get_counter("eventhub_checkins_total", "Ticket scans by result",
                     {{"result", domain::to_string(o.result)}})
        .inc();
}

/// A check-in with a scan id that another transaction stored meanwhile (the unique index) is
/// decided again, and then answers that check-in.
ticket_work::checkin_result check_in_retrying(persistence::session& s, std::int64_t event_id,
                                              const std::vector<domain::scan>& scans,
                                              const security::key_sealer& sealer,
                                              std::chrono::milliseconds redelivery_delay,
                                              const domain::origin& by) {
  for (int attempt = 1;; ++attempt) {
    try {
      return s.transact([&](persistence::tx& t) {
        return ticket_work::check_in(t, event_id, scans, sealer, redelivery_delay, domain::now(),
                                     by);
      });
    } catch (const pqxx::unique_violation&) {
      if (attempt == 3)
        throw persistence::db_unavailable("scan ids contended");
    }
  }
}

void on_check_in(tickets_pointer self, std::int64_t event_id, std::vector<domain::scan>& scans,
                 domain::origin& by, domain::reply<std::vector<domain::scan_outcome>>& done) {
  auto& st = self->state;
  auto job = make_db_job<ticket_work::checkin_result>(
      due_in(st.options.request_timeout),
      [event_id, scans = std::move(scans), by = std::move(by), sealer = st.deps.sealer,
       delay = st.options.redelivery_delay](persistence::session& s) {
        try {
          return domain::result<ticket_work::checkin_result>(
              check_in_retrying(s, event_id, scans, *sealer, delay, by));
        } catch (const persistence::refused& r) {
          return domain::result<ticket_work::checkin_result>(r.error);
        }
      });
  ask_db<ticket_work::checkin_result>(self, st.deps.db_pool, std::move(job),
                                      [self, done](domain::result<ticket_work::checkin_result> r) {
                                        if (!r.ok()) {
                                          done(r.err());
                                          return;
                                        }
                                        count(r->outcomes);
                                        if (!r->notifications.empty())
                                          self->send(
                                              self->state.deps.notifier, notify_atom::value,
                                              notification_list{std::move(r->notifications)});
                                        done(std::move(r->outcomes));
                                      });
}

/// A ticket or tickets shown to `caller`: their own, or any to an ADMIN; codes signed.
bool shown_to(const domain::principal& caller, std::int64_t owner) {
  return caller.role == domain::role::admin || caller.id == owner;
}

tickets_actor::behavior_type tickets_behavior(tickets_pointer self, tickets_deps deps,
                                              service_options options) {
  self->state.deps = std::move(deps);
  self->state.options = options;
  auto pool = [self] { return self->state.deps.db_pool; };
  auto timeout = [self] { return self->state.options.request_timeout; };
  auto sealer = self->state.deps.sealer;
  return {
      [=](tickets_of_atom, std::int64_t purchase_id, domain::principal caller,
          domain::reply<std::vector<domain::ticket>>& done) {
        serve_tx(
            self, pool(), timeout(),
            [purchase_id, caller, sealer](persistence::tx& t) {
              auto p = persistence::purchases::find(t, purchase_id);
              if (!p || !shown_to(caller, p->participant_id))
                throw persistence::refused{
                    domain::make_error(domain::error_code::not_found, "No purchase with this id.")};
              auto tickets = tickets_db::of_purchase(t, purchase_id);
              ticket_work::sign(t, tickets, *sealer);
              return tickets;
            },
            done);
      },
      [=](my_tickets_atom, std::int64_t participant_id, std::int64_t event_id,
          domain::page_request paging, domain::reply<domain::page<domain::ticket>>& done) {
        serve_tx(
            self, pool(), timeout(),
            [participant_id, event_id, paging, sealer](persistence::tx& t) {
              auto page = tickets_db::of_participant(
                  t, participant_id,
                  event_id > 0 ? std::optional<std::int64_t>(event_id) : std::nullopt, paging);
              ticket_work::sign(t, page.items, *sealer);
              return page;
            },
            done);
      },
      [=](find_atom, std::int64_t id, domain::principal caller,
          domain::reply<domain::ticket>& done) {
        serve_tx(
            self, pool(), timeout(),
            [id, caller, sealer](persistence::tx& t) {
              auto ticket = tickets_db::find(t, id);
              if (ticket && !shown_to(caller, ticket->participant_id))
                ticket.reset(); // someone else's ticket does not exist for this caller
              if (ticket) {
                std::vector<domain::ticket> one{std::move(*ticket)};
                ticket_work::sign(t, one, *sealer);
                ticket = std::move(one[0]);
              }
              return found(std::move(ticket), "ticket");
            },
            done);
      },
      [=](checkin_key_atom, std::int64_t event_id, domain::reply<domain::checkin_key>& done) {
        serve_tx(
            self, pool(), timeout(),
            [event_id, sealer](persistence::tx& t) {
              auto key = ticket_work::key_for(t, event_id, *sealer);
              std::optional<domain::checkin_key> out;
              if (key)
                out = domain::checkin_key{security::base64url(key->public_key)};
              return found(std::move(out), "event");
            },
            done);
      },
      [=](check_in_atom, std::int64_t event_id, std::vector<domain::scan>& scans,
          domain::origin& by, domain::reply<std::vector<domain::scan_outcome>>& done) {
        on_check_in(self, event_id, scans, by, done);
      },
      [=](checkin_stats_atom, std::int64_t event_id, domain::reply<domain::checkin_stats>& done) {
        serve_tx(
            self, pool(), timeout(),
            [event_id](persistence::tx& t) {
              return found(tickets_db::stats(t, event_id), "event");
            },
            done);
      },
  };
}

} // namespace

tickets_actor spawn_tickets(caf::actor_system& sys, tickets_deps deps,
                            const service_options& options) {
  return sys.spawn(tickets_behavior, std::move(deps), options);
}

void tickets_service::purchase_tickets(std::int64_t purchase_id, domain::principal caller,
                                       domain::reply<std::vector<domain::ticket>> done) {
  caf::anon_send(actor_, tickets_of_atom::value, purchase_id, caller, std::move(done));
}

void tickets_service::list_tickets(std::int64_t participant_id,
                                   std::optional<std::int64_t> event_id,
                                   domain::page_request paging,
                                   domain::reply<domain::page<domain::ticket>> done) {
  caf::anon_send(actor_, my_tickets_atom::value, participant_id, event_id.value_or(0), paging,
                 std::move(done));
}

void tickets_service::find_ticket(std::int64_t id, domain::principal caller,
                                  domain::reply<domain::ticket> done) {
  caf::anon_send(actor_, find_atom::value, id, caller, std::move(done));
}

void tickets_service::checkin_key(std::int64_t event_id, domain::reply<domain::checkin_key> done) {
  caf::anon_send(actor_, checkin_key_atom::value, event_id, std::move(done));
}

void tickets_service::check_in(std::int64_t event_id, std::vector<domain::scan> scans,
                               domain::origin by,
                               domain::reply<std::vector<domain::scan_outcome>> done) {
  caf::anon_send(actor_, check_in_atom::value, event_id, std::move(scans), std::move(by),
                 std::move(done));
}

void tickets_service::checkin_stats(std::int64_t event_id,
                                    domain::reply<domain::checkin_stats> done) {
  caf::anon_send(actor_, checkin_stats_atom::value, event_id, std::move(done));
}

} // namespace eventhub::actors
