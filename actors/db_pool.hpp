// The DB pool: a dispatcher actor and N detached worker actors, each owning one connection.
#pragma once

#include "persistence/session.hpp"

#include <caf/fwd.hpp>

namespace eventhub::actors {

struct db_job;

struct db_pool_options {
  persistence::connection_options connection;
  int size = 4;
  int queue_max = 2000;
};

/// Spawns the dispatcher and its workers (linked: they exit with it). Send it `job_atom, db_job`.
caf::actor spawn_db_pool(caf::actor_system& sys, const db_pool_options& options);

/// Hands `job` to the pool from any thread.
void submit(const caf::actor& pool, db_job job);

} // namespace eventhub::actors
