// The lock-per-request seller. Owns nothing: each purchase is a DB job of its own, so up to the
// pool's size run at once and queue on the event's row lock in PostgreSQL.
#include "actors/services/lock_per_request.hpp"

#include "actors/db_request.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace eventhub::actors {
namespace {

namespace purchases = persistence::purchases;

purchase_handler::behavior_type lock_per_request(purchase_handler::pointer self,
                                                 db_pool_actor db_pool, confirmation_sink notifier,
                                                 std::chrono::milliseconds redelivery_delay,
                                                 std::chrono::milliseconds offer_ttl) {
  return {
      [=](purchase_atom, purchase_command& cmd) -> caf::result<purchase_answer> {
        auto rp = self->make_response_promise<purchase_answer>();
        auto job = make_db_job<purchases::batch_outcome>(
            cmd.due, [req = cmd.request, due = cmd.due, redelivery_delay,
                      offer_ttl](persistence::session& s) {
              return purchases::commit_batch(s, req.event_id, {req}, redelivery_delay, {due}, true,
                                             offer_ttl);
            });
        ask_db<purchases::batch_outcome>(
            self, db_pool, std::move(job),
            [self, rp, notifier](domain::result<purchases::batch_outcome> r) mutable {
              if (!r.ok()) {
                rp.deliver(purchase_answer(r.err()));
                return;
              }
              if (!r->confirmations.empty())
                self->send(notifier, notify_atom::value,
                           confirmation_list{std::move(r->confirmations)});
              if (!r->notifications.empty())
                self->send(notifier, notify_atom::value,
                           notification_list{std::move(r->notifications)});
              rp.deliver(std::move(r->results.front()));
            });
        return rp;
      },
  };
}

} // namespace

purchase_handler spawn_lock_per_request(caf::actor_system& sys, db_pool_actor db_pool,
                                        confirmation_sink notifier,
                                        std::chrono::milliseconds redelivery_delay,
                                        std::chrono::milliseconds offer_ttl) {
  return sys.spawn(lock_per_request, std::move(db_pool), std::move(notifier), redelivery_delay,
                   offer_ttl);
}

} // namespace eventhub::actors
