// The event registry: finds (or spawns) the event actor serving an event on this node.
#pragma once

#include "actors/event_actor.hpp"

#include <caf/fwd.hpp>

namespace eventhub::actors {

struct registry_options {
  bool cluster = false;
  std::chrono::milliseconds forward_timeout{3000}; // then the purchase is served here
};

/// Send it `purchase_atom, purchase_command`, `refresh_atom, event_id`, and (from the cluster
/// node) `members_atom, self_name, live members`.
caf::actor spawn_event_registry(caf::actor_system& sys, caf::actor db_pool, caf::actor notifier,
                                const event_actor_options& options,
                                const registry_options& routing);

} // namespace eventhub::actors
