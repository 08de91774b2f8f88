// The cluster node actor (single-node form). Owns the member list; broadcasts invalidations to
// every member's listing cache and event registry and runs the writer's callback once all have
// acknowledged, so an admin who reads right after a write sees it on every node.
#include "actors/cluster.hpp"

#include "actors/messages.hpp"
#include "observability/log.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

namespace eventhub::actors {
namespace {

struct cluster_state {
  cluster_options options;
  caf::actor cache, registry;
};

using cluster_actor = caf::stateful_actor<cluster_state>;

/// Invalidates this node's cache and event actor, then runs `done`.
void invalidate_locally(cluster_actor* self, std::int64_t event_id, std::function<void()> done) {
  auto& st = self->state;
  if (event_id > 0)
    self->send(st.registry, refresh_atom::value, event_id);
  self->request(st.cache, st.options.broadcast_timeout, invalidate_atom::value)
      .then([done](invalidate_atom) { done(); },
            [done](caf::error&) {
              log::warn("cluster.invalidate_timeout");
              done();
            });
}

caf::behavior cluster_behavior(cluster_actor* self, caf::actor cache, caf::actor registry,
                               cluster_options options) {
  self->state.options = std::move(options);
  self->state.cache = std::move(cache);
  self->state.registry = std::move(registry);
  return {
      [=](invalidate_atom, invalidation& inv) {
        invalidate_locally(self, inv.event_id, std::move(inv.done));
      },
      [=](view_atom, member_reply& reply) { reply({}); },
  };
}

} // namespace

caf::actor spawn_cluster_node(caf::actor_system& sys, caf::actor cache, caf::actor registry,
                              const cluster_options& options) {
  return sys.spawn(cluster_behavior, std::move(cache), std::move(registry), options);
}

} // namespace eventhub::actors
