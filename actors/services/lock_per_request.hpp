// Lock-per-request: the classic design, kept to measure what the event actors buy
// (purchase.mode = lock-per-request). Every purchase is its own FOR UPDATE transaction on the
// DB pool; nothing is batched and nothing is remembered.
//
// Protocol: purchase_handler, like the event registry:
//   (purchase_atom, purchase_command) -> purchase_answer
#pragma once

#include "actors/event_actor.hpp"
#include "actors/notifier.hpp"

#include <caf/fwd.hpp>

#include <chrono>

namespace eventhub::actors {

purchase_handler spawn_lock_per_request(caf::actor_system& sys, db_pool_actor db_pool,
                                        confirmation_sink notifier,
                                        std::chrono::milliseconds redelivery_delay,
                                        std::chrono::milliseconds offer_ttl);

} // namespace eventhub::actors
