// The audit actor: reads of the log, and its partitions kept ahead of the clock.
#include "actors/services/audit.hpp"

#include "observability/log.hpp"
#include "persistence/audit_repository.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace eventhub::actors {
namespace {

struct audit_state {
  db_pool_actor db_pool;
  audit_options options;
};

using audit_pointer = audit_actor::stateful_pointer<audit_state>;

void ensure_partitions(audit_pointer self) {
  auto& st = self->state;
  auto job = make_tx_job<int>(due_in(st.options.request_timeout),
                              [ahead = st.options.months_ahead](persistence::tx& t) {
                                return persistence::audit::ensure_partitions(t, ahead);
                              });
  ask_db<int>(self, st.db_pool, std::move(job), [](domain::result<int> made) {
    if (!made.ok())
      log::warn("audit.partitions_failed", {{"error", made.err().detail}});
    else if (*made > 0)
      log::info("audit.partitions_made", {{"count", *made}});
  });
  self->delayed_send(self, st.options.partition_check, partitions_atom::value);
}

audit_actor::behavior_type audit_behavior(audit_pointer self, db_pool_actor db_pool,
                                          audit_options options) {
  self->state.db_pool = std::move(db_pool);
  self->state.options = options;
  self->send(self, partitions_atom::value);
  return {
      [=](list_atom, domain::audit_query& query,
          domain::reply<domain::page<domain::audit_entry>>& done) {
        serve_tx(
            self, self->state.db_pool, self->state.options.request_timeout,
            [query](persistence::tx& t) { return persistence::audit::list(t, query); }, done);
      },
      [=](partitions_atom) { ensure_partitions(self); },
  };
}

} // namespace

audit_actor spawn_audit(caf::actor_system& sys, db_pool_actor db_pool, audit_options options) {
  return sys.spawn(audit_behavior, std::move(db_pool), options);
}

void audit_service::list_audit(domain::audit_query query,
                               domain::reply<domain::page<domain::audit_entry>> done) {
  caf::anon_send(actor_, list_atom::value, std::move(query), std::move(done));
}

} // namespace eventhub::actors
