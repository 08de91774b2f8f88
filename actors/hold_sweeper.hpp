// The hold sweeper: expires holds that no running event actor expires (the event's actor was
// passivated, or its owner node died), so that every hold is marked EXPIRED, its tickets freed
// (and offered to the event's waitlist in the same transaction) and hold.expired emitted within
// hold.sweep-interval of its expiresAt, whichever node runs.
//
// Protocol (hold_sweeper_actor):
//   (hold_sweep_atom)   internal: the sweep timer, every hold.sweep-interval
// Every node runs one. Sweeps of several nodes, and the event actors' own expiry, never expire
// a hold twice: each event is expired under its row lock (taken with SKIP LOCKED: an event whose
// lock a batch holds is left to that batch, which expires due holds first) by a conditional
// update on status = 'HELD' (persistence/hold_repository.hpp).
#pragma once

#include "actors/atoms.hpp"
#include "actors/db_pool.hpp"
#include "actors/notifier.hpp"
#include "actors/options.hpp"

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>

namespace eventhub::actors {

using hold_sweeper_actor = caf::typed_actor<caf::reacts_to<hold_sweep_atom>>;

hold_sweeper_actor spawn_hold_sweeper(caf::actor_system& sys, db_pool_actor db_pool,
                                      confirmation_sink notifier,
                                      const hold_sweeper_options& options);

} // namespace eventhub::actors
