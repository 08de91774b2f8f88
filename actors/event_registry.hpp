// The event registry: finds (or spawns) the event actor serving an event on this node, and in a
// cluster routes each purchase to the event's owner node.
//
// Protocol (event_registry_actor):
//   (purchase_atom, purchase_command) -> purchase_answer   route and sell
//   (event_changed_atom, event_id)           an admin wrote the event: its actor forgets its memo
//   (members_atom, self name, live members)  the cluster node's view changed
//   (idle_atom, event_id, received)          an event actor is idle (passivation handshake)
//   (forget_keys_atom)                       internal: the timer that deletes old internal keys
#pragma once

#include "actors/event_actor.hpp"
#include "actors/wire.hpp"

#include <caf/fwd.hpp>

#include <string>
#include <vector>

namespace eventhub::actors {

using event_registry_actor =
    purchase_handler::extend<caf::reacts_to<event_changed_atom, std::int64_t>,
                             caf::reacts_to<members_atom, std::string, std::vector<member_entry>>,
                             caf::reacts_to<idle_atom, std::int64_t, std::uint64_t>,
                             caf::reacts_to<forget_keys_atom>>;

struct registry_deps {
  db_pool_actor db_pool;
  confirmation_sink notifier;
  batch_committer commit; // handed to every event actor (empty: the real transaction)
};

event_registry_actor spawn_event_registry(caf::actor_system& sys, const registry_deps& deps,
                                          const event_actor_options& options,
                                          const registry_options& routing);

} // namespace eventhub::actors
