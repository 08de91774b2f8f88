// One actor per event (per node): serialises every change of the event's inventory (purchases,
// holds, their confirmations and releases, cancellations, waitlist joins and leaves, hold expiry,
// and the offers to the waitlist they lead to) and commits them in batches.
//
// Protocol (event_actor):
//   (purchase_atom, purchase_command) -> purchase_answer
//        sell, hold, confirm, release, cancel, join or leave (the command's kind), or refuse;
//        answered when the batch holding it committed (or at once when the memo or the deadline
//        refuses it)
//   (expiry_tick_atom, generation)   internal: the timer of the next hold expiry
//   (stock_stale_atom)    an admin changed the event: read its stock again before refusing
//   (passivate_atom)      the registry stopped routing here: exit if nothing is pending
//   (idle_check_atom)     internal: the idle timer
// It tells its registry (idle_atom, event_id, commands received) when idle for idle_timeout.
#pragma once

#include "actors/atoms.hpp"
#include "actors/db_pool.hpp"
#include "actors/notifier.hpp"
#include "actors/options.hpp"
#include "domain/commands.hpp"
#include "domain/result.hpp"
#include "persistence/purchase_repository.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <functional>
#include <vector>

namespace eventhub::actors {

struct purchase_command {
  domain::purchase_request request;
  deadline due; // the asker stops waiting then
  /// False once forwarded to the owner, or when served here for an unreachable owner: a command
  /// is routed to another node at most once.
  bool route = true;
  /// Whether the event actor may refuse it from its memo; never for a possible replay of a key.
  bool memo_ok = true;
};

using purchase_answer = domain::result<domain::purchase_outcome>;

using purchase_handler =
    caf::typed_actor<caf::replies_to<purchase_atom, purchase_command>::with<purchase_answer>>;

using event_actor =
    purchase_handler::extend<caf::reacts_to<stock_stale_atom>, caf::reacts_to<passivate_atom>,
                             caf::reacts_to<idle_check_atom>,
                             caf::reacts_to<expiry_tick_atom, std::uint64_t>>;

/// The registry as an event actor sees it.
using idle_listener = caf::typed_actor<caf::reacts_to<idle_atom, std::int64_t, std::uint64_t>>;

/// The batch transaction (persistence::purchases::commit_batch; tests put their own).
using batch_committer = std::function<persistence::purchases::batch_outcome(
    persistence::session&, std::int64_t event_id, const std::vector<domain::purchase_request>&,
    std::chrono::milliseconds redelivery_delay, const std::vector<deadline>& answer_by,
    bool expire_first, std::chrono::milliseconds offer_ttl)>;

struct event_actor_deps {
  idle_listener registry;
  db_pool_actor db_pool;
  confirmation_sink notifier;
  batch_committer commit; // empty: persistence::purchases::commit_batch
};

event_actor spawn_event_actor(caf::actor_system& sys, std::int64_t event_id,
                              const event_actor_deps& deps, const event_actor_options& options);

} // namespace eventhub::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::purchase_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::purchase_answer)
