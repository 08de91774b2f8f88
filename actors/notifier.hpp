// The notifier: delivers purchase confirmations and lifecycle notifications (hold.expired) from
// their outboxes, at least once.
//
// Protocol (notifier_actor):
//   (notify_atom, confirmation_list)   deliver these confirmations now (sent after a commit)
//   (notify_atom, notification_list)   deliver these notifications now (sent after a commit)
// It also sweeps the outbox for rows left undelivered (crash, webhook down) every sweep
// interval, starting at once. Internal: sweep_atom (sweep again now: the last one was full),
// sweep_tick_atom (the sweep timer), forget_atom (delete delivered rows, batched).
#pragma once

#include "actors/atoms.hpp"
#include "actors/db_pool.hpp"
#include "actors/options.hpp"
#include "domain/model.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <vector>

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
    confirmation_sink::extend<caf::reacts_to<sweep_atom>, caf::reacts_to<sweep_tick_atom>,
                              caf::reacts_to<forget_atom>>;

/// The delay before the next attempt of a delivery that failed `attempts` times: doubling from
/// 1 s, capped at `retry_max`.
std::chrono::milliseconds retry_backoff(std::chrono::milliseconds retry_max, int attempts);

notifier_actor spawn_notifier(caf::actor_system& sys, db_pool_actor db_pool,
                              const notifier_options& options);

} // namespace eventhub::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::confirmation_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::notification_list)
