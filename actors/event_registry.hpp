// The event registry: finds (or spawns) the event actor serving an event on this node.
#pragma once

#include "actors/event_actor.hpp"

#include <caf/fwd.hpp>

namespace eventhub::actors {

/// Send it `purchase_atom, purchase_command` and `refresh_atom, event_id`.
caf::actor spawn_event_registry(caf::actor_system& sys, caf::actor db_pool, caf::actor notifier,
                                const event_actor_options& options);

} // namespace eventhub::actors
