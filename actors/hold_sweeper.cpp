// The hold sweeper. Owns only its timer; what it expires is decided in PostgreSQL under each
// event's row lock (see hold_sweeper.hpp).
#include "actors/hold_sweeper.hpp"

#include "actors/db_request.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "persistence/hold_repository.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace eventhub::actors {
namespace {

/// Events expired per sweep; more wait for the next one.
constexpr int events_per_sweep = 200;

struct sweeper_state {
  db_pool_actor db_pool;
  confirmation_sink notifier;
  hold_sweeper_options options;
};

using sweeper_pointer = hold_sweeper_actor::stateful_pointer<sweeper_state>;

void sweep(sweeper_pointer self) {
  auto& st = self->state;
  auto job = make_db_job<std::vector<domain::notification>>(
      std::chrono::steady_clock::now() +
          std::max(st.options.interval, std::chrono::milliseconds{1000}),
      [offers = persistence::waitlist::offer_settings{st.options.offer_ttl, {}}](
          persistence::session& s) {
        return persistence::holds::sweep(s, events_per_sweep, offers);
      });
  ask_db<std::vector<domain::notification>>(
      self, st.db_pool, std::move(job),
      [self](domain::result<std::vector<domain::notification>> expired) {
        if (expired.ok() && !expired->empty()) {
          static auto& swept = metrics::registry::global().get_counter(
              "eventhub_holds_expired_total", "Holds expired, by who expired them",
              {{"by", "sweep"}});
          swept.inc(expired->size());
          log::debug("holds.swept", {{"expired", static_cast<std::int64_t>(expired->size())}});
          self->send(self->state.notifier, notify_atom::value,
                     notification_list{std::move(*expired)});
        }
        self->delayed_send(self, self->state.options.interval, hold_sweep_atom::value);
      });
}

hold_sweeper_actor::behavior_type sweeper_behavior(sweeper_pointer self, db_pool_actor db_pool,
                                                   confirmation_sink notifier,
                                                   hold_sweeper_options options) {
  self->state.db_pool = std::move(db_pool);
  self->state.notifier = std::move(notifier);
  self->state.options = options;
  self->send(self, hold_sweep_atom::value);
  return {
      [=](hold_sweep_atom) { sweep(self); },
  };
}

} // namespace

hold_sweeper_actor spawn_hold_sweeper(caf::actor_system& sys, db_pool_actor db_pool,
                                      confirmation_sink notifier,
                                      const hold_sweeper_options& options) {
  return sys.spawn(sweeper_behavior, std::move(db_pool), std::move(notifier), options);
}

} // namespace eventhub::actors
