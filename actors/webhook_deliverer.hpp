// One webhook endpoint's deliverer on this node. It owns the endpoint's in-memory queue, its
// attempts in flight and their outcomes not yet stored; nothing else touches them. Its posters
// (notify.endpoint-concurrency detached actors, one HTTP client each) are the only threads that
// wait on the endpoint, so a slow or dead endpoint holds its own posters and never another's,
// and never a purchase (purchases only write the outbox).
//
// Messages live in PostgreSQL (webhook_messages): the deliverer claims its endpoint's due ones
// for a lease (deliverers of other nodes skip them), POSTs each with the Standard Webhooks
// headers, and stores every outcome in batches: the attempt's row, and the message deleted
// (DELIVERED, or FAILED after the retry schedule's last pause) or put off until its next pause.
// A 410 disables the endpoint and stops the deliverer. A crash loses only leases and unstored
// outcomes: the messages are claimed again when their leases end.
//
// Protocol (deliverer_actor):
//   (wake_atom)          messages may be due (a fan-out wrote some, or a retry's time came)
// Internal: deliver_tick_atom (claim every notify.sweep-interval), flush_atom (store outcomes).
#pragma once

#include "actors/atoms.hpp"
#include "actors/db_pool.hpp"
#include "actors/options.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace eventhub::actors {

using deliverer_actor =
    caf::typed_actor<caf::reacts_to<wake_atom>, caf::reacts_to<deliver_tick_atom>,
                     caf::reacts_to<flush_atom>>;

/// An enabled endpoint as its deliverer needs it.
struct webhook_target {
  std::int64_t id = 0;
  std::string url;
  std::string secret; // raw bytes
};

deliverer_actor spawn_deliverer(caf::actor_system& sys, db_pool_actor db_pool,
                                webhook_target target, const delivery_options& options);

/// The pause before retry number `attempt` (1-based) by `schedule`, with ±10 % jitter from
/// `unit` (uniform in [0, 1)), at least `retry_after`; nullopt after the schedule's last.
std::optional<std::chrono::milliseconds>
retry_delay(const std::vector<std::chrono::milliseconds>& schedule, int attempt, double unit,
            std::optional<std::chrono::seconds> retry_after);

} // namespace eventhub::actors
