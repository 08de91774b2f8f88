// One actor per event (per node): serialises the event's purchases and commits them in batches.
#pragma once

#include <caf/fwd.hpp>

#include <chrono>
#include <cstdint>

namespace eventhub::actors {

struct event_actor_options {
  int batch_max = 512;
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds redelivery_delay{10000}; // outbox sweeper waits this long
};

/// `registry` is told when the actor has been idle for `idle_timeout` (see event_registry.cpp).
caf::actor spawn_event_actor(caf::actor_system& sys, std::int64_t event_id, caf::actor registry,
                             caf::actor db_pool, caf::actor notifier,
                             const event_actor_options& options);

} // namespace eventhub::actors
