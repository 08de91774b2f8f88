// The retention actor: deletes, on a schedule, the rows nothing needs any more (old login
// failures, purchase idempotency keys past retention.idempotency-keys, finished holds, the
// delivery log of settled webhook messages), in batches, one node at a time. What each kind
// keeps and why: persistence/queries/retention_queries.hpp and docs/operations.md, "Retention".
//
// Protocol (retention_actor):
//   (retention_atom)   internal: its own timer; starts a round at start and retention.interval
//                      after the previous round ended (rounds never overlap)
// A round is one DB pool job per batch, each batch its own transaction under
// pg_try_advisory_xact_lock (persistence/retention_repository.hpp: why per transaction): a kind's
// batches repeat while they come back full, then the next kind; a batch that finds the lock
// taken (another node is at it) ends the round, as does a failed one (database down, pool full:
// the next round tries again). Owns only its timer and the counts of the round in flight; it
// logs retention.deleted per round that deleted something and counts every row in
// eventhub_retention_deleted_total{table}. Every node runs one.
#pragma once

#include "actors/atoms.hpp"
#include "actors/db_pool.hpp"
#include "actors/options.hpp"

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

namespace eventhub::actors {

using retention_actor = caf::typed_actor<caf::reacts_to<retention_atom>>;

retention_actor spawn_retention(caf::actor_system& sys, db_pool_actor db_pool,
                                const retention_options& options);

} // namespace eventhub::actors
