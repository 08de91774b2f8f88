// The notifier: delivers every notification of the outboxes (purchase confirmations, and the
// lifecycle notifications: purchase.cancelled, hold.expired, waitlist.offered,
// ticket.checked_in) at least once: a log line each, then, in the transaction that deletes the
// outbox row, one webhook message per endpoint that wants the type (the fan-out). Each enabled
// endpoint has a deliverer (webhook_deliverer.hpp) that POSTs its messages.
//
// Protocol (notifier_actor):
//   (notify_atom, confirmation_list)   deliver these confirmations now (sent after a commit)
//   (notify_atom, notification_list)   deliver these notifications now (sent after a commit)
//   (endpoints_atom)                   the endpoints changed (POST/DELETE /api/webhooks): reload
// It also sweeps the outboxes for rows left undelivered (crash, database down) and reloads the
// endpoints (other nodes' changes) every sweep interval, starting at once. Internal: sweep_atom
// (sweep again now: the last one was full), sweep_tick_atom (the sweep timer), forget_atom (fan
// delivered rows out, batched).
#pragma once

#include "actors/atoms.hpp"
#include "actors/db_pool.hpp"
#include "actors/options.hpp"
#include "domain/model.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <memory>
#include <vector>

namespace eventhub::security {
class key_sealer;
}

namespace eventhub::actors {

struct confirmation_list {
  std::vector<domain::confirmation> items;
};

struct notification_list {
  std::vector<domain::notification> items;
};

/// What the notifier accepts from others: event actors, lock-per-request purchases, the sweep.
using confirmation_sink = caf::typed_actor<caf::reacts_to<notify_atom, confirmation_list>,
                                           caf::reacts_to<notify_atom, notification_list>>;

using notifier_actor =
    confirmation_sink::extend<caf::reacts_to<endpoints_atom>, caf::reacts_to<sweep_atom>,
                              caf::reacts_to<sweep_tick_atom>, caf::reacts_to<forget_atom>>;

/// `sealer` opens the endpoints' secrets (and seals the configured one's).
notifier_actor spawn_notifier(caf::actor_system& sys, db_pool_actor db_pool,
                              std::shared_ptr<const security::key_sealer> sealer,
                              const notifier_options& options);

} // namespace eventhub::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::confirmation_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::notification_list)
